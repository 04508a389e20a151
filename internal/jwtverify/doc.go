// Package jwtverify parses and verifies compact JWS tokens (JWTs) and JWK
// sets, through go-jose, under one policy (RFC 8725): an allow-list of
// asymmetric algorithms handed to go-jose, so that "none" and the HMAC
// algorithms never reach a verifier; one spelling per token (canonical
// unpadded base64url, bounded size); no crit header (nor b64, RFC 7797);
// claims decoded by go-jose's JSON (member names case-sensitive, duplicate
// members refused); and key sets reduced to public signature keys, each
// paired with the one algorithm it is used with (RFC 8725 §3.1).
//
// It knows nothing of OAuth: callers check typ and the claims. The
// resource server's JWKS validator (JWT access tokens) and the
// authorization server's client assertions (private_key_jwt) use it.
package jwtverify
