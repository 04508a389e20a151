package middleware

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"sync/atomic"
	"time"
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
	// it (RFC 9068 §4). Required.
	Audience string
	// Algorithms is the allow-list of JWS algorithms. Default EdDSA and
	// ES256; RS256 must be listed to be accepted. "none" and HMAC
	// algorithms are never accepted (RFC 8725 §3.1).
	Algorithms []string
	// ClockSkew is the leeway for exp, nbf and iat. Default 30 seconds; at
	// most 5 minutes.
	ClockSkew time.Duration
	// MinRefreshInterval is the least time between two fetches of the key
	// set; a token with an unknown kid triggers a fetch only this long
	// after the last one, so that forged kids cannot hammer the
	// authorization server. Default 30 seconds.
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
// unknown kid (at most once per MinRefreshInterval).
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
	keys  atomic.Pointer[jwkSet]
	cache *tokenCache

	fetchMu   sync.Mutex // one fetch at a time
	lastFetch time.Time  // under fetchMu: the last attempt, successful or not
}

// jwkSet is a fetched key set.
type jwkSet struct {
	keys    map[string]publicKey // by kid
	fetched time.Time
}

// errUnavailable wraps failures to get the key set: they are not the
// token's fault, and are answered with 500 rather than 401.
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
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &JWKSValidator{cfg: cfg, cache: newTokenCache(cfg.CacheSize)}, nil
}

// checkEndpoint accepts https URLs, and http on loopback hosts.
func checkEndpoint(s string) error {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" {
		return fmt.Errorf("%q is not an absolute URL", s)
	}
	h := u.Hostname()
	if u.Scheme == "https" || u.Scheme == "http" && (h == "localhost" || h == "::1" || len(h) > 4 && h[:4] == "127.") {
		return nil
	}
	return fmt.Errorf("%q must use https (http only on loopback)", s)
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
	key, err := v.key(ctx, jwt.kid, now)
	if err != nil {
		return nil, err
	}
	if err := jwt.verify(key); err != nil {
		return nil, err
	}
	tok, err := jwt.claims.check(v.cfg.Issuer, v.cfg.Audience, now, v.cfg.ClockSkew)
	if err != nil {
		return nil, err
	}
	v.cache.put(raw, tok, tok.ExpiresAt, now)
	return tok, nil
}

// key returns the key for kid, fetching the key set when it is missing,
// stale, or lacks kid.
func (v *JWKSValidator) key(ctx context.Context, kid string, now time.Time) (publicKey, error) {
	ks := v.keys.Load()
	if ks != nil && now.Sub(ks.fetched) < v.cfg.MaxKeyAge {
		if k, ok := ks.lookup(kid); ok {
			return k, nil
		}
	}
	ks, err := v.refresh(ctx, ks, now)
	if ks == nil {
		return publicKey{}, err
	}
	if k, ok := ks.lookup(kid); ok {
		return k, nil
	}
	return publicKey{}, fmt.Errorf("%w: no key for kid %q", ErrInvalidToken, kid)
}

// lookup finds kid; a token without kid matches only a set of one key.
func (ks *jwkSet) lookup(kid string) (publicKey, bool) {
	if k, ok := ks.keys[kid]; ok {
		return k, true
	}
	if kid == "" && len(ks.keys) == 1 {
		for _, k := range ks.keys {
			return k, true
		}
	}
	return publicKey{}, false
}

// refresh fetches the key set unless another caller just did or the last
// attempt was too recent. It returns the newest set it has (possibly
// seen, the one the caller had) and, if it has none, why.
func (v *JWKSValidator) refresh(ctx context.Context, seen *jwkSet, now time.Time) (*jwkSet, error) {
	v.fetchMu.Lock()
	defer v.fetchMu.Unlock()
	if ks := v.keys.Load(); ks != seen {
		return ks, nil // fetched while we waited
	}
	if !v.lastFetch.IsZero() && now.Sub(v.lastFetch) < v.cfg.MinRefreshInterval {
		if seen == nil {
			return nil, fmt.Errorf("%w: waiting %v before fetching again", errUnavailable, v.cfg.MinRefreshInterval)
		}
		return seen, nil
	}
	v.lastFetch = now
	keys, err := v.fetch(ctx)
	if err != nil {
		v.cfg.Logger.ErrorContext(ctx, "middleware: fetching the JWKS failed", "url", v.cfg.URL, "err", err)
		if seen == nil {
			return nil, fmt.Errorf("%w: %v", errUnavailable, err)
		}
		return seen, nil
	}
	ks := &jwkSet{keys: keys, fetched: now}
	if seen != nil && !maps.EqualFunc(seen.keys, keys, publicKey.equal) {
		v.cache.clear() // a withdrawn key takes its tokens with it
	}
	v.keys.Store(ks)
	return ks, nil
}

// maxJWKSBytes bounds a fetched key set.
const maxJWKSBytes = 1 << 20

func (v *JWKSValidator) fetch(ctx context.Context) (map[string]publicKey, error) {
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
	return parseJWKS(body)
}
