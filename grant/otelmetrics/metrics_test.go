package otelmetrics_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/oauthkit/oauthkit/grant"
	"github.com/oauthkit/oauthkit/grant/otelmetrics"
	"github.com/oauthkit/oauthkit/middleware"
	"github.com/oauthkit/oauthkit/store"
	"github.com/oauthkit/oauthkit/store/memory"
)

// fixture is a Provider and a Guard on one test server, every hook wired
// to one Metrics read by a manual reader.
type fixture struct {
	reader            *sdkmetric.ManualReader
	m                 *otelmetrics.Metrics
	srv               *httptest.Server
	svcSecret, appSec string
}

func newFixture(t *testing.T, o otelmetrics.Options) *fixture {
	t.Helper()
	ctx := t.Context()
	f := &fixture{reader: sdkmetric.NewManualReader()}
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(f.reader))
	t.Cleanup(func() { _ = mp.Shutdown(context.Background()) })
	var err error
	if f.m, err = otelmetrics.New(mp, o); err != nil {
		t.Fatal(err)
	}
	st := memory.New(memory.WithObserver(f.m.StoreCall))
	if err := st.AddUser("1", "user1", "password1"); err != nil {
		t.Fatal(err)
	}
	var svcHash, appHash store.Hash
	if f.svcSecret, svcHash, err = grant.NewClientSecret(); err != nil {
		t.Fatal(err)
	}
	if f.appSec, appHash, err = grant.NewClientSecret(); err != nil {
		t.Fatal(err)
	}
	for _, c := range []*store.Client{
		{ID: "svc", SecretHash: svcHash, AuthMethod: store.AuthSecretBasic, GrantTypes: []string{store.GrantClientCredentials}, Scopes: []string{"read"}},
		{ID: "app", SecretHash: appHash, AuthMethod: store.AuthSecretBasic, GrantTypes: []string{store.GrantPassword, store.GrantRefreshToken}, Scopes: []string{"read"}},
	} {
		if err := st.CreateClient(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	mux := http.NewServeMux()
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	p, err := grant.NewProvider(grant.Config{
		Issuer: f.srv.URL, Clients: st, Tokens: st, Users: st,
		GrantTypes:        []string{store.GrantClientCredentials, store.GrantPassword, store.GrantRefreshToken},
		RefreshReuseGrace: -1, // every reuse of a rotated refresh token revokes its grant
		OnEvent:           f.m.OnEvent,
		Logger:            slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatal(err)
	}
	g, err := middleware.New(p, middleware.Options{OnValidated: f.m.OnValidated, OnFailure: f.m.OnFailure})
	if err != nil {
		t.Fatal(err)
	}
	p.Mount(mux, grant.Pages{})
	mux.Handle("GET /api/data", g.Require("read")(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("data")) })))
	return f
}

func (f *fixture) collect(t *testing.T) metricdata.ResourceMetrics {
	t.Helper()
	var rm metricdata.ResourceMetrics
	if err := f.reader.Collect(t.Context(), &rm); err != nil {
		t.Fatal(err)
	}
	return rm
}

func (f *fixture) clientCredentials(t *testing.T, secret string) (*oauth2.Token, error) {
	t.Helper()
	cc := clientcredentials.Config{ClientID: "svc", ClientSecret: secret, TokenURL: f.srv.URL + "/oauth/token", AuthStyle: oauth2.AuthStyleInHeader}
	return cc.Token(t.Context())
}

func (f *fixture) app() *oauth2.Config {
	return &oauth2.Config{ClientID: "app", ClientSecret: f.appSec, Endpoint: oauth2.Endpoint{TokenURL: f.srv.URL + "/oauth/token", AuthStyle: oauth2.AuthStyleInHeader}}
}

// post sends form to path with the client's credentials and returns the
// status.
func (f *fixture) post(t *testing.T, path, id, secret string, form url.Values) int {
	t.Helper()
	req, _ := http.NewRequestWithContext(t.Context(), "POST", f.srv.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(id, secret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// call sends GET /api/data with the token (none if empty) and returns the
// status.
func (f *fixture) call(t *testing.T, token string) int {
	t.Helper()
	req, _ := http.NewRequestWithContext(t.Context(), "GET", f.srv.URL+"/api/data", nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func str(k, v string) attribute.KeyValue { return attribute.String(k, v) }

// TestProviderAndGuard drives a Provider and a Guard through issuance,
// refusals, validation, refresh reuse and revocation, and checks every
// count that each step must add, on its own label set.
func TestProviderAndGuard(t *testing.T) {
	f := newFixture(t, otelmetrics.Options{})
	tok, err := f.clientCredentials(t, f.svcSecret)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.clientCredentials(t, "wrong-secret"); err == nil {
		t.Fatal("a wrong secret got a token")
	}
	if s := f.post(t, "/oauth/token", "svc", f.svcSecret, url.Values{"grant_type": {"x-made-up-by-the-client"}}); s != 400 {
		t.Fatalf("made-up grant type: status %d", s)
	}
	if s := f.call(t, tok.AccessToken); s != 200 {
		t.Fatalf("valid token: status %d", s)
	}
	if s := f.call(t, grant.PrefixAccessToken+"not-a-token-at-all-but-long-enough-000000"); s != 401 {
		t.Fatalf("unknown token: status %d", s)
	}
	if s := f.call(t, ""); s != 401 {
		t.Fatalf("no token: status %d", s)
	}

	app := f.app()
	pt, err := app.PasswordCredentialsToken(t.Context(), "user1", "password1")
	if err != nil {
		t.Fatal(err)
	}
	form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {pt.RefreshToken}}
	if s := f.post(t, "/oauth/token", "app", f.appSec, form); s != 200 {
		t.Fatalf("refresh: status %d", s)
	}
	if s := f.post(t, "/oauth/token", "app", f.appSec, form); s != 400 {
		t.Fatalf("refresh token reused: status %d", s)
	}
	if s := f.post(t, "/oauth/revoke", "svc", f.svcSecret, url.Values{"token": {tok.AccessToken}}); s != 200 {
		t.Fatalf("revoke: status %d", s)
	}
	if s := f.call(t, tok.AccessToken); s != 401 {
		t.Fatalf("revoked token: status %d", s)
	}

	rm := f.collect(t)
	for _, c := range []struct {
		name  string
		attrs []attribute.KeyValue
		want  int64
	}{
		{otelmetrics.NameIssued, []attribute.KeyValue{str("grant_type", "client_credentials")}, 1},
		{otelmetrics.NameIssued, []attribute.KeyValue{str("grant_type", "password")}, 1},
		{otelmetrics.NameIssued, []attribute.KeyValue{str("grant_type", "refresh_token")}, 1},
		{otelmetrics.NameRefused, []attribute.KeyValue{str("grant_type", "client_credentials"), str("error", "invalid_client")}, 1},
		{otelmetrics.NameRefused, []attribute.KeyValue{str("grant_type", "other"), str("error", "unsupported_grant_type")}, 1},
		{otelmetrics.NameRefused, []attribute.KeyValue{str("grant_type", "refresh_token"), str("error", "invalid_grant")}, 1},
		{otelmetrics.NameRevoked, []attribute.KeyValue{str("reason", "refresh_reused")}, 1},
		{otelmetrics.NameRevoked, []attribute.KeyValue{str("reason", "revoked_by_client")}, 1},
		{otelmetrics.NameGuardRefused, []attribute.KeyValue{attribute.Int("status", 401), str("error", "invalid_token")}, 2},
		{otelmetrics.NameGuardRefused, []attribute.KeyValue{attribute.Int("status", 401), str("error", "")}, 1},
	} {
		if got := sum(t, rm, c.name, c.attrs...); got != c.want {
			t.Errorf("%s%v = %d, want %d", c.name, c.attrs, got, c.want)
		}
	}
	if n := len(points(t, rm, otelmetrics.NameValidationDuration)); n != 2 {
		t.Errorf("%s has %d series, want 2 (ok, invalid)", otelmetrics.NameValidationDuration, n)
	}
	for _, c := range []struct {
		name  string
		attrs []attribute.KeyValue
		min   uint64
	}{
		{otelmetrics.NameValidationDuration, []attribute.KeyValue{str("result", "ok")}, 1},
		{otelmetrics.NameValidationDuration, []attribute.KeyValue{str("result", "invalid")}, 2},
		{otelmetrics.NameStoreDuration, []attribute.KeyValue{str("op", "CreateToken"), str("result", "ok")}, 5}, // 1 + 2 + 2 tokens
		{otelmetrics.NameStoreDuration, []attribute.KeyValue{str("op", "Token"), str("result", "not_found")}, 2},
		{otelmetrics.NameStoreDuration, []attribute.KeyValue{str("op", "ConsumeToken"), str("result", "consumed")}, 1},
		{otelmetrics.NameStoreDuration, []attribute.KeyValue{str("op", "Authenticate"), str("result", "ok")}, 1},
		{otelmetrics.NameStoreDuration, []attribute.KeyValue{str("op", "RevokeFamily"), str("result", "ok")}, 1},
	} {
		n, total := histogram(t, rm, c.name, c.attrs...)
		if n < c.min {
			t.Errorf("%s%v: %d measurements (sum %gs), want at least %d", c.name, c.attrs, n, total, c.min)
		}
		if total <= 0 || total > float64(n) {
			t.Errorf("%s%v: sum %gs over %d measurements, want positive durations in seconds", c.name, c.attrs, total, n)
		}
	}
	// No series names a client, a user or a token.
	for _, name := range []string{otelmetrics.NameIssued, otelmetrics.NameRefused, otelmetrics.NameRevoked, otelmetrics.NameGuardRefused} {
		for _, set := range points(t, rm, name) {
			for _, kv := range set.ToSlice() {
				if v := kv.Value.String(); kv.Key == "client_id" || v == "svc" || v == "app" || v == "user1" || strings.HasPrefix(v, "ok") && len(v) > 20 {
					t.Errorf("%s has a series labelled %s=%q", name, kv.Key, v)
				}
			}
		}
	}
}

// TestClientsOptIn checks the client_id attribute: only for listed
// clients, "other" for the rest, none at all by default.
func TestClientsOptIn(t *testing.T) {
	f := newFixture(t, otelmetrics.Options{Clients: []string{"svc"}})
	if _, err := f.clientCredentials(t, f.svcSecret); err != nil {
		t.Fatal(err)
	}
	if _, err := f.app().PasswordCredentialsToken(t.Context(), "user1", "password1"); err != nil {
		t.Fatal(err)
	}
	if s := f.post(t, "/oauth/token", "made-up-client", "x", url.Values{"grant_type": {"client_credentials"}}); s != 401 {
		t.Fatalf("unknown client: status %d", s)
	}
	rm := f.collect(t)
	if got := sum(t, rm, otelmetrics.NameIssued, str("grant_type", "client_credentials"), str("client_id", "svc")); got != 1 {
		t.Errorf("issued to svc = %d, want 1", got)
	}
	if got := sum(t, rm, otelmetrics.NameIssued, str("grant_type", "password"), str("client_id", "other")); got != 1 {
		t.Errorf("issued to an unlisted client = %d, want 1 under client_id other", got)
	}
	if got := sum(t, rm, otelmetrics.NameRefused, str("grant_type", "client_credentials"), str("error", "invalid_client"), str("client_id", "other")); got != 1 {
		t.Errorf("refused for a made-up client = %d, want 1 under client_id other", got)
	}
}

// TestRevocationReasons checks that every reason the Provider gives has
// its short name, and that anything else is "other".
func TestRevocationReasons(t *testing.T) {
	f := newFixture(t, otelmetrics.Options{})
	ctx := t.Context()
	for _, r := range []string{
		grant.ReasonRefreshRevoked, grant.ReasonAccessRevoked, grant.ReasonClientDeleted,
		grant.ReasonCodeReplayed, grant.ReasonDeviceCodeReplayed, grant.ReasonRefreshReused,
		grant.ReasonRotationReused, grant.ReasonRefreshOtherClient, grant.ReasonRotatedOtherClient,
		"something new", "",
	} {
		f.m.OnEvent(ctx, grant.Event{Kind: grant.EventRevoked, Reason: r, ClientID: "svc", Family: "f1"})
	}
	rm := f.collect(t)
	want := map[string]int64{"revoked_by_client": 2, "client_deleted": 1, "code_replayed": 2, "refresh_reused": 2, "wrong_client": 2, "other": 2}
	for reason, n := range want {
		if got := sum(t, rm, otelmetrics.NameRevoked, str("reason", reason)); got != n {
			t.Errorf("revoked{reason=%s} = %d, want %d", reason, got, n)
		}
	}
	if got := len(points(t, rm, otelmetrics.NameRevoked)); got != len(want) {
		t.Errorf("%d reasons, want %d", got, len(want))
	}
}

// TestBoundedLabels sends events and refusals whose values come from
// clients, and checks that they collapse into a few series.
func TestBoundedLabels(t *testing.T) {
	f := newFixture(t, otelmetrics.Options{})
	ctx := t.Context()
	r := httptest.NewRequest("GET", "/", nil)
	for i := range 1000 {
		f.m.OnEvent(ctx, grant.Event{Kind: grant.EventRefused, GrantType: fmt.Sprintf("urn:x:%d", i), Error: "invalid_request", ClientID: fmt.Sprint("c", i)})
		f.m.OnEvent(ctx, grant.Event{Kind: grant.EventRefused, GrantType: "password", Error: fmt.Sprintf("%d %s", i, strings.Repeat("x", i%100))})
		f.m.OnFailure(r, &middleware.Error{Status: 400, Code: "bad code " + fmt.Sprint(i)})
		f.m.StoreCall(ctx, fmt.Sprintf("op with spaces %d", i), 0, nil)
	}
	rm := f.collect(t)
	for name, max := range map[string]int{otelmetrics.NameRefused: 3, otelmetrics.NameGuardRefused: 1} {
		if n := len(points(t, rm, name)); n > max {
			t.Errorf("%s has %d series, want at most %d", name, n, max)
		}
	}
	if n, _ := histogram(t, rm, otelmetrics.NameStoreDuration, str("op", "other"), str("result", "ok")); n != 1000 {
		t.Errorf("store calls under op other = %d, want 1000", n)
	}
	for _, set := range points(t, rm, otelmetrics.NameStoreDuration) {
		if v, _ := set.Value("op"); strings.Contains(v.AsString(), " ") {
			t.Errorf("store call series with op %q", v.AsString())
		}
	}
	if got := sum(t, rm, otelmetrics.NameRefused, str("grant_type", "other"), str("error", "invalid_request")); got != 1000 {
		t.Errorf("refused{grant_type=other} = %d, want 1000", got)
	}
}

func TestCacheLookup(t *testing.T) {
	f := newFixture(t, otelmetrics.Options{})
	ctx := t.Context()
	f.m.CacheLookup(ctx, true)
	f.m.CacheLookup(ctx, true)
	f.m.CacheLookup(ctx, false)
	rm := f.collect(t)
	if h, m := sum(t, rm, otelmetrics.NameCacheLookups, str("result", "hit")), sum(t, rm, otelmetrics.NameCacheLookups, str("result", "miss")); h != 2 || m != 1 {
		t.Errorf("cache lookups: %d hits, %d misses; want 2, 1", h, m)
	}
}

func TestNewNilProvider(t *testing.T) {
	if _, err := otelmetrics.New(nil, otelmetrics.Options{}); err == nil {
		t.Fatal("New(nil) succeeded")
	}
}

// find returns the metric name, failing the test if it is absent.
func find(t *testing.T, rm metricdata.ResourceMetrics, name string) metricdata.Aggregation {
	t.Helper()
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if m.Name == name {
				return m.Data
			}
		}
	}
	return nil
}

// sum returns the counter name's value for exactly attrs (0 if none).
func sum(t *testing.T, rm metricdata.ResourceMetrics, name string, attrs ...attribute.KeyValue) int64 {
	t.Helper()
	s, ok := find(t, rm, name).(metricdata.Sum[int64])
	if !ok {
		return 0
	}
	want := attribute.NewSet(attrs...)
	for _, dp := range s.DataPoints {
		if dp.Attributes.Equals(&want) {
			return dp.Value
		}
	}
	return 0
}

// histogram returns the count and sum of the histogram name for exactly
// attrs.
func histogram(t *testing.T, rm metricdata.ResourceMetrics, name string, attrs ...attribute.KeyValue) (uint64, float64) {
	t.Helper()
	h, ok := find(t, rm, name).(metricdata.Histogram[float64])
	if !ok {
		return 0, 0
	}
	want := attribute.NewSet(attrs...)
	for _, dp := range h.DataPoints {
		if dp.Attributes.Equals(&want) {
			return dp.Count, dp.Sum
		}
	}
	return 0, 0
}

// points returns the label sets of name's series.
func points(t *testing.T, rm metricdata.ResourceMetrics, name string) []attribute.Set {
	t.Helper()
	var out []attribute.Set
	switch d := find(t, rm, name).(type) {
	case metricdata.Sum[int64]:
		for _, dp := range d.DataPoints {
			out = append(out, dp.Attributes)
		}
	case metricdata.Histogram[float64]:
		for _, dp := range d.DataPoints {
			out = append(out, dp.Attributes)
		}
	}
	return out
}
