package main

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
)

// BenchmarkBackends measures the example app on each backend, in-process
// (no network between client and app), in parallel:
//
//   - Issue: POST /oauth/token with client_credentials, the whole token
//     endpoint (client authentication, a new token, one CreateToken).
//   - Validate: GET /api/data with one of 1,000 access tokens, through
//     RequireOAuth (one Token lookup).
//
// PostgreSQL and Redis run when their servers answer (testservices).
func BenchmarkBackends(b *testing.B) {
	specs := map[string]func(testing.TB) string{
		"memory": func(testing.TB) string { return "memory" },
		"sqlite": sqliteSpec, "postgres": postgresSpec, "redis": redisSpec,
	}
	for _, name := range []string{"memory", "sqlite", "postgres", "redis"} {
		b.Run(name, func(b *testing.B) { benchBackend(b, specs[name](b)) })
	}
}

func benchBackend(b *testing.B, spec string) {
	st, _, err := openStore(b.Context(), spec)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	a, err := newApp(b.Context(), options{
		Issuer: "http://127.0.0.1:5000", Store: st,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		b.Fatal(err)
	}
	secret := a.secrets["demo-service"]
	issue := func() (string, bool) {
		req := httptest.NewRequest("POST", "/oauth/token", strings.NewReader("grant_type=client_credentials"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth("demo-service", secret)
		rec := httptest.NewRecorder()
		a.handler.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			return rec.Body.String(), false
		}
		body := rec.Body.String()
		i := strings.Index(body, `"access_token":"`)
		if i < 0 {
			return body, false
		}
		body = body[i+len(`"access_token":"`):]
		return body[:strings.IndexByte(body, '"')], true
	}
	b.Run("Issue", func(b *testing.B) {
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if body, ok := issue(); !ok {
					b.Error(body)
					return
				}
			}
		})
	})
	b.Run("Validate", func(b *testing.B) {
		tokens := make([]string, 1000)
		for i := range tokens {
			at, ok := issue()
			if !ok {
				b.Fatal(at)
			}
			tokens[i] = "Bearer " + at
		}
		var next atomic.Uint64
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				req := httptest.NewRequest("GET", "/api/data", nil)
				req.Header.Set("Authorization", tokens[next.Add(1)%uint64(len(tokens))])
				rec := httptest.NewRecorder()
				a.handler.ServeHTTP(rec, req)
				if rec.Code != http.StatusOK {
					b.Error(rec.Code, rec.Body.String())
					return
				}
			}
		})
	})
}
