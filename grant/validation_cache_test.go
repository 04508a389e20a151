package grant

import (
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/oauthkit/oauthkit/middleware"
	"github.com/oauthkit/oauthkit/store"
)

// testCache is a validation cache whose bound is long enough that a loaded
// machine does not make it stop serving: these tests are not about timing.
var testCache = ValidationCache{Enabled: true, Bound: 5 * time.Second}

func withCache(c *Config) { c.ValidationCache = testCache }

// waitCacheServing waits until p's validation cache serves.
func waitCacheServing(t *testing.T, p *Provider) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		s, ok := p.ValidationCacheStats()
		if !ok {
			t.Fatal("the Provider has no validation cache")
		}
		if s.Serving {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("the validation cache did not serve within 10s")
		}
		time.Sleep(time.Millisecond)
	}
}

// TestValidationCache: two Providers on one memory store, as two instances
// would be on a shared one, each with a validation cache. A token validated
// on both is answered from each cache the second time; revoked on one (the
// token at the revocation endpoint, its family by refresh token reuse, its
// client by RevokeClient), it is refused at once on both.
func TestValidationCache(t *testing.T) {
	f := newFixture(t, withCache, func(c *Config) { c.RefreshReuseGrace = -1 })
	t.Cleanup(func() { f.p.Close() })
	other, err := NewProvider(Config{Issuer: f.p.Issuer(), Clients: f.st, Tokens: f.st, Now: f.clock.Now,
		ValidationCache: testCache, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { other.Close() })
	both := []*Provider{f.p, other}
	for _, p := range both {
		waitCacheServing(t, p)
	}
	valid := func(p *Provider, raw string) bool {
		t.Helper()
		_, err := p.ValidateToken(t.Context(), raw)
		if err != nil && !errors.Is(err, middleware.ErrInvalidToken) {
			t.Fatal(err)
		}
		return err == nil
	}
	// cachedOnBoth validates raw twice on each Provider; the second time
	// must be a hit.
	cachedOnBoth := func(raw string) {
		t.Helper()
		for i, p := range both {
			valid(p, raw)
			before, _ := p.ValidationCacheStats()
			if !valid(p, raw) {
				t.Fatalf("instance %d: a live token refused", i+1)
			}
			if after, _ := p.ValidationCacheStats(); after.Hits != before.Hits+1 {
				t.Fatalf("instance %d: a token validated again was not answered from the cache", i+1)
			}
		}
	}
	refusedOnBoth := func(what, raw string) {
		t.Helper()
		for i, p := range both {
			if valid(p, raw) {
				t.Errorf("%s: instance %d still accepts the token", what, i+1)
			}
		}
	}

	t.Run("token", func(t *testing.T) {
		g := f.passwordGrant(appClient, "read")
		at := g.str("access_token")
		cachedOnBoth(at)
		if got := f.api(at); got != 200 {
			t.Fatalf("RequireOAuth on a cached token: %d", got)
		}
		rec := httptest.NewRecorder()
		req := httptest.NewRequest("POST", "/oauth/revoke", strings.NewReader(url.Values{"token": {at}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth(appClient, f.secrets[appClient])
		f.p.RevokeHandler().ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			t.Fatalf("revoke: %d %s", rec.Code, rec.Body)
		}
		refusedOnBoth("revoked token", at)
		if got := f.api(at); got != 401 {
			t.Errorf("RequireOAuth on a revoked token: %d, want 401", got)
		}
	})
	t.Run("family", func(t *testing.T) {
		g := f.passwordGrant(appClient, "read")
		at, rt := g.str("access_token"), g.str("refresh_token")
		cachedOnBoth(at)
		rotated := f.refresh(appClient, rt, "")
		if rotated.status != 200 {
			t.Fatalf("refresh: %d %s", rotated.status, rotated.raw)
		}
		at2 := rotated.str("access_token")
		cachedOnBoth(at2)
		if reuse := f.refresh(appClient, rt, ""); reuse.status != 400 {
			t.Fatalf("refresh token reuse: %d %s", reuse.status, reuse.raw)
		}
		refusedOnBoth("family revoked by refresh token reuse, first access token", at)
		refusedOnBoth("family revoked by refresh token reuse, rotated access token", at2)
	})
	t.Run("client", func(t *testing.T) {
		cc := f.post("/oauth/token", url.Values{"grant_type": {"client_credentials"}, "scope": {"read"}}, svcClient, f.secrets[svcClient])
		at := cc.str("access_token")
		cachedOnBoth(at)
		if err := f.st.DeleteClient(t.Context(), svcClient); err != nil {
			t.Fatal(err)
		}
		if err := f.p.RevokeClient(t.Context(), svcClient); err != nil {
			t.Fatal(err)
		}
		refusedOnBoth("client revoked", at)
	})
	t.Run("expiry", func(t *testing.T) {
		at := f.passwordGrant(appClient, "read").str("access_token")
		cachedOnBoth(at)
		f.clock.Advance(2 * time.Hour)
		refusedOnBoth("expired token", at)
	})
}

// TestValidationCacheConfig: a store without a change feed, and a bound
// too short, are refused at construction.
func TestValidationCacheConfig(t *testing.T) {
	f := newFixture(t)
	noFeed := struct {
		store.TokenStore
	}{f.st}
	for _, tc := range []struct {
		name  string
		cfg   Config
		field string
	}{
		{"no feed", Config{Tokens: noFeed, ValidationCache: ValidationCache{Enabled: true}}, "store.ChangeFeed"},
		{"short bound", Config{Tokens: f.st, ValidationCache: ValidationCache{Enabled: true, Bound: 10 * time.Millisecond}}, "Bound"},
		{"negative size", Config{Tokens: f.st, ValidationCache: ValidationCache{Enabled: true, MaxBytes: -1}}, "MaxBytes"},
	} {
		tc.cfg.Issuer, tc.cfg.Clients = "https://as.example.com", f.st
		p, err := NewProvider(tc.cfg)
		if err == nil {
			p.Close()
			t.Errorf("%s: NewProvider accepted it", tc.name)
		} else if !strings.Contains(err.Error(), tc.field) {
			t.Errorf("%s: error %q does not name %s", tc.name, err, tc.field)
		}
	}
	if _, ok := f.p.ValidationCacheStats(); ok {
		t.Error("a Provider without a cache reports cache stats")
	}
	if err := f.p.Close(); err != nil {
		t.Errorf("Close of a Provider without a cache: %v", err)
	}
}

// TestValidationCacheClose: Close stops the cache's goroutines; validation
// still works, from the store.
func TestValidationCacheClose(t *testing.T) {
	f := newFixture(t)
	at := f.passwordGrant(appClient, "read").str("access_token")
	before := runtime.NumGoroutine()
	p, err := NewProvider(Config{Issuer: f.p.Issuer(), Clients: f.st, Tokens: f.st, Now: f.clock.Now,
		ValidationCache: testCache, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	waitCacheServing(t, p)
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	after := runtime.NumGoroutine()
	for deadline := time.Now().Add(time.Second); after > before && time.Now().Before(deadline); after = runtime.NumGoroutine() {
		time.Sleep(time.Millisecond) // a goroutine that has signalled its end may not have returned yet
	}
	if after > before {
		t.Errorf("%d goroutines after Close, %d before NewProvider", after, before)
	}
	if _, err := p.ValidateToken(t.Context(), at); err != nil {
		t.Errorf("validation after Close: %v", err)
	}
}
