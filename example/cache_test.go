package main

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestValidationCacheOption: -validation-cache puts the Provider's cache in
// front of a store with a change feed, whose revocations it follows, and
// is refused, at start, on SQLite, which has none.
func TestValidationCacheOption(t *testing.T) {
	for name, spec := range map[string]func(testing.TB) string{
		"memory": func(testing.TB) string { return "memory" }, "postgres": postgresSpec, "redis": redisSpec, "sqlite": sqliteSpec,
	} {
		t.Run(name, func(t *testing.T) {
			st, _, err := openStore(t.Context(), spec(t))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { st.Close() })
			a, err := newApp(t.Context(), options{Issuer: "http://127.0.0.1:5000", Store: st, ValidationCache: true,
				Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
			if name == "sqlite" {
				if err == nil || !strings.Contains(err.Error(), "change feed") {
					t.Fatalf("-validation-cache on SQLite: %v, want an error about the change feed", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { a.provider.Close() })
			waitServing(t, a.provider)
			do := func(method, path, body, auth string) *httptest.ResponseRecorder {
				req := httptest.NewRequest(method, path, strings.NewReader(body))
				if body != "" {
					req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				}
				if auth != "" {
					req.Header.Set("Authorization", auth)
				} else {
					req.SetBasicAuth("demo-service", a.secrets["demo-service"])
				}
				rec := httptest.NewRecorder()
				a.handler.ServeHTTP(rec, req)
				return rec
			}
			at, _ := fieldOf(do("POST", "/oauth/token", "grant_type=client_credentials", "").Body.String(), "access_token")
			for range 2 {
				if rec := do("GET", "/api/data", "", "Bearer "+at); rec.Code != http.StatusOK {
					t.Fatalf("/api/data: %d", rec.Code)
				}
			}
			if s, ok := a.provider.ValidationCacheStats(); !ok || s.Hits == 0 {
				t.Fatalf("the second request was not answered from the cache: %+v", s)
			}
			if rec := do("POST", "/oauth/revoke", "token="+at, ""); rec.Code != http.StatusOK {
				t.Fatalf("revoke: %d %s", rec.Code, rec.Body)
			}
			if rec := do("GET", "/api/data", "", "Bearer "+at); rec.Code != http.StatusUnauthorized {
				t.Errorf("/api/data with the revoked token: %d, want 401", rec.Code)
			}
		})
	}
}

// TestValidationCacheFlag: the example serves with -validation-cache, and
// refuses to start with it on SQLite (exit status 2, the reason on
// stderr).
func TestValidationCacheFlag(t *testing.T) {
	base, _ := startExample(t, "-validation-cache")
	status, _, body := call(t, "POST", base+"/login", "application/json", "", `{"username": "user1", "password": "password1"}`)
	at, ok := fieldOf(body, "access_token")
	if status != http.StatusOK || !ok {
		t.Fatalf("POST /login: %d %s", status, body)
	}
	for range 2 {
		if status, _, body := call(t, "GET", base+"/api/data", "", "Bearer "+at, ""); status != http.StatusOK {
			t.Fatalf("GET /api/data: %d %s", status, body)
		}
	}
	var stdout, stderr strings.Builder
	code := run(t.Context(), []string{"-addr", "127.0.0.1:0", "-validation-cache", "-store", sqliteSpec(t)}, &stdout, &stderr)
	if code != 2 || !strings.Contains(stderr.String(), "change feed") {
		t.Errorf("-validation-cache on SQLite: exit %d, stderr %q; want 2 and the reason", code, stderr.String())
	}
}

// TestValidationCacheMetrics: with -metrics, the cache's lookups are
// counted, hits and misses apart.
func TestValidationCacheMetrics(t *testing.T) {
	maddr := freeAddr(t)
	base, _ := startExample(t, "-validation-cache", "-metrics", maddr)
	status, _, body := call(t, "POST", base+"/login", "application/json", "", `{"username": "user1", "password": "password1"}`)
	at, ok := fieldOf(body, "access_token")
	if status != http.StatusOK || !ok {
		t.Fatalf("POST /login: %d %s", status, body)
	}
	for range 3 {
		if status, _, _ := call(t, "GET", base+"/api/data", "", "Bearer "+at, ""); status != http.StatusOK {
			t.Fatalf("GET /api/data: %d", status)
		}
	}
	_, _, text := call(t, "GET", "http://"+maddr+"/metrics", "", "", "")
	for _, series := range []string{`oauthkit_cache_lookups_total{result="hit"}`, `oauthkit_cache_lookups_total{result="miss"}`} {
		if v, ok := sample(text, series); !ok || v < 1 {
			t.Errorf("%s = %v (present %v), want at least 1", series, v, ok)
		}
	}
}
