package middleware

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/oauthkit/oauthkit/internal/jwtverify"
)

// JWKSConfig configures a [JWKSValidator]. URL, Issuer and Audience are
// required; every other field's comment gives its default.
type JWKSConfig struct {
	// URL is the authorization server's jwks_uri: https, or http on a
	// loopback host for development. Required.
	URL string
	// Issuer is the iss every token must carry, exactly. Required.
	Issuer string
	// Audience identifies this resource server: a token's aud must contain
	// it (RFC 9068 §4). It may be the resource identifier of a Guard's
	// [ProtectedResource] (an http or https URL): aud values are then
	// compared with it as canonical URIs (RFC 8707), as the Guard does;
	// any other value is compared exactly. Required.
	Audience string
	// Algorithms is the allow-list of JWS algorithms. Default EdDSA and
	// ES256; RS256 must be listed to be accepted. "none" and HMAC
	// algorithms are never accepted (RFC 8725 §3.1).
	Algorithms []string
	// ClockSkew is the leeway for exp, nbf and iat. Default 30 seconds; at
	// most 5 minutes.
	ClockSkew time.Duration
	// MinRefreshInterval is the least time between two fetches of the key
	// set: a token with an unknown kid triggers a fetch only this long
	// after the last successful one, so that forged kids cannot hammer the
	// authorization server. A failed fetch is retried sooner, after a
	// backoff of 1 second that doubles with each consecutive failure, up to
	// MinRefreshInterval. Default 30 seconds.
	MinRefreshInterval time.Duration
	// MaxKeyAge is how long a fetched key set is used before it is fetched
	// again (keys withdrawn by the server stop working after at most this
	// long). Default 1 hour.
	MaxKeyAge time.Duration
	// CacheSize bounds the cache of verified tokens; each is kept until it
	// expires. Default 10000; negative disables the cache.
	CacheSize int
	// HTTPClient fetches the key set. Default a client with a 10 second
	// timeout.
	HTTPClient *http.Client
	// FetchTimeout bounds each fetch of the key set, whatever HTTPClient's
	// own timeout. A fetch runs on its own context: a request that gives up
	// (or whose client goes away) while waiting for it does not cancel it.
	// Default 10 seconds.
	FetchTimeout time.Duration
	// Logger receives key set fetch failures. Default slog.Default().
	Logger *slog.Logger
	// Now is the clock. Default time.Now.
	Now func() time.Time
}

// JWKSValidator validates RFC 9068 JWT access tokens with the public keys an
// authorization server publishes: the middleware.Validator for resource
// servers that do not hold the token store. A token is checked once — the
// signature with an allowed algorithm and the key of its kid, typ at+jwt,
// no crit, iss, aud, exp, nbf and iat — and then cached until it expires,
// so that a repeated token costs a map lookup. Tokens and key sets are
// parsed and verified by go-jose; only public signature keys of the set
// are used, each with the one algorithm of its type. The key set is
// fetched on first use, again after MaxKeyAge, and when a token names an
// unknown kid (at most once per MinRefreshInterval). Requests that need a
// fetch at the same time share one; after a failed fetch, requests that
// need one fail at once (503, Retry-After) until a short backoff has passed.
//
// Token.Subject is the token's sub as sent, except for a token a client
// holds for itself — sub is ClientSubjectPrefix + its client_id, as an
// oauthkit authorization server issues for client_credentials — where it
// is empty, as for every validator in this package.
//
// A JWT stays valid until it expires even if it is revoked at the
// authorization server: keep access tokens short-lived, or use
// [IntrospectionValidator] where revocation must take effect at once.
type JWKSValidator struct {
	cfg   JWKSConfig
	aud   audience
	keys  atomic.Pointer[jwkSet]
	cache *tokenCache

	flight   singleflight.Group // one fetch at a time, shared by every request waiting for it
	mu       sync.Mutex         // guards the backoff below
	failures int                // consecutive failed fetches
	retryAt  time.Time          // after a failure: no fetch before
}

// jwkSet is a fetched key set.
type jwkSet struct {
	keys    jwtverify.Set
	fetched time.Time
}

// errUnavailable wraps failures to get the key set: they are not the
// token's fault, and are answered with 503 rather than 401.
var errUnavailable = errors.New("middleware: key set unavailable")

// NewJWKSValidator checks cfg and returns a validator. It does not fetch
// the key set: that happens on first use, so that a resource server can
// start before its authorization server.
func NewJWKSValidator(cfg JWKSConfig) (*JWKSValidator, error) {
	if err := checkEndpoint(cfg.URL); err != nil {
		return nil, fmt.Errorf("middleware: JWKSConfig.URL: %w", err)
	}
	if cfg.Issuer == "" || cfg.Audience == "" {
		return nil, errors.New("middleware: JWKSConfig.Issuer and Audience are required")
	}
	if cfg.Algorithms == nil {
		cfg.Algorithms = []string{algEdDSA, algES256}
	}
	for _, a := range cfg.Algorithms {
		if !slices.Contains([]string{algEdDSA, algES256, algRS256}, a) {
			return nil, fmt.Errorf("middleware: algorithm %q is not supported (EdDSA, ES256, RS256)", a)
		}
	}
	cfg.Algorithms = slices.Clone(cfg.Algorithms)
	if cfg.ClockSkew == 0 {
		cfg.ClockSkew = 30 * time.Second
	}
	if cfg.ClockSkew < 0 || cfg.ClockSkew > 5*time.Minute {
		return nil, errors.New("middleware: JWKSConfig.ClockSkew must be between 0 and 5 minutes")
	}
	if cfg.MinRefreshInterval <= 0 {
		cfg.MinRefreshInterval = 30 * time.Second
	}
	if cfg.MaxKeyAge <= 0 {
		cfg.MaxKeyAge = time.Hour
	}
	if cfg.CacheSize == 0 {
		cfg.CacheSize = 10000
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	if cfg.FetchTimeout <= 0 {
		cfg.FetchTimeout = 10 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &JWKSValidator{cfg: cfg, aud: newAudience(cfg.Audience), cache: newTokenCache(cfg.CacheSize)}, nil
}

// ValidateToken implements Validator.
func (v *JWKSValidator) ValidateToken(ctx context.Context, raw string) (*Token, error) {
	now := v.cfg.Now()
	if tok, ok := v.cache.get(raw, now); ok {
		return tok, nil
	}
	jwt, err := parseJWT(raw, v.cfg.Algorithms)
	if err != nil {
		return nil, err
	}
	key, err := v.key(ctx, jwt.KeyID, jwt.Alg, now)
	if err != nil {
		return nil, err
	}
	if err := jwt.verify(key); err != nil {
		return nil, err
	}
	tok, err := jwt.claims.check(v.cfg.Issuer, v.aud, now, v.cfg.ClockSkew)
	if err != nil {
		return nil, err
	}
	v.cache.put(raw, tok, tok.ExpiresAt, now)
	return tok, nil
}

// key returns the key for kid (for a token without kid, the one key of
// its algorithm alg), fetching the key set when it is missing, stale, or
// lacks kid.
func (v *JWKSValidator) key(ctx context.Context, kid, alg string, now time.Time) (jwtverify.Key, error) {
	ks := v.keys.Load()
	if ks != nil && now.Sub(ks.fetched) < v.cfg.MaxKeyAge {
		if k, ok := ks.keys.Lookup(kid, alg); ok {
			return k, nil
		}
	}
	ks, err := v.refresh(ctx, ks)
	if ks != nil {
		if k, ok := ks.keys.Lookup(kid, alg); ok {
			return k, nil // from a stale set too, when the fetch failed
		}
	}
	if err != nil {
		return jwtverify.Key{}, err
	}
	return jwtverify.Key{}, fmt.Errorf("%w: no key for kid %q", ErrInvalidToken, kid)
}

// refresh gets a newer key set than seen, the one the caller has (nil for
// none): it joins the fetch in flight or starts one, and waits for it as
// long as ctx lets it. The fetch goes on when ctx ends. It returns the
// newest set there is (possibly seen) and, when the fetch failed or is
// held back by the backoff, why.
func (v *JWKSValidator) refresh(ctx context.Context, seen *jwkSet) (*jwkSet, error) {
	ch := v.flight.DoChan("", func() (any, error) { return v.fetchOnce(ctx, seen) })
	select {
	case res := <-ch:
		ks, _ := res.Val.(*jwkSet)
		return ks, res.Err
	case <-ctx.Done():
		return nil, fmt.Errorf("%w: %v while waiting for the key set", errUnavailable, ctx.Err())
	}
}

// fetchOnce fetches the key set unless it changed since the caller saw it,
// was fetched less than MinRefreshInterval ago, or the backoff after a
// failure holds. It runs alone (in v.flight), on a context of its own.
func (v *JWKSValidator) fetchOnce(ctx context.Context, seen *jwkSet) (*jwkSet, error) {
	now := v.cfg.Now()
	ks := v.keys.Load()
	if ks != seen {
		return ks, nil // fetched since the caller looked
	}
	if ks != nil && now.Sub(ks.fetched) < min(v.cfg.MinRefreshInterval, v.cfg.MaxKeyAge) {
		return ks, nil // an unknown kid does not make it fetch again yet
	}
	v.mu.Lock()
	retryAt := v.retryAt
	v.mu.Unlock()
	if now.Before(retryAt) {
		return ks, fmt.Errorf("%w: the last fetch failed; next attempt in %v", errUnavailable, retryAt.Sub(now))
	}
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), v.cfg.FetchTimeout)
	defer cancel()
	keys, err := v.fetch(fctx)
	v.mu.Lock()
	if err != nil {
		v.failures++
		v.retryAt = now.Add(v.backoff(v.failures))
	} else {
		v.failures, v.retryAt = 0, time.Time{}
	}
	v.mu.Unlock()
	if err != nil {
		v.cfg.Logger.ErrorContext(fctx, "middleware: fetching the JWKS failed", "url", v.cfg.URL, "err", err)
		return ks, fmt.Errorf("%w: %v", errUnavailable, err)
	}
	next := &jwkSet{keys: keys, fetched: now}
	if ks != nil && !ks.keys.Equal(keys) {
		v.cache.clear() // a withdrawn key takes its tokens with it
	}
	v.keys.Store(next)
	return next, nil
}

// backoff is the wait after the nth consecutive failed fetch: 1 second,
// doubling, at most MinRefreshInterval.
func (v *JWKSValidator) backoff(n int) time.Duration {
	return min(time.Second<<min(n-1, 16), v.cfg.MinRefreshInterval)
}

// maxJWKSBytes bounds a fetched key set.
const maxJWKSBytes = 1 << 20

func (v *JWKSValidator) fetch(ctx context.Context) (jwtverify.Set, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, v.cfg.URL, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	res, err := v.cfg.HTTPClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("status %s", res.Status)
	}
	body, err := io.ReadAll(io.LimitReader(res.Body, maxJWKSBytes+1))
	if err != nil {
		return nil, err
	}
	if len(body) > maxJWKSBytes {
		return nil, errors.New("key set larger than 1 MiB")
	}
	return jwtverify.ParseSet(body)
}
