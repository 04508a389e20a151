// Package middleware protects net/http handlers with OAuth 2.0 bearer tokens
// (RFC 6750): the Go form of Flask-OAuthlib's @require_oauth.
//
//	mux.Handle("GET /api/data", middleware.RequireOAuth(provider, "read")(dataHandler))
//
// and, inside the handler, the Go form of request.oauth:
//
//	tok, _ := middleware.TokenFromContext(r.Context())
//	fmt.Fprintln(w, "hello", tok.Username)
//
// # Scopes
//
// [RequireOAuth] and [Guard.Require] need every scope listed (all-of):
// RequireOAuth(v, "read", "write") admits a token granted "read write" and
// refuses one granted only "read". [RequireAnyScope] and [Guard.RequireAny]
// need at least one of them (any-of). With no scopes listed, any valid token
// is admitted. Scope names are compared exactly, case-sensitively (RFC 6749
// §3.3).
//
// # Errors
//
// Failures are answered as RFC 6750 §3 prescribes:
//
//   - no token: 401 with WWW-Authenticate: Bearer realm="…" and no error
//     code, with scope="…" naming the route's scopes, so that the client
//     knows what to ask for;
//   - a malformed request (two Authorization headers, a token in two places,
//     characters outside the b64token syntax): 400 invalid_request;
//   - an unknown, expired or revoked token, or one issued for another
//     resource (with [Options].Resource): 401 invalid_token;
//   - a valid token without the scopes: 403 insufficient_scope with the
//     scopes required.
//
// The body is a small JSON object with error and error_description; replace it
// with [Options].ErrorWriter.
//
// # Protected resources and MCP
//
// A Guard given its resource identifier ([Options].Resource, a
// [ProtectedResource]) admits only tokens whose audience names that
// resource (RFC 8707; compared as canonical URIs), whichever Validator
// produced them; names the protected resource metadata URL in every
// challenge (resource_metadata, RFC 9728 §5.1); and serves that document
// ([Guard.MetadataHandler] at [Guard.MetadataPath], the path-inserted
// well-known URL). That is what the MCP authorization specification asks
// of an MCP server; package middleware/mcpauth connects a Guard to the
// official MCP Go SDK.
//
//	g, err := middleware.New(validator, middleware.Options{Resource: middleware.ProtectedResource{
//		ID:                   "https://mcp.example.com/mcp",
//		AuthorizationServers: []string{"https://auth.example.com"},
//		ScopesSupported:      []string{"read"},
//	}})
//	mux.Handle(g.MetadataPath(), g.MetadataHandler())
//	mux.Handle("/mcp", g.Require("read")(mcpHandler))
//
// # DPoP
//
// A token bound to a client's key (RFC 9449; [Token].JKT, from cnf.jkt or
// the Provider's store) is admitted only as "Authorization: DPoP <token>"
// with a valid proof in the DPoP header: signed by that key, for this
// method and URL, recent, with the token's hash, never seen before.
// Presented as a bearer token it is refused (401 invalid_token), and a
// token that is not bound is refused with the DPoP scheme. Refused proofs
// get 401 with WWW-Authenticate: DPoP algs="…", error="invalid_dpop_proof"
// (or use_dpop_nonce and a DPoP-Nonce header when [DPoPOptions].NonceKey
// asks for nonces). Give instances one shared [ReplayCache] in
// [DPoPOptions] so that a proof replayed to another instance is caught.
//
// # Validators
//
// A [Validator] turns a token string into a [Token]. The authorization server's
// grant.Provider is one (local validation against its store). For resource
// servers that run apart from the authorization server, this package provides
// validators that check JWT access tokens against a JWKS URL and that ask an
// RFC 7662 introspection endpoint.
package middleware
