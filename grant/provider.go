package grant

import (
	"context"
	"errors"
	"fmt"

	"github.com/go-oauth2/oauth2/v4/server"
	"golang.org/x/sync/singleflight"

	"github.com/oauthkit/oauthkit/internal/dpop"
	"github.com/oauthkit/oauthkit/internal/logsample"
	"github.com/oauthkit/oauthkit/internal/throttle"
	"github.com/oauthkit/oauthkit/internal/tokencache"
	"github.com/oauthkit/oauthkit/middleware"
	"github.com/oauthkit/oauthkit/store"
)

// Provider is an OAuth 2.0 authorization server: the Go form of
// Flask-OAuthlib's OAuth2Provider. Its handlers are mounted on the host's own
// mux; it also validates its own access tokens for middleware.RequireOAuth.
// A Provider is safe for concurrent use.
type Provider struct {
	cfg        Config
	engine     *server.Server
	throttle   *throttle.Throttle
	checks     chan struct{}      // one token per password check in flight (password.go)
	logs       *logsample.Sampler // bounds refusal logs (log.go)
	keys       keyStore           // signing keys (keys.go); nil without JWT access tokens and OpenID Connect
	subkeys    subkeys            // derived from Config.Secret (subkey.go)
	origins    originCache        // the origins of all clients, for CORS preflights (cors.go)
	dpop       *dpop.Verifier     // DPoP proofs at the token endpoint (dpop.go)
	tokenURL   string             // the token endpoint's public URL, a proof's htu
	loginURL   string             // LoginHandler's
	clientKeys *clientKeys        // the keys of private_key_jwt clients (clientkeys.go)
	health     singleflight.Group // one ping per store at a time (health.go)
	cimd       *cimd              // client ID metadata documents; nil when off (cimd.go)
	cache      *tokencache.Cache  // validated access tokens (validation_cache.go); nil without Config.ValidationCache
	storeSet                      // the stores, each call bounded (store_guard.go)
	pending    pendingRevocations // family revocations that failed, retried (revocations.go)
}

// NewProvider checks cfg, fills in its defaults and returns a Provider.
// Configuration errors are reported here, never per request. With
// Config.LoginClientID set, it looks that client up in Config.Clients
// (within 5 seconds) and checks its registration: register it first.
func NewProvider(cfg Config) (*Provider, error) {
	if err := cfg.setDefaults(); err != nil {
		return nil, err
	}
	if err := cfg.checkLoginClient(); err != nil { // login_client.go
		return nil, err
	}
	ss := guardStores(&cfg) // store_guard.go
	sk, err := deriveSubkeys(cfg.Secret)
	if err != nil {
		return nil, err
	}
	dv, err := newDPoP(&cfg, sk)
	if err != nil {
		return nil, err
	}
	p := &Provider{
		cfg: cfg, throttle: newThrottle(&cfg), subkeys: sk, dpop: dv,
		tokenURL: endpointURL(cfg.Issuer, cfg.Endpoints.Token), loginURL: endpointURL(cfg.Issuer, cfg.Endpoints.Login),
		checks:     make(chan struct{}, cfg.Throttle.MaxPasswordChecks),
		logs:       newLogSampler(cfg.Now),
		clientKeys: newClientKeys(&cfg),
		storeSet:   ss,
	}
	p.cimd = newCIMD(p)
	p.engine = newEngine(p)
	if p.usesKeys() {
		ks, _ := newKeySet(cfg.SigningKeys) // checked by setDefaults
		p.keys.Store(ks)
	}
	if p.cache, err = newValidationCache(&cfg); err != nil { // validation_cache.go; started last
		return nil, err
	}
	return p, nil
}

// Issuer returns the issuer identifier the Provider was configured with.
func (p *Provider) Issuer() string { return p.cfg.Issuer }

// ValidateToken checks an access token against the token store: one
// SHA-256 and one lookup, for opaque and JWT tokens alike (a JWT must also
// carry the header of a signing key in force; see jwt.go). It implements
// middleware.Validator, and returns middleware.ErrInvalidToken for tokens
// that are unknown, expired, revoked, or not access tokens.
func (p *Provider) ValidateToken(ctx context.Context, raw string) (*middleware.Token, error) {
	tok := new(middleware.Token)
	if err := p.ValidateTokenInto(ctx, raw, tok); err != nil {
		return nil, err
	}
	return tok, nil
}

// ValidateTokenInto is ValidateToken filling *into, for
// middleware.ValidatorInto: RequireOAuth then spends one allocation less per
// request.
func (p *Provider) ValidateTokenInto(ctx context.Context, raw string, into *middleware.Token) error {
	jwt := p.looksLikeJWT(raw)
	if !jwt && !hasPrefix(raw, PrefixAccessToken) {
		return middleware.ErrInvalidToken
	}
	// The store answers only for live tokens: unexpired, unrevoked
	// (store.TokenStore's contract, checked by storetest for every backend);
	// so does the validation cache, within its bound.
	t, err := p.findToken(ctx, store.HashSecret(raw))
	if errors.Is(err, store.ErrNotFound) {
		return middleware.ErrInvalidToken
	}
	if err != nil {
		return fmt.Errorf("grant: token lookup: %w", err)
	}
	if t.Kind != store.KindAccess || p.pending.has(t.Family) { // revocations.go
		return middleware.ErrInvalidToken
	}
	*into = middleware.Token{
		ClientID:  t.ClientID,
		Subject:   t.Subject,
		Username:  t.Username,
		Scopes:    t.Scopes,
		IssuedAt:  t.IssuedAt,
		ExpiresAt: t.ExpiresAt,
		Issuer:    p.cfg.Issuer,
		Audience:  p.audience(&t), // resource.go
		JKT:       t.JKT,
	}
	if jwt {
		into.ID = jwtID(raw)
	}
	return nil
}

// emit reports e to Config.OnEvent, if set.
func (p *Provider) emit(ctx context.Context, e Event) {
	if p.cfg.OnEvent != nil {
		p.cfg.OnEvent(ctx, e)
	}
}
