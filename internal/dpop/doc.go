// Package dpop checks DPoP proofs (RFC 9449): the JWTs a client sends in a
// DPoP header to show that it holds the private key its tokens are bound
// to. The authorization server (package grant) checks them at the token
// endpoint, and the resource server's middleware with every request that
// presents a DPoP-bound access token; both use this package, so that a
// proof is judged the same way everywhere.
//
// [Verifier.Verify] applies every check of RFC 9449 §4.3: one DPoP header
// holding one compact JWS; typ dpop+jwt; an asymmetric alg from an
// allow-list; a public jwk (no private parts) of the alg's key type, which
// the signature verifies with; jti, htm, htu and iat present; htm equal to
// the request's method; htu equal to its target URI once both are
// normalised ([NormalizeHTU]); iat within a window; at a resource, ath
// equal to the hash of the access token and the key equal to the one the
// token is bound to; the server's nonce when it asks for one ([Nonces],
// stateless, so that several instances agree); and jti used once within
// the window, in a [ReplayCache] every instance may share. Proofs are
// parsed and verified by go-jose; sizes are bounded before anything is
// parsed.
//
// The package knows nothing of OAuth flows: the caller says what the
// request is ([Request]) and what to do with a refusal.
package dpop
