package middleware

import (
	"context"
	"errors"
	"slices"
	"time"
)

// ErrInvalidToken is the error a [Validator] returns (possibly wrapped) for a
// token that is unknown, expired, revoked or otherwise not acceptable. Any
// other error is treated as a failure of the validator itself.
var ErrInvalidToken = errors.New("middleware: invalid token")

// Token is what a validated access token says: the Go form of Flask-OAuthlib's
// request.oauth. Validators may share one Token between requests, so treat it
// as read-only.
type Token struct {
	ClientID  string    // the client the token was issued to
	Subject   string    // the user's stable ID; empty for client_credentials tokens
	Username  string    // the user's login name, when known
	Scopes    []string  // granted scopes
	IssuedAt  time.Time // when it was issued (zero if unknown)
	ExpiresAt time.Time // when it expires
	ID        string    // the JWT ID (jti), for JWT access tokens
	Issuer    string    // the authorization server, when known
	Audience  []string  // the resource servers it is meant for, when known
	// JKT is the RFC 7638 SHA-256 thumbprint (base64url) of the DPoP key
	// the token is bound to (RFC 9449 cnf.jkt); empty for a bearer token.
	// A Guard admits a bound token only with the DPoP scheme and a proof
	// signed by that key.
	JKT string
}

// HasScope reports whether the token was granted scope s.
func (t *Token) HasScope(s string) bool { return slices.Contains(t.Scopes, s) }

// Validator checks an access token. ValidateToken returns the token's
// contents, or an error wrapping ErrInvalidToken when the token must be
// refused. It must be safe for concurrent use.
type Validator interface {
	ValidateToken(ctx context.Context, token string) (*Token, error)
}

// ValidatorInto is an optional interface for validators on the hot path:
// ValidateTokenInto fills *into instead of allocating a Token, so that the
// middleware can keep the token and the request context in one allocation.
// It follows ValidateToken's contract; into is zeroed, and is only kept when
// the call succeeds.
type ValidatorInto interface {
	Validator
	ValidateTokenInto(ctx context.Context, token string, into *Token) error
}

// ValidatorFunc adapts a function to the Validator interface.
type ValidatorFunc func(ctx context.Context, token string) (*Token, error)

// ValidateToken calls f(ctx, token).
func (f ValidatorFunc) ValidateToken(ctx context.Context, token string) (*Token, error) {
	return f(ctx, token)
}

type ctxKey struct{}

// tokenCtx is a context node carrying a Token by value; see ValidatorInto.
type tokenCtx struct {
	context.Context
	tok Token
}

// Value answers TokenFromContext's key with the token, and every other key
// from the parent.
func (c *tokenCtx) Value(key any) any {
	if _, ok := key.(ctxKey); ok {
		return &c.tok
	}
	return c.Context.Value(key)
}

// TokenFromContext returns the token that RequireOAuth (or Guard.Optional)
// validated for this request.
func TokenFromContext(ctx context.Context) (*Token, bool) {
	t, ok := ctx.Value(ctxKey{}).(*Token)
	return t, ok && t != nil
}

// NewContext returns a copy of ctx carrying t, as the middleware does. It is
// for tests of handlers that read TokenFromContext.
func NewContext(ctx context.Context, t *Token) context.Context {
	return context.WithValue(ctx, ctxKey{}, t)
}
