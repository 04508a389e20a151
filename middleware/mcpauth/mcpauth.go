// Package mcpauth protects an MCP server built with the official Go SDK
// (github.com/modelcontextprotocol/go-sdk) with an oauthkit
// [middleware.Guard]: any middleware.Validator — grant.Provider, a JWKS or an
// introspection validator — checks the tokens, the Guard answers refusals
// as RFC 6750 and RFC 9728 prescribe, and the tool handlers read the token
// through the SDK's own API. It is the one oauthkit package that imports
// the SDK.
//
// The MCP authorization specification makes the server an OAuth resource
// server that publishes protected resource metadata, names it in its 401
// challenges, answers a missing scope with 403 insufficient_scope, and
// accepts only tokens issued for it (RFC 8707 audience). A Guard bound to
// the server's URL (middleware.Options.Resource) does all of it:
//
//	g, err := middleware.New(validator, middleware.Options{Resource: middleware.ProtectedResource{
//		ID:                   "https://mcp.example.com/mcp",
//		AuthorizationServers: []string{"https://auth.example.com"},
//		ScopesSupported:      []string{"read"},
//	}})
//	mux.Handle(g.MetadataPath(), g.MetadataHandler())
//	mux.Handle("/mcp", mcpauth.Require(g, "read")(mcp.NewStreamableHTTPHandler(getServer, nil)))
//
// and in a tool handler:
//
//	info := req.Extra.TokenInfo            // the SDK's *auth.TokenInfo
//	tok, _ := mcpauth.Token(info)          // oauthkit's *middleware.Token: client, user, audience
//
// # Why not the SDK's auth.RequireBearerToken
//
// The SDK's middleware answers every refusal with a challenge that carries
// no error code — an invalid token and a missing one look alike, and a 403
// says nothing of insufficient_scope — and its body is plain text. [Require]
// lets the Guard decide and answer, and uses the SDK's middleware only to
// place the [auth.TokenInfo] where auth.TokenInfoFromContext and the
// Streamable HTTP transport find it; the SDK's own expiry check is off, so
// that the Guard's validator (with its clock and skew) is the one judge.
// The Guard's other schemes work as well: a DPoP-bound token (RFC 9449),
// presented with the DPoP scheme and a proof, reaches the tools the same
// way, though the SDK's middleware reads only "Bearer".
// [Verifier] is for servers that keep the SDK's middleware anyway.
package mcpauth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/modelcontextprotocol/go-sdk/auth"

	"github.com/oauthkit/oauthkit/middleware"
)

// Require returns middleware for an MCP server's HTTP handler (such as
// mcp.NewStreamableHTTPHandler's): g admits a request only with a valid
// token, issued for g's resource when g has one, granted every one of
// scopes, and otherwise answers with its own challenges (401 with
// resource_metadata and scope; 403 insufficient_scope with both). The
// admitted token reaches the handler both as middleware.TokenFromContext
// and as the SDK's auth.TokenInfoFromContext, and thus every tool handler
// as req.Extra.TokenInfo ([TokenInfo] says what it holds; [Token] gets the
// middleware.Token back). The Streamable HTTP transport binds each session
// to the TokenInfo's UserID, so that another user's token cannot use it.
func Require(g *middleware.Guard, scopes ...string) func(http.Handler) http.Handler {
	guard := g.Require(scopes...)
	attach := auth.RequireBearerToken(fromGuard, &auth.RequireBearerTokenOptions{
		AllowMissingExpiration: true,
		ClockSkew:              noExpiryCheck,
	})
	return func(next http.Handler) http.Handler {
		return guard(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			// The SDK's middleware reads a "Bearer" header before it asks
			// fromGuard; the Guard may have had the token another way
			// (a query parameter it allows, a future scheme), so the SDK
			// is shown a copy of the request with a header it accepts,
			// and next gets the real request with the SDK's context.
			probe := r.WithContext(r.Context())
			probe.Header = http.Header{"Authorization": {"Bearer checked-by-the-guard"}}
			attach(http.HandlerFunc(func(_ http.ResponseWriter, withInfo *http.Request) {
				next.ServeHTTP(w, r.WithContext(withInfo.Context()))
			})).ServeHTTP(w, probe)
		}))
	}
}

// noExpiryCheck switches the SDK's expiry check off: no token outlives it.
const noExpiryCheck = 100 * 365 * 24 * time.Hour

// fromGuard is the SDK's token verifier inside Require: the Guard has
// checked the token already and put it in the context.
func fromGuard(ctx context.Context, _ string, _ *http.Request) (*auth.TokenInfo, error) {
	tok, ok := middleware.TokenFromContext(ctx)
	if !ok {
		return nil, errors.New("mcpauth: no token from the Guard")
	}
	return TokenInfo(tok), nil
}

// Verifier returns g as the SDK's token verifier, for servers that use the
// SDK's auth.RequireBearerToken: tokens are checked with g.Check (the
// Validator and g's audience binding; bearer tokens only, a DPoP-bound one
// is refused, its proof unchecked); an invalid one is refused with
// auth.ErrInvalidToken (401), a validator failure with a generic error
// (500; the Guard logs the cause). Its challenges and scope checks are the
// SDK's; prefer [Require].
func Verifier(g *middleware.Guard) auth.TokenVerifier {
	return func(ctx context.Context, raw string, _ *http.Request) (*auth.TokenInfo, error) {
		tok, err := g.Check(ctx, raw)
		switch {
		case errors.Is(err, middleware.ErrInvalidToken):
			return nil, fmt.Errorf("%w: the access token is invalid, expired, revoked or not issued for this resource", auth.ErrInvalidToken)
		case err != nil:
			return nil, errors.New("mcpauth: token validation is unavailable")
		}
		return TokenInfo(tok), nil
	}
}

// extraKey is the TokenInfo.Extra member that holds the middleware.Token.
const extraKey = "oauthkit.token"

// TokenInfo returns t as the SDK's TokenInfo: its scopes, its expiry, and
// as UserID the user it was issued for (Token.Subject) or, for a token a
// client holds for itself, middleware.ClientSubjectPrefix + its client_id,
// so that sessions are bound to someone in both cases. Extra holds t
// itself, for [Token].
func TokenInfo(t *middleware.Token) *auth.TokenInfo {
	uid := t.Subject
	if uid == "" {
		uid = middleware.ClientSubjectPrefix + t.ClientID
	}
	return &auth.TokenInfo{
		Scopes: slices.Clone(t.Scopes), Expiration: t.ExpiresAt, UserID: uid,
		Extra: map[string]any{extraKey: t},
	}
}

// Token returns the middleware.Token behind a TokenInfo made by this
// package (in a tool handler: Token(req.Extra.TokenInfo)). Treat it as
// read-only.
func Token(info *auth.TokenInfo) (*middleware.Token, bool) {
	if info == nil {
		return nil, false
	}
	t, ok := info.Extra[extraKey].(*middleware.Token)
	return t, ok && t != nil
}
