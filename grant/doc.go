// Package grant turns a Go service into an OAuth 2.0 authorization server: the
// Go form of Flask-OAuthlib's OAuth2Provider, to today's standards (RFC 6749,
// 6750, 7636, 9700).
//
// A [Provider] is built from a [Config] naming its stores (package store) and
// exposes composable http.Handlers that the host mounts on its own mux:
//
//	p, err := grant.NewProvider(grant.Config{
//		Issuer:  "https://auth.example.com",
//		Clients: st, Tokens: st, Users: st,
//	})
//	mux.Handle("POST /oauth/token", p.TokenHandler())
//	mux.Handle("GET /api/data", middleware.RequireOAuth(p, "read")(data))
//
// The Provider is also a middleware.Validator for its own tokens.
//
// # Secure by default
//
// go-oauth2/oauth2 is the protocol engine; this package configures it, wraps
// its Manager and checks requests in front of it so that none of its insecure
// defaults survive: clients authenticate before anything else (their secrets
// are SHA-256 hashes compared in constant time), tokens are 256-bit random
// values kept only as hashes, refresh tokens rotate on every use and a reused
// one revokes its whole grant, scopes never widen on refresh, authorization
// codes are single use and bound to client, redirect URI and PKCE S256
// challenge, parameters are read from the POST body only and never twice,
// password and client-secret guesses are throttled (reserved before a password
// hash, bounded in flight, shared by instances through a store that implements
// store.AttemptCounter; see [Throttle]), and every error carries RFC 6749's code and
// status with Cache-Control: no-store. The password grant, and LoginHandler,
// are off unless the configuration turns them on; the implicit grant does not
// exist.
//
// # Stores that fail
//
// Every store call runs under a deadline and a bound on calls in flight
// ([StoreLimits], Config.Store: 2 seconds, 256 calls per store), so that a
// store that is down, refuses connections or is slow is answered at once
// with 503 temporarily_unavailable and Retry-After, never a hang; the
// outage is logged once when it starts and once when it ends. A reused
// refresh token whose family cannot be revoked is refused (503) and the
// revocation retried. With a store.Exchanger, codes and refresh tokens are
// consumed in the transaction that stores their successors.
//
// # Devices
//
// The device authorization grant (RFC 8628), for TVs and CLIs, is on when
// Config.GrantTypes lists store.GrantDeviceCode: [Provider.DeviceAuthorizationHandler]
// gives devices a device code and a user code, [Provider.DeviceHandler] is the
// verification page where the user types the code, signs in and allows (the
// authorization endpoint's pages and session), and the token endpoint
// answers the device's polls (authorization_pending, slow_down,
// access_denied, expired_token), giving the tokens once. See [Device].
//
// # Clients without shared secrets
//
// A client registered with store.AuthPrivateKeyJWT and its public keys
// (store.Client.JWKS or JWKSURI) authenticates at the token, revocation and
// introspection endpoints with a JWT signed by its private key (RFC 7523
// §2.2, client_assertion_type [AssertionTypeJWTBearer]): checked with
// go-jose against an algorithm allow-list, aud the issuer identifier
// (draft-ietf-oauth-rfc7523bis), a short exp, and a jti used once, in the
// store's store.ReplayCache so that every instance sharing it agrees. Keys
// at a jwks_uri are fetched only from public https addresses. See
// [ClientAuth].
//
// # DPoP
//
// A token request carrying a DPoP proof (RFC 9449) gets token_type DPoP and
// tokens bound to the proof's key: the thumbprint is stored with the access
// token (and with a public client's refresh token, which then needs a proof
// by the same key), carried as cnf.jkt in JWT access tokens and as cnf by
// introspection, and dpop_jkt in an authorization request binds the code.
// [DPoP] in Config requires proofs of every client, or server nonces; a
// client registered with store.Client.DPoPBoundAccessTokens must always
// send one. Proofs are used once: their jti go to the token store's
// store.ReplayCache, which instances sharing PostgreSQL or Redis share.
//
// # OpenID Connect
//
// With [Config.OIDC] on, the Provider is an OpenID Provider on the code flow
// (OpenID Connect Core 1.0, Discovery 1.0, RP-Initiated Logout 1.0): ID
// tokens signed from the one key set ([Config.SigningKeys]; RS256 by
// default, ES256 or EdDSA per client), prompt, max_age, id_token_hint,
// login_hint and nonce at the authorization endpoint, refresh of
// offline_access grants, and three more routes that [Provider.Routes]
// mounts: the discovery document ([Provider.DiscoveryHandler]), UserInfo
// ([Provider.UserInfoHandler], answering from [OIDC.Claims]) and the
// end-session endpoint ([Provider.EndSessionHandler]).
//
// # Several instances
//
// On a shared store, each validation is a round trip to it. With
// [Config.ValidationCache] on, each instance keeps the access tokens it
// validated and answers from memory, following the store's change feed
// (store.ChangeFeed: PostgreSQL LISTEN/NOTIFY, Redis pub/sub) so that a
// revocation made on any instance is refused here within a bound (1 s by
// default), the feed lost or not: the cache sends itself heartbeats through
// the feed and serves only while they come back. [Provider.Close] stops it.
package grant
