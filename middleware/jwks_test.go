package middleware_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	josejwt "github.com/go-jose/go-jose/v4/jwt"

	"github.com/oauthkit/oauthkit/middleware"
)

// Tokens here are signed with go-jose's signer, and some (signRaw) with
// crypto/ed25519 alone, as no JOSE library would sign them; the validator
// verifies with go-jose.

const (
	tIss = "https://as.example.com"
	tAud = "https://api.example.com"
)

type testKey struct {
	kid  string
	alg  jose.SignatureAlgorithm
	priv crypto.Signer
}

func newTestKey(t testing.TB, kid string, alg jose.SignatureAlgorithm) testKey {
	t.Helper()
	var (
		k   crypto.Signer
		err error
	)
	switch alg {
	case jose.EdDSA:
		_, k, err = ed25519.GenerateKey(rand.Reader)
	case jose.ES256:
		k, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case jose.RS256:
		k, err = rsa.GenerateKey(rand.Reader, 2048)
	}
	if err != nil {
		t.Fatal(err)
	}
	return testKey{kid, alg, k}
}

func (k testKey) jwk() jose.JSONWebKey {
	return jose.JSONWebKey{Key: k.priv.Public(), KeyID: k.kid, Algorithm: string(k.alg), Use: "sig"}
}

// jwksServer serves a settable key set and counts fetches.
type jwksServer struct {
	mu      sync.Mutex
	keys    []testKey
	fetches atomic.Int32
	fail    atomic.Bool
	srv     *httptest.Server
}

func newJWKSServer(t testing.TB, keys ...testKey) *jwksServer {
	s := &jwksServer{keys: keys}
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.fetches.Add(1)
		if s.fail.Load() {
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		s.mu.Lock()
		set := jose.JSONWebKeySet{}
		for _, k := range s.keys {
			set.Keys = append(set.Keys, k.jwk())
		}
		s.mu.Unlock()
		_ = json.NewEncoder(w).Encode(set)
	}))
	t.Cleanup(s.srv.Close)
	return s
}

func (s *jwksServer) set(keys ...testKey) {
	s.mu.Lock()
	s.keys = keys
	s.mu.Unlock()
}

type claims struct {
	josejwt.Claims
	ClientID string `json:"client_id,omitempty"`
	Scope    string `json:"scope,omitempty"`
}

var t0 = time.Date(2026, 5, 6, 7, 8, 9, 0, time.UTC)

func goodClaims() claims {
	return claims{
		Claims: josejwt.Claims{
			Issuer: tIss, Subject: "user-1", Audience: josejwt.Audience{tAud}, ID: "jti-1",
			IssuedAt: josejwt.NewNumericDate(t0), Expiry: josejwt.NewNumericDate(t0.Add(time.Hour)),
		},
		ClientID: "app", Scope: "read write",
	}
}

func sign(t testing.TB, k testKey, c any, hdr map[jose.HeaderKey]any) string {
	t.Helper()
	opts := (&jose.SignerOptions{}).WithHeader("kid", k.kid).WithType("at+jwt")
	for name, v := range hdr {
		opts = opts.WithHeader(name, v)
	}
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: k.alg, Key: k.priv}, opts)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := josejwt.Signed(s).Claims(c).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

type tclock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *tclock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *tclock) Set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

func newJWKSValidator(t testing.TB, s *jwksServer, clk *tclock, mutate ...func(*middleware.JWKSConfig)) *middleware.JWKSValidator {
	t.Helper()
	cfg := middleware.JWKSConfig{URL: s.srv.URL, Issuer: tIss, Audience: tAud, Now: clk.Now}
	for _, m := range mutate {
		m(&cfg)
	}
	v, err := middleware.NewJWKSValidator(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestJWKSValidatorAccepts(t *testing.T) {
	for _, alg := range []jose.SignatureAlgorithm{jose.EdDSA, jose.ES256, jose.RS256} {
		t.Run(string(alg), func(t *testing.T) {
			k := newTestKey(t, "k1", alg)
			s := newJWKSServer(t, k)
			clk := &tclock{t: t0.Add(time.Minute)}
			v := newJWKSValidator(t, s, clk, func(c *middleware.JWKSConfig) {
				c.Algorithms = []string{"EdDSA", "ES256", "RS256"}
			})
			tok, err := v.ValidateToken(context.Background(), sign(t, k, goodClaims(), nil))
			if err != nil {
				t.Fatal(err)
			}
			if tok.Subject != "user-1" || tok.ClientID != "app" || !tok.HasScope("write") || tok.ID != "jti-1" ||
				!tok.ExpiresAt.Equal(t0.Add(time.Hour)) || tok.Issuer != tIss || tok.Audience[0] != tAud {
				t.Errorf("token %+v", tok)
			}
		})
	}
}

func TestJWKSValidatorRefuses(t *testing.T) {
	ed := newTestKey(t, "ed", jose.EdDSA)
	rs := newTestKey(t, "rs", jose.RS256)
	other := newTestKey(t, "ed", jose.EdDSA) // same kid, key not published
	s := newJWKSServer(t, ed, rs)
	clk := &tclock{t: t0.Add(time.Minute)}
	v := newJWKSValidator(t, s, clk)
	mut := func(f func(*claims)) claims { c := goodClaims(); f(&c); return c }
	good := sign(t, ed, goodClaims(), nil)
	cases := map[string]string{
		"RS256 not allowed by default": sign(t, rs, goodClaims(), nil),
		"wrong key":                    sign(t, other, goodClaims(), nil),
		"wrong issuer":                 sign(t, ed, mut(func(c *claims) { c.Issuer = "https://evil.example" }), nil),
		"wrong audience":               sign(t, ed, mut(func(c *claims) { c.Audience = josejwt.Audience{"https://other.example"} }), nil),
		"no exp":                       sign(t, ed, mut(func(c *claims) { c.Expiry = nil }), nil),
		"no client_id":                 sign(t, ed, mut(func(c *claims) { c.ClientID = "" }), nil),
		"no jti":                       sign(t, ed, mut(func(c *claims) { c.ID = "" }), nil),
		"expired beyond skew":          sign(t, ed, mut(func(c *claims) { c.Expiry = josejwt.NewNumericDate(t0.Add(time.Minute - 31*time.Second)) }), nil),
		"nbf in the future":            sign(t, ed, mut(func(c *claims) { c.NotBefore = josejwt.NewNumericDate(t0.Add(5 * time.Minute)) }), nil),
		"iat in the future":            sign(t, ed, mut(func(c *claims) { c.IssuedAt = josejwt.NewNumericDate(t0.Add(5 * time.Minute)) }), nil),
		"typ JWT":                      sign(t, ed, goodClaims(), map[jose.HeaderKey]any{"typ": "JWT"}),
		"crit":                         sign(t, ed, goodClaims(), map[jose.HeaderKey]any{"crit": []string{"exp"}, "exp": 1}),
		"tampered payload":             good[:len(good)/2] + "A" + good[len(good)/2+1:],
		"alg none":                     "eyJhbGciOiJub25lIiwidHlwIjoiYXQrand0In0." + good[len(good)-len(good)/3:],
		"garbage":                      "a.b.c",
		"two parts":                    "a.b",
	}
	// HS256 signed with the Ed25519 public key bytes as the secret: the
	// classic algorithm confusion (RFC 8725 §2.1).
	hs, _ := jose.NewSigner(jose.SigningKey{Algorithm: jose.HS256, Key: []byte(ed.priv.Public().(ed25519.PublicKey))},
		(&jose.SignerOptions{}).WithHeader("kid", "ed").WithType("at+jwt"))
	cases["HS256 with the public key"], _ = josejwt.Signed(hs).Claims(goodClaims()).Serialize()
	for name, raw := range cases {
		t.Run(name, func(t *testing.T) {
			if _, err := v.ValidateToken(context.Background(), raw); !errors.Is(err, middleware.ErrInvalidToken) {
				t.Fatalf("err = %v, want ErrInvalidToken", err)
			}
		})
	}
	if _, err := v.ValidateToken(context.Background(), good); err != nil {
		t.Fatalf("the good token: %v", err)
	}
}

func TestJWKSValidatorCacheAndExpiry(t *testing.T) {
	k := newTestKey(t, "k1", jose.EdDSA)
	s := newJWKSServer(t, k)
	clk := &tclock{t: t0.Add(time.Minute)}
	v := newJWKSValidator(t, s, clk)
	raw := sign(t, k, goodClaims(), nil)
	for range 3 {
		if _, err := v.ValidateToken(context.Background(), raw); err != nil {
			t.Fatal(err)
		}
	}
	clk.Set(t0.Add(time.Hour + 31*time.Second))
	if _, err := v.ValidateToken(context.Background(), raw); !errors.Is(err, middleware.ErrInvalidToken) {
		t.Fatalf("after expiry: %v", err)
	}
	if n := s.fetches.Load(); n != 1 {
		t.Errorf("%d fetches, want 1", n)
	}
}

func TestJWKSValidatorRefreshOnUnknownKid(t *testing.T) {
	k1 := newTestKey(t, "k1", jose.EdDSA)
	k2 := newTestKey(t, "k2", jose.ES256)
	k3 := newTestKey(t, "k3", jose.ES256)
	s := newJWKSServer(t, k1)
	clk := &tclock{t: t0.Add(time.Minute)}
	v := newJWKSValidator(t, s, clk)
	old := sign(t, k1, goodClaims(), nil)
	if _, err := v.ValidateToken(context.Background(), old); err != nil {
		t.Fatal(err)
	}
	s.set(k2, k1) // rotation: k2 signs, k1 still published
	clk.Set(t0.Add(2 * time.Minute))
	if _, err := v.ValidateToken(context.Background(), sign(t, k2, goodClaims(), nil)); err != nil {
		t.Fatalf("token of the new key: %v", err)
	}
	if _, err := v.ValidateToken(context.Background(), old); err != nil {
		t.Fatalf("token of the previous key after rotation: %v", err)
	}
	// forged kids do not make it fetch again within MinRefreshInterval
	before := s.fetches.Load()
	for range 5 {
		if _, err := v.ValidateToken(context.Background(), sign(t, k3, goodClaims(), nil)); !errors.Is(err, middleware.ErrInvalidToken) {
			t.Fatalf("unknown kid: %v", err)
		}
	}
	if n := s.fetches.Load() - before; n != 0 {
		t.Errorf("%d fetches for unknown kids within the interval, want 0", n)
	}
	// k1 withdrawn: after the next fetch its tokens, cached or not, are refused
	s.set(k2)
	clk.Set(t0.Add(3 * time.Minute))
	_, _ = v.ValidateToken(context.Background(), sign(t, k3, goodClaims(), nil)) // triggers the fetch
	if _, err := v.ValidateToken(context.Background(), old); !errors.Is(err, middleware.ErrInvalidToken) {
		t.Fatalf("token of a withdrawn key: %v", err)
	}
}

func TestJWKSValidatorUnavailable(t *testing.T) {
	k := newTestKey(t, "k1", jose.EdDSA)
	s := newJWKSServer(t, k)
	s.fail.Store(true)
	clk := &tclock{t: t0.Add(time.Minute)}
	v := newJWKSValidator(t, s, clk)
	_, err := v.ValidateToken(context.Background(), sign(t, k, goodClaims(), nil))
	if err == nil || errors.Is(err, middleware.ErrInvalidToken) {
		t.Fatalf("err = %v, want a validator failure (503), not an invalid token", err)
	}
	// RequireOAuth answers 503, not 401, so clients do not drop good tokens
	h := middleware.RequireOAuth(v)(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	req.Header.Set("Authorization", "Bearer "+sign(t, k, goodClaims(), nil))
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") == "" {
		t.Errorf("status %d, Retry-After %q; want 503 with one", rec.Code, rec.Header().Get("Retry-After"))
	}
}

func TestJWKSConfigErrors(t *testing.T) {
	for name, cfg := range map[string]middleware.JWKSConfig{
		"http":     {URL: "http://as.example.com/jwks", Issuer: tIss, Audience: tAud},
		"no aud":   {URL: "https://as.example.com/jwks", Issuer: tIss},
		"HS256":    {URL: "https://as.example.com/jwks", Issuer: tIss, Audience: tAud, Algorithms: []string{"HS256"}},
		"none":     {URL: "https://as.example.com/jwks", Issuer: tIss, Audience: tAud, Algorithms: []string{"none"}},
		"big skew": {URL: "https://as.example.com/jwks", Issuer: tIss, Audience: tAud, ClockSkew: time.Hour},
	} {
		if _, err := middleware.NewJWKSValidator(cfg); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
