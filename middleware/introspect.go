package middleware

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	josejwt "github.com/go-jose/go-jose/v4/jwt"
)

// IntrospectionConfig configures an [IntrospectionValidator]. URL, ClientID
// and ClientSecret are required; every other field's comment gives its
// default.
type IntrospectionConfig struct {
	// URL is the authorization server's introspection_endpoint: https, or
	// http on a loopback host for development. Required.
	URL string
	// ClientID and ClientSecret authenticate this resource server to the
	// authorization server (client_secret_basic, RFC 7662 §2.1). Required.
	ClientID     string
	ClientSecret string
	// Issuer, if set, must equal the iss of every active answer that has
	// one. Default unchecked.
	Issuer string
	// Audience, if set, must be in the aud of every active answer; a
	// resource identifier (an http or https URL) is compared as a
	// canonical URI (RFC 8707), as [JWKSConfig].Audience is. Default
	// unchecked: leave it so behind a Guard bound to a [ProtectedResource],
	// which checks the audience itself.
	Audience string
	// CacheTTL is the longest an answer is reused: a token revoked at the
	// authorization server is still accepted here for up to this long. An
	// answer is never kept past the token's exp. Default 30 seconds;
	// negative disables the cache.
	CacheTTL time.Duration
	// CacheSize bounds the cache. Default 10000.
	CacheSize int
	// HTTPClient calls the endpoint. Default a client with a 10 second
	// timeout.
	HTTPClient *http.Client
	// Timeout bounds each call to the endpoint, whatever HTTPClient's own
	// timeout (the call also ends with the request that needs it). Default
	// 10 seconds.
	Timeout time.Duration
	// Logger receives endpoint failures. Default slog.Default().
	Logger *slog.Logger
	// Now is the clock. Default time.Now.
	Now func() time.Time
}

// IntrospectionValidator validates access tokens by asking the
// authorization server (RFC 7662), for resource servers that do not hold
// the token store and want revocation to take effect within CacheTTL.
// Active answers are cached for at most CacheTTL, and never past the
// token's exp; inactive ones are not cached. An answer whose token_type
// (or token_use) says it is not an access token is refused, so that a
// refresh token is never taken for one.
type IntrospectionValidator struct {
	cfg   IntrospectionConfig
	aud   *audience // nil when Audience is unset
	auth  string    // the Basic credentials, encoded once
	cache *tokenCache
}

// NewIntrospectionValidator checks cfg and returns a validator.
func NewIntrospectionValidator(cfg IntrospectionConfig) (*IntrospectionValidator, error) {
	if err := checkEndpoint(cfg.URL); err != nil {
		return nil, fmt.Errorf("middleware: IntrospectionConfig.URL: %w", err)
	}
	if cfg.ClientID == "" || cfg.ClientSecret == "" {
		return nil, errors.New("middleware: IntrospectionConfig.ClientID and ClientSecret are required")
	}
	if cfg.CacheTTL == 0 {
		cfg.CacheTTL = 30 * time.Second
	}
	if cfg.CacheSize <= 0 {
		cfg.CacheSize = 10000
	}
	if cfg.CacheTTL < 0 {
		cfg.CacheSize = -1
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 10 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	// RFC 6749 §2.3.1: form-encode both before Basic encoding.
	req, _ := http.NewRequest(http.MethodPost, cfg.URL, nil)
	req.SetBasicAuth(url.QueryEscape(cfg.ClientID), url.QueryEscape(cfg.ClientSecret))
	v := &IntrospectionValidator{cfg: cfg, auth: req.Header.Get("Authorization"), cache: newTokenCache(cfg.CacheSize)}
	if cfg.Audience != "" {
		aud := newAudience(cfg.Audience)
		v.aud = &aud
	}
	return v, nil
}

// ValidateToken implements Validator.
func (v *IntrospectionValidator) ValidateToken(ctx context.Context, raw string) (*Token, error) {
	now := v.cfg.Now()
	if tok, ok := v.cache.get(raw, now); ok {
		return tok, nil
	}
	ans, err := v.introspect(ctx, raw)
	if err != nil {
		v.cfg.Logger.ErrorContext(ctx, "middleware: introspection failed", "url", v.cfg.URL, "err", err)
		return nil, err
	}
	tok, err := ans.token(v.cfg.Issuer, v.aud, now)
	if err != nil {
		return nil, err
	}
	until := now.Add(v.cfg.CacheTTL)
	if !tok.ExpiresAt.IsZero() && tok.ExpiresAt.Before(until) {
		until = tok.ExpiresAt
	}
	v.cache.put(raw, tok, until, now)
	return tok, nil
}

// maxIntrospectionBytes bounds an answer.
const maxIntrospectionBytes = 64 << 10

func (v *IntrospectionValidator) introspect(ctx context.Context, raw string) (*introspection, error) {
	ctx, cancel := context.WithTimeout(ctx, v.cfg.Timeout)
	defer cancel()
	form := url.Values{"token": {raw}, "token_type_hint": {"access_token"}}.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, v.cfg.URL, strings.NewReader(form))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Authorization", v.auth)
	res, err := v.cfg.HTTPClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("middleware: introspection: %w", err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("middleware: introspection: status %s", res.Status)
	}
	body, err := io.ReadAll(io.LimitReader(res.Body, maxIntrospectionBytes+1))
	if err != nil || len(body) > maxIntrospectionBytes {
		return nil, errors.New("middleware: introspection: unreadable or oversized answer")
	}
	var ans introspection
	if err := strictJSON(body, &ans); err != nil {
		return nil, fmt.Errorf("middleware: introspection: bad answer: %v", err)
	}
	return &ans, nil
}

// introspection is RFC 7662 §2.2's answer.
type introspection struct {
	Active    bool                 `json:"active"`
	Scope     string               `json:"scope"`
	ClientID  string               `json:"client_id"`
	Username  string               `json:"username"`
	TokenType string               `json:"token_type"`
	TokenUse  string               `json:"token_use"`
	Exp       *josejwt.NumericDate `json:"exp"`
	Iat       *josejwt.NumericDate `json:"iat"`
	Nbf       *josejwt.NumericDate `json:"nbf"`
	Sub       string               `json:"sub"`
	Aud       josejwt.Audience     `json:"aud"`
	Iss       string               `json:"iss"`
	Jti       string               `json:"jti"`
	Cnf       map[string]any       `json:"cnf"` // RFC 9449 §6.2: jkt of a DPoP-bound token
}

func (a *introspection) token(iss string, aud *audience, now time.Time) (*Token, error) {
	tt := strings.ToLower(a.TokenType)
	switch {
	case !a.Active:
		return nil, invalid("inactive")
	case tt != "" && tt != "bearer" && tt != "access_token" && tt != "dpop":
		return nil, invalid("not an access token")
	case tt == "dpop" && a.Cnf == nil:
		return nil, invalid("a DPoP token without cnf")
	case a.TokenUse != "" && a.TokenUse != "access_token":
		return nil, invalid("not an access token")
	case iss != "" && a.Iss != "" && a.Iss != iss:
		return nil, invalid("wrong issuer")
	case aud != nil && !aud.in(a.Aud):
		return nil, invalid("wrong audience")
	case a.Exp != nil && !now.Before(a.Exp.Time()):
		return nil, invalid("expired")
	case a.Nbf != nil && now.Before(a.Nbf.Time()):
		return nil, invalid("not yet valid")
	}
	jkt, err := confirmationJKT(a.Cnf)
	if err != nil {
		return nil, err
	}
	t := &Token{
		ClientID: a.ClientID, Subject: a.Sub, Username: a.Username, Scopes: strings.Fields(a.Scope),
		ID: a.Jti, Issuer: a.Iss, Audience: a.Aud, JKT: jkt,
	}
	if a.Exp != nil {
		t.ExpiresAt = a.Exp.Time()
	}
	if a.Iat != nil {
		t.IssuedAt = a.Iat.Time()
	}
	return t, nil
}

// strictJSON decodes one JSON object, with nothing after it.
func strictJSON(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("trailing data")
	}
	return nil
}
