package otelmetrics_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"

	"github.com/oauthkit/oauthkit/grant"
	"github.com/oauthkit/oauthkit/grant/otelmetrics"
	"github.com/oauthkit/oauthkit/middleware"
	"github.com/oauthkit/oauthkit/store"
	"github.com/oauthkit/oauthkit/store/memory"
)

// BenchmarkGuard measures RequireOAuth on the validation path (a valid
// opaque token, the memory store) without metrics, with the Guard's hooks
// only, and with the Guard's and the store's: the cost of the adapter is
// the difference, in the same run.
func BenchmarkGuard(b *testing.B) {
	for _, c := range []struct {
		name         string
		guard, store bool
	}{
		{"bare", false, false},
		{"guard-hooks", true, false},
		{"guard-and-store-hooks", true, true},
	} {
		b.Run(c.name, func(b *testing.B) {
			mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))
			b.Cleanup(func() { _ = mp.Shutdown(context.Background()) })
			m, err := otelmetrics.New(mp, otelmetrics.Options{})
			if err != nil {
				b.Fatal(err)
			}
			var opts []memory.Option
			if c.store {
				opts = append(opts, memory.WithObserver(m.StoreCall))
			}
			h, token := guarded(b, memory.New(opts...), m, c.guard)
			req := httptest.NewRequest("GET", "/api/data", nil)
			req.Header.Set("Authorization", "Bearer "+token)
			w := httptest.NewRecorder()
			h.ServeHTTP(w, req)
			if w.Code != 200 {
				b.Fatalf("status %d", w.Code)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				w.Body.Reset()
				h.ServeHTTP(w, req)
			}
		})
	}
}

// guarded returns a handler protected by RequireOAuth with a Provider on
// st, the Guard's hooks set to m's when hooks is true, and a valid token.
func guarded(b *testing.B, st *memory.Store, m *otelmetrics.Metrics, hooks bool) (http.Handler, string) {
	b.Helper()
	secret, hash, err := grant.NewClientSecret()
	if err != nil {
		b.Fatal(err)
	}
	if err := st.CreateClient(b.Context(), &store.Client{ID: "svc", SecretHash: hash, AuthMethod: store.AuthSecretBasic,
		GrantTypes: []string{store.GrantClientCredentials}, Scopes: []string{"read"}}); err != nil {
		b.Fatal(err)
	}
	p, err := grant.NewProvider(grant.Config{Issuer: "https://auth.example", Clients: st, Tokens: st, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	var o middleware.Options
	if hooks {
		o.OnValidated, o.OnFailure = m.OnValidated, m.OnFailure
	}
	g, err := middleware.New(p, o)
	if err != nil {
		b.Fatal(err)
	}
	r := httptest.NewRequest("POST", "/oauth/token", strings.NewReader("grant_type=client_credentials"))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.SetBasicAuth("svc", secret)
	w := httptest.NewRecorder()
	p.TokenHandler().ServeHTTP(w, r)
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(w.Body).Decode(&tok); err != nil || tok.AccessToken == "" {
		b.Fatalf("token: %d %v", w.Code, err)
	}
	return g.Require("read")(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("data")) })), tok.AccessToken
}
