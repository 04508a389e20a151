package main

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/oauthkit/oauthkit/grant"
)

// BenchmarkValidationCache measures GET /api/data (RequireOAuth, one of
// 1,000 access tokens, in parallel) on the memory store, PostgreSQL and
// Redis, each without and with the validation cache (-validation-cache),
// in one run, so that the cached shared stores can be compared with memory
// (the target: within 2×). PostgreSQL and Redis run when
// OAUTHKIT_TEST_POSTGRES and OAUTHKIT_TEST_REDIS are set.
func BenchmarkValidationCache(b *testing.B) {
	specs := map[string]func(testing.TB) string{
		"memory": func(testing.TB) string { return "memory" }, "postgres": postgresSpec, "redis": redisSpec,
	}
	for _, name := range []string{"memory", "postgres", "redis"} {
		for _, cached := range []bool{false, true} {
			label := name
			if cached {
				label += "+cache"
			}
			b.Run(label, func(b *testing.B) { benchValidate(b, specs[name](b), cached) })
		}
	}
}

func benchValidate(b *testing.B, spec string, cached bool) {
	st, _, err := openStore(b.Context(), spec)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	a, err := newApp(b.Context(), options{
		Issuer: "http://127.0.0.1:5000", Store: st, ValidationCache: cached,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { a.provider.Close() })
	tokens := make([]string, 1000)
	for i := range tokens {
		req := httptest.NewRequest("POST", "/oauth/token", strings.NewReader("grant_type=client_credentials"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth("demo-service", a.secrets["demo-service"])
		rec := httptest.NewRecorder()
		a.handler.ServeHTTP(rec, req)
		at, ok := fieldOf(rec.Body.String(), "access_token")
		if rec.Code != http.StatusOK || !ok {
			b.Fatal(rec.Code, rec.Body.String())
		}
		tokens[i] = "Bearer " + at
	}
	get := func(auth string) int {
		req := httptest.NewRequest("GET", "/api/data", nil)
		req.Header.Set("Authorization", auth)
		rec := httptest.NewRecorder()
		a.handler.ServeHTTP(rec, req)
		return rec.Code
	}
	if cached {
		waitServing(b, a.provider)
		for _, tok := range tokens {
			get(tok)
		}
	}
	var next atomic.Uint64
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if code := get(tokens[next.Add(1)%uint64(len(tokens))]); code != http.StatusOK {
				b.Error(code)
				return
			}
		}
	})
	b.StopTimer()
	if s, ok := a.provider.ValidationCacheStats(); ok && s.Misses > uint64(len(tokens))+uint64(b.N)/100 {
		b.Errorf("the cache missed %d times in %d validations", s.Misses, b.N)
	}
}

// fieldOf finds a string field in a flat JSON object.
func fieldOf(body, k string) (string, bool) {
	i := strings.Index(body, `"`+k+`":"`)
	if i < 0 {
		return "", false
	}
	body = body[i+len(k)+4:]
	return body[:strings.IndexByte(body, '"')], true
}

// waitServing waits until p's validation cache serves.
func waitServing(t testing.TB, p *grant.Provider) {
	t.Helper()
	for deadline := time.Now().Add(15 * time.Second); ; {
		if s, _ := p.ValidationCacheStats(); s.Serving {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("the validation cache did not serve within 15s")
		}
		time.Sleep(time.Millisecond)
	}
}
