package middleware

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/oauthkit/oauthkit/internal/bulkhead"
	"github.com/oauthkit/oauthkit/internal/dpop"
	"github.com/oauthkit/oauthkit/internal/logsample"
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
	// Logger receives validator failures (at Error) and refused requests:
	// 401s at Debug (an expired token is routine), 400s and 403s at Info.
	// Records are sampled per kind (a few at once, then one a second,
	// with the count held back), carry the method and a short prefix of
	// the path, and never a token value. Default slog.Default().
	Logger *slog.Logger
	// OnFailure, if set, is called for every refused request, for metrics
	// or auditing; the error carries no secrets.
	OnFailure func(r *http.Request, e *Error)
	// OnValidated, if set, is called for every request that carries a
	// token, once the Validator has answered, with how long validation took
	// and its error: nil for a valid token (the scope and binding checks
	// come after), one wrapping ErrInvalidToken for a token refused, another
	// for a validator failure. For metrics. Default none:
	// the Guard then reads no clock.
	OnValidated func(r *http.Request, d time.Duration, err error)
	// DPoP configures DPoP-bound tokens (RFC 9449); see [DPoPOptions].
	// The zero value accepts them with a valid proof.
	DPoP DPoPOptions
	// Resource binds the Guard to the resource it protects: audience
	// checks, resource_metadata in challenges, and the metadata document
	// (RFC 8707, RFC 9728; see [ProtectedResource]). Default off.
	Resource ProtectedResource
}

// Guard wraps handlers with access-token checks against one Validator:
// bearer tokens (RFC 6750) and DPoP-bound tokens (RFC 9449).
type Guard struct {
	v    Validator
	into ValidatorInto // v, when it can fill a Token in place
	opts Options
	logs *logsample.Sampler
	dpop *dpop.Verifier
	algs []string   // the DPoP algs offered in challenges
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
	dv, err := newDPoP(&opts.DPoP)
	if err != nil {
		return nil, fmt.Errorf("middleware: Options.DPoP: %w", err)
	}
	res, err := newProtected(opts.Resource, opts.AllowQueryToken)
	if err != nil {
		return nil, err
	}
	g := &Guard{v: v, opts: opts, logs: logsample.New(logBurst, logEvery, time.Now), dpop: dv, algs: dv.Algorithms(), res: res}
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
// validator failure, with 500 (a configuration error, not an outage).
type failClosed struct{}

// errNoValidator is failClosed's error.
var errNoValidator = errors.New("middleware: no Validator configured")

func (failClosed) ValidateToken(context.Context, string) (*Token, error) {
	return nil, errNoValidator
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
			// Every 401 and 403 names the route's scopes.
			refuse := func(e *Error) { e.Scopes = scopes; g.refuse(w, r, e) }
			raw, scheme, err := credentials(r, g.opts.AllowQueryToken)
			switch {
			case err == errNoToken && optional:
				next.ServeHTTP(w, r)
				return
			case err == errNoToken:
				refuse(&Error{Status: http.StatusUnauthorized, Description: "an access token is required"})
				return
			case err != nil:
				g.refuse(w, r, &Error{Status: http.StatusBadRequest, Code: CodeInvalidRequest, Description: "the request carries a malformed or duplicated token"})
				return
			case scheme == SchemeBearer && g.opts.DPoP.Required:
				refuse(&Error{Status: http.StatusUnauthorized, Code: CodeInvalidToken, Description: "this resource takes DPoP-bound tokens only", Scheme: SchemeDPoP})
				return
			}
			tok, ctx, err := g.observe(r, raw)
			if err != nil {
				if errors.Is(err, ErrInvalidToken) {
					refuse(&Error{Status: http.StatusUnauthorized, Code: CodeInvalidToken, Description: "the access token is invalid, expired or revoked", Scheme: scheme})
				} else {
					g.refuse(w, r, g.validatorFailed(r, err))
				}
				return
			}
			if !g.forResource(tok) {
				refuse(&Error{Status: http.StatusUnauthorized, Code: CodeInvalidToken, Description: descOtherResource, Scheme: scheme})
				return
			}
			if e := g.checkBinding(w, r, raw, scheme, tok); e != nil {
				refuse(e)
				return
			}
			if !allowed(tok) {
				refuse(&Error{Status: http.StatusForbidden, Code: CodeInsufficientScope, Description: "the access token lacks the required scope", Scheme: scheme})
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

// Check validates raw as the Guard's routes do a bearer token, scopes
// aside: with the Validator, then, when the Guard protects a resource,
// against its audience. A DPoP-bound token is refused: its proof belongs
// to a request, which Check has not. It returns the token, or an error
// wrapping ErrInvalidToken for a token to refuse (401), or another error
// when the validator failed (logged, as the routes log it: never show it
// to the client). It is for transports that the middleware does not wrap,
// such as an SDK's own token verifier hook.
func (g *Guard) Check(ctx context.Context, raw string) (*Token, error) {
	tok, err := g.v.ValidateToken(ctx, raw)
	switch {
	case errors.Is(err, ErrInvalidToken):
		return nil, err
	case err != nil:
		g.logFailure(ctx, err)
		return nil, err
	case !g.forResource(tok):
		return nil, fmt.Errorf("%w: %s", ErrInvalidToken, descOtherResource)
	case tok.JKT != "":
		return nil, fmt.Errorf("%w: the access token is DPoP-bound", ErrInvalidToken)
	}
	return tok, nil
}

// validatorFailed is the refusal of a request whose token the validator
// could not check: 503 with Retry-After (its store, JWKS or introspection
// endpoint is down or slow; the client should retry the same token, not
// drop it), or 500 without a Validator. The error is logged at Error,
// sampled, unless it is a Provider's store outage, which the Provider
// logs once per outage.
func (g *Guard) validatorFailed(r *http.Request, err error) *Error {
	if errors.Is(err, errNoValidator) {
		return &Error{Status: http.StatusInternalServerError, Description: "token validation is unavailable"}
	}
	g.logFailure(r.Context(), err)
	return &Error{Status: http.StatusServiceUnavailable, Description: "token validation is temporarily unavailable; retry shortly", RetryAfter: time.Second}
}

// logFailure logs a validator's failure at Error, sampled, unless it is a
// Provider's store outage, which the Provider logs once per outage.
func (g *Guard) logFailure(ctx context.Context, err error) {
	if errors.Is(err, bulkhead.ErrUnavailable) || errors.Is(err, bulkhead.ErrFull) {
		return
	}
	if ok, held := g.logs.Allow("error"); ok {
		g.opts.Logger.ErrorContext(ctx, "middleware: token validation failed", "err", err, "suppressed", held)
	}
}

// checkBinding applies RFC 9449 §7 to a valid token: a DPoP-bound token
// only with the DPoP scheme and a proof by its key, the DPoP scheme only
// with a bound token.
func (g *Guard) checkBinding(w http.ResponseWriter, r *http.Request, raw, scheme string, tok *Token) *Error {
	switch bound := tok.JKT != ""; {
	case scheme == SchemeBearer && bound:
		return &Error{Status: http.StatusUnauthorized, Code: CodeInvalidToken, Description: "the access token is DPoP-bound: present it with the DPoP scheme and a proof"}
	case scheme == SchemeDPoP && !bound:
		return &Error{Status: http.StatusUnauthorized, Code: CodeInvalidToken, Description: "the access token is not DPoP-bound: present it as a bearer token", Scheme: SchemeDPoP}
	case scheme == SchemeDPoP:
		return g.checkProof(w, r, raw, tok)
	}
	return nil
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

// refuse answers with e, completed with the Guard's realm and DPoP
// challenge parameters.
func (g *Guard) refuse(w http.ResponseWriter, r *http.Request, e *Error) {
	e.Realm, e.DPoPAlgs, e.DPoPOnly = g.opts.Realm, g.algs, g.opts.DPoP.Required
	if g.res != nil {
		e.ResourceMetadata = g.res.metadataURL
	}
	if g.opts.OnFailure != nil {
		g.opts.OnFailure(r, e)
	}
	g.logRefusal(r, e)
	g.opts.ErrorWriter(w, r, e)
}

// Refusal logs are sampled per status and code: logBurst records at once,
// then one per logEvery.
const (
	logBurst = 20
	logEvery = time.Second
)

// logRefusal logs a refused request as Options.Logger describes.
func (g *Guard) logRefusal(r *http.Request, e *Error) {
	level := slog.LevelInfo
	switch {
	case e.Status >= 500:
		return // logged at Error with its cause
	case e.Status == http.StatusUnauthorized:
		level = slog.LevelDebug
	}
	ctx := r.Context()
	if !g.opts.Logger.Enabled(ctx, level) {
		return
	}
	ok, held := g.logs.Allow(strconv.Itoa(e.Status) + e.Code)
	if !ok {
		return
	}
	attrs := []any{"status", e.Status, "error", e.Code, "method", logsample.Clip(r.Method), "path", logsample.Clip(r.URL.Path)}
	if len(e.Scopes) > 0 {
		attrs = append(attrs, "scope", strings.Join(e.Scopes, " "))
	}
	if held > 0 {
		attrs = append(attrs, "suppressed", held)
	}
	g.opts.Logger.Log(ctx, level, "middleware: request refused", attrs...)
}
