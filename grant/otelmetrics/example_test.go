package otelmetrics_test

import (
	"context"
	"fmt"
	"log"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"

	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/oauthkit/oauthkit/grant"
	"github.com/oauthkit/oauthkit/grant/otelmetrics"
	"github.com/oauthkit/oauthkit/middleware"
	"github.com/oauthkit/oauthkit/store"
	"github.com/oauthkit/oauthkit/store/memory"
)

// A Provider, its store and a Guard, all counted. Here a manual reader
// reads the instruments; a service gives the MeterProvider a Prometheus
// or OTLP exporter instead.
func Example() {
	ctx := context.Background()
	reader := sdkmetric.NewManualReader()
	m, err := otelmetrics.New(sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader)), otelmetrics.Options{})
	if err != nil {
		log.Fatal(err)
	}
	st := memory.New(memory.WithObserver(m.StoreCall))
	p, err := grant.NewProvider(grant.Config{
		Issuer: "https://auth.example.com", Clients: st, Tokens: st,
		OnEvent: m.OnEvent, Logger: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		log.Fatal(err)
	}
	g, err := middleware.New(p, middleware.Options{OnValidated: m.OnValidated, OnFailure: m.OnFailure})
	if err != nil {
		log.Fatal(err)
	}
	api := g.Require("read")(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))

	secret, hash, _ := grant.NewClientSecret()
	_ = st.CreateClient(ctx, &store.Client{ID: "reporting", SecretHash: hash, AuthMethod: store.AuthSecretBasic,
		GrantTypes: []string{store.GrantClientCredentials}, Scopes: []string{"read"}})
	r := httptest.NewRequest("POST", "/oauth/token", strings.NewReader("grant_type=client_credentials"))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.SetBasicAuth("reporting", secret)
	p.TokenHandler().ServeHTTP(httptest.NewRecorder(), r)
	r = httptest.NewRequest("GET", "/api", nil)
	r.Header.Set("Authorization", "Bearer okat_unknown")
	api.ServeHTTP(httptest.NewRecorder(), r)

	var rm metricdata.ResourceMetrics
	_ = reader.Collect(ctx, &rm)
	for _, sm := range rm.ScopeMetrics {
		for _, mt := range sm.Metrics {
			if s, ok := mt.Data.(metricdata.Sum[int64]); ok {
				for _, dp := range s.DataPoints {
					fmt.Println(mt.Name, dp.Attributes.Encoded(attribute.DefaultEncoder()), dp.Value)
				}
			}
		}
	}
	// Unordered output:
	// oauthkit.provider.issued grant_type=client_credentials 1
	// oauthkit.guard.refused error=invalid_token,status=401 1
}
