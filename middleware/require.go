package middleware

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
)

// Options configures a [Guard]. The zero value is the secure default.
type Options struct {
	// Realm is sent in WWW-Authenticate challenges. Default "api".
	Realm string
	// AllowQueryToken accepts an access_token query parameter (RFC 6750
	// §2.3). Default false: tokens in URLs leak into logs and Referer
	// headers, and RFC 9700 §2.4 advises against them.
	AllowQueryToken bool
	// ErrorWriter writes refusals. Default WriteError.
	ErrorWriter ErrorWriter
	// Logger receives validator failures (never token values). Default
	// slog.Default().
	Logger *slog.Logger
	// OnFailure, if set, is called for every refused request, for metrics
	// or auditing; the error carries no secrets.
	OnFailure func(r *http.Request, e *Error)
	// Resource binds the Guard to the resource it protects: audience
	// checks, resource_metadata in challenges, and the metadata document
	// (RFC 8707, RFC 9728; see [ProtectedResource]). Default off.
	Resource ProtectedResource
}

// Guard wraps handlers with bearer-token checks against one Validator.
type Guard struct {
	v    Validator
	into ValidatorInto // v, when it can fill a Token in place
	opts Options
	res  *protected // nil unless Options.Resource is set
}

// New returns a Guard that validates tokens with v. A nil v is a
// configuration error, reported here rather than per request.
func New(v Validator, opts Options) (*Guard, error) {
	if v == nil {
		return nil, errors.New("middleware: nil Validator")
	}
	if opts.Realm == "" {
		opts.Realm = "api"
	}
	if opts.ErrorWriter == nil {
		opts.ErrorWriter = WriteError
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if strings.ContainsAny(opts.Realm, "\"\\") {
		return nil, errors.New(`middleware: Realm must not contain '"' or '\'`)
	}
	res, err := newProtected(opts.Resource, opts.AllowQueryToken)
	if err != nil {
		return nil, err
	}
	g := &Guard{v: v, opts: opts, res: res}
	g.into, _ = v.(ValidatorInto)
	return g, nil
}

// RequireOAuth returns middleware that admits only requests bearing a valid
// token granted every one of scopes (all-of), with default Options. It is the
// Go form of Flask-OAuthlib's @require_oauth. A nil v fails closed: it is
// logged once, here, and every request is refused with 500. Use [New] to get
// configuration errors as values instead.
func RequireOAuth(v Validator, scopes ...string) func(http.Handler) http.Handler {
	return mustGuard(v).Require(scopes...)
}

// RequireAnyScope is RequireOAuth admitting a token granted at least one of
// scopes (any-of).
func RequireAnyScope(v Validator, scopes ...string) func(http.Handler) http.Handler {
	return mustGuard(v).RequireAny(scopes...)
}

func mustGuard(v Validator) *Guard {
	g, err := New(v, Options{})
	if err != nil {
		slog.Error("middleware: refusing every request", "err", err)
		g, _ = New(failClosed{}, Options{})
	}
	return g
}

// failClosed stands in for a missing Validator: it refuses every token as a
// validator failure.
type failClosed struct{}

func (failClosed) ValidateToken(context.Context, string) (*Token, error) {
	return nil, errors.New("middleware: no Validator configured")
}

// Require returns middleware admitting a valid token granted all of scopes.
func (g *Guard) Require(scopes ...string) func(http.Handler) http.Handler {
	scopes = slices.Clone(scopes)
	return g.wrap(scopes, func(t *Token) bool {
		for _, s := range scopes {
			if !t.HasScope(s) {
				return false
			}
		}
		return true
	}, false)
}

// RequireAny returns middleware admitting a valid token granted at least one
// of scopes; with none listed, any valid token.
func (g *Guard) RequireAny(scopes ...string) func(http.Handler) http.Handler {
	scopes = slices.Clone(scopes)
	return g.wrap(scopes, func(t *Token) bool {
		if len(scopes) == 0 {
			return true
		}
		return slices.ContainsFunc(scopes, t.HasScope)
	}, false)
}

// Optional returns middleware that validates a token when the request has
// one and passes requests without one through untouched. A token that is
// present but invalid is still refused: a client that sends a bad token is
// told so.
func (g *Guard) Optional() func(http.Handler) http.Handler {
	return g.wrap(nil, func(*Token) bool { return true }, true)
}

func (g *Guard) wrap(scopes []string, allowed func(*Token) bool, optional bool) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			raw, err := bearerToken(r, g.opts.AllowQueryToken)
			switch {
			case err == errNoToken && optional:
				next.ServeHTTP(w, r)
				return
			case err == errNoToken:
				g.refuse(w, r, http.StatusUnauthorized, "", "a bearer token is required", scopes)
				return
			case err != nil:
				g.refuse(w, r, http.StatusBadRequest, CodeInvalidRequest, "the request carries a malformed or duplicated token", nil)
				return
			}
			tok, ctx, err := g.validate(r.Context(), raw)
			if err != nil {
				if errors.Is(err, ErrInvalidToken) {
					g.refuse(w, r, http.StatusUnauthorized, CodeInvalidToken, "the access token is invalid, expired or revoked", scopes)
				} else {
					g.opts.Logger.ErrorContext(r.Context(), "middleware: token validation failed", "err", err)
					g.refuse(w, r, http.StatusInternalServerError, "", "token validation is unavailable", nil)
				}
				return
			}
			if !g.forResource(tok) {
				g.refuse(w, r, http.StatusUnauthorized, CodeInvalidToken, descOtherResource, scopes)
				return
			}
			if !allowed(tok) {
				g.refuse(w, r, http.StatusForbidden, CodeInsufficientScope, "the access token lacks the required scope", scopes)
				return
			}
			next.ServeHTTP(w, r.WithContext(ctx))
		})
	}
}

// descOtherResource describes the refusal of a token issued for another
// resource, or for none.
const descOtherResource = "the access token was not issued for this resource"

// forResource reports whether t may be used here: always, unless the Guard
// protects a resource, which t's audience must then name.
func (g *Guard) forResource(t *Token) bool {
	return g.res == nil || g.res.aud.in(t.Audience)
}

// Check validates raw as the Guard's routes do, scopes aside: with the
// Validator, then, when the Guard protects a resource, against its
// audience. It returns the token, or an error wrapping ErrInvalidToken for
// a token to refuse (401), or another error when the validator failed
// (logged, as the routes log it: never show it to the client). It is for
// transports that the middleware does not wrap, such as an SDK's own
// token verifier hook.
func (g *Guard) Check(ctx context.Context, raw string) (*Token, error) {
	tok, err := g.v.ValidateToken(ctx, raw)
	if err != nil {
		if !errors.Is(err, ErrInvalidToken) {
			g.opts.Logger.ErrorContext(ctx, "middleware: token validation failed", "err", err)
		}
		return nil, err
	}
	if !g.forResource(tok) {
		return nil, fmt.Errorf("%w: %s", ErrInvalidToken, descOtherResource)
	}
	return tok, nil
}

// validate checks raw and returns the token with the request context that
// carries it. A ValidatorInto fills the token inside the new context node,
// one allocation for both.
func (g *Guard) validate(ctx context.Context, raw string) (*Token, context.Context, error) {
	if g.into != nil {
		c := &tokenCtx{Context: ctx}
		if err := g.into.ValidateTokenInto(ctx, raw, &c.tok); err != nil {
			return nil, nil, err
		}
		return &c.tok, c, nil
	}
	tok, err := g.v.ValidateToken(ctx, raw)
	if err != nil {
		return nil, nil, err
	}
	return tok, NewContext(ctx, tok), nil
}

func (g *Guard) refuse(w http.ResponseWriter, r *http.Request, status int, code, desc string, scopes []string) {
	e := &Error{Status: status, Code: code, Description: desc, Scopes: scopes, Realm: g.opts.Realm}
	if g.res != nil {
		e.ResourceMetadata = g.res.metadataURL
	}
	if g.opts.OnFailure != nil {
		g.opts.OnFailure(r, e)
	}
	g.opts.ErrorWriter(w, r, e)
}
