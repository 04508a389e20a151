package middleware_test

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/oauthkit/oauthkit/middleware"
)

// fakeAS answers introspection requests from a table of tokens.
type fakeAS struct {
	answers map[string]map[string]any
	calls   atomic.Int32
	srv     *httptest.Server
}

func newFakeAS(t testing.TB, answers map[string]map[string]any) *fakeAS {
	a := &fakeAS{answers: answers}
	a.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a.calls.Add(1)
		id, secret, ok := r.BasicAuth()
		if !ok || id != "rs" || secret != "rs-secret" || r.Method != http.MethodPost ||
			r.Header.Get("Content-Type") != "application/x-www-form-urlencoded" {
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = w.Write([]byte(`{"error":"invalid_client"}`))
			return
		}
		ans, ok := a.answers[r.PostFormValue("token")]
		if !ok {
			ans = map[string]any{"active": false}
		}
		_ = json.NewEncoder(w).Encode(ans)
	}))
	t.Cleanup(a.srv.Close)
	return a
}

func newIntrospector(t testing.TB, a *fakeAS, clk *tclock, mutate ...func(*middleware.IntrospectionConfig)) *middleware.IntrospectionValidator {
	t.Helper()
	cfg := middleware.IntrospectionConfig{URL: a.srv.URL, ClientID: "rs", ClientSecret: "rs-secret", Issuer: tIss, Audience: tAud, Now: clk.Now}
	for _, m := range mutate {
		m(&cfg)
	}
	v, err := middleware.NewIntrospectionValidator(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func active(exp time.Time) map[string]any {
	return map[string]any{"active": true, "scope": "read", "client_id": "app", "sub": "1", "username": "user1",
		"token_type": "Bearer", "exp": exp.Unix(), "iat": t0.Unix(), "iss": tIss, "aud": tAud}
}

func TestIntrospectionValidator(t *testing.T) {
	refresh := active(t0.Add(time.Hour))
	refresh["token_type"] = "refresh_token"
	wrongAud := active(t0.Add(time.Hour))
	wrongAud["aud"] = []string{"https://other.example"}
	a := newFakeAS(t, map[string]map[string]any{
		"good": active(t0.Add(time.Hour)), "short": active(t0.Add(10 * time.Second)),
		"refresh": refresh, "wrong-aud": wrongAud,
	})
	clk := &tclock{t: t0}
	v := newIntrospector(t, a, clk)
	ctx := context.Background()
	tok, err := v.ValidateToken(ctx, "good")
	if err != nil || tok.Subject != "1" || tok.Username != "user1" || !tok.HasScope("read") || tok.ClientID != "app" {
		t.Fatalf("good: %+v %v", tok, err)
	}
	for _, raw := range []string{"unknown", "refresh", "wrong-aud"} {
		if _, err := v.ValidateToken(ctx, raw); !errors.Is(err, middleware.ErrInvalidToken) {
			t.Errorf("%s: %v", raw, err)
		}
	}
	// cached for CacheTTL (30s), not past exp
	a.calls.Store(0)
	_, _ = v.ValidateToken(ctx, "good")
	_, _ = v.ValidateToken(ctx, "short")
	_, _ = v.ValidateToken(ctx, "short")
	if n := a.calls.Load(); n != 1 {
		t.Errorf("%d calls, want 1 (good cached, short fetched once)", n)
	}
	clk.Set(t0.Add(11 * time.Second))
	if _, err := v.ValidateToken(ctx, "short"); !errors.Is(err, middleware.ErrInvalidToken) {
		t.Errorf("short after its exp: %v", err)
	}
	delete(a.answers, "good") // revoked at the AS
	if _, err := v.ValidateToken(ctx, "good"); err != nil {
		t.Errorf("within CacheTTL the cached answer stands: %v", err)
	}
	clk.Set(t0.Add(31 * time.Second))
	if _, err := v.ValidateToken(ctx, "good"); !errors.Is(err, middleware.ErrInvalidToken) {
		t.Errorf("revoked, after CacheTTL: %v", err)
	}
}

func TestIntrospectionValidatorFailures(t *testing.T) {
	a := newFakeAS(t, map[string]map[string]any{"good": active(t0.Add(time.Hour))})
	clk := &tclock{t: t0}
	v := newIntrospector(t, a, clk, func(c *middleware.IntrospectionConfig) { c.ClientSecret = "wrong" })
	_, err := v.ValidateToken(context.Background(), "good")
	if err == nil || errors.Is(err, middleware.ErrInvalidToken) {
		t.Fatalf("rejected credentials: %v, want a validator failure", err)
	}
	for name, cfg := range map[string]middleware.IntrospectionConfig{
		"no secret": {URL: "https://as.example.com/i", ClientID: "rs"},
		"http":      {URL: "http://as.example.com/i", ClientID: "rs", ClientSecret: "s"},
	} {
		if _, err := middleware.NewIntrospectionValidator(cfg); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// TestIntrospectionTimeout: an authorization server that never answers
// costs a request at most Timeout, whatever the HTTP client's own timeout.
func TestIntrospectionTimeout(t *testing.T) {
	hang := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-hang:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(func() { close(hang); srv.Close() })
	clk := &tclock{t: t0}
	v := newIntrospector(t, &fakeAS{srv: srv}, clk, func(c *middleware.IntrospectionConfig) {
		c.HTTPClient = &http.Client{} // no timeout of its own
		c.Timeout = 50 * time.Millisecond
		c.Logger = slog.New(slog.DiscardHandler)
	})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	_, err := v.ValidateToken(ctx, "good")
	if err == nil || errors.Is(err, middleware.ErrInvalidToken) || ctx.Err() != nil {
		t.Fatalf("err = %v, ctx.Err() = %v; want a validator failure well before the request's own deadline", err, ctx.Err())
	}
}

// TestIntrospectionAnswerBounded: an answer larger than 64 KiB (here an
// endless one) is refused.
func TestIntrospectionAnswerBounded(t *testing.T) {
	var sent atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(`{"active":true,"scope":"`))
		chunk := make([]byte, 32<<10)
		for i := range chunk {
			chunk[i] = 'a'
		}
		for range 1024 { // 32 MiB, unless the client hangs up
			n, err := w.Write(chunk)
			sent.Add(int64(n))
			if err != nil {
				return
			}
		}
	}))
	t.Cleanup(srv.Close)
	v := newIntrospector(t, &fakeAS{srv: srv}, &tclock{t: t0}, func(c *middleware.IntrospectionConfig) {
		c.Logger = slog.New(slog.DiscardHandler)
	})
	if _, err := v.ValidateToken(context.Background(), "good"); err == nil || errors.Is(err, middleware.ErrInvalidToken) {
		t.Fatalf("oversized answer: %v, want a validator failure", err)
	}
}
