package main

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/oauthkit/oauthkit/grant"
)

// instance is one example app serving on its own loopback port, with its
// own connection to a shared store.
type instance struct {
	app *app
	url string
}

// testGrace is the refresh reuse grace window of the instances: short, so
// that the test can wait past it.
const testGrace = 300 * time.Millisecond

// startInstance opens spec and serves a new app on it, as one of several
// instances behind a load balancer would (same issuer, own process state).
func startInstance(t *testing.T, spec string) *instance {
	t.Helper()
	st, _, err := openStore(t.Context(), spec)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := st.Close(); err != nil {
			t.Error(err)
		}
	})
	a, err := newApp(t.Context(), options{
		Issuer: "http://127.0.0.1:5000", Store: st,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		tune:   func(c *grant.Config) { c.RefreshReuseGrace = testGrace },
	})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("POST /test/revoke", a.provider.RevokeHandler())
	mux.Handle("/", a.handler)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return &instance{app: a, url: srv.URL}
}

// form posts a form to the instance and returns the status and the body.
func (in *instance) form(t *testing.T, path string, vals url.Values, user, pass string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("POST", in.url+path, strings.NewReader(vals.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if user != "" {
		req.SetBasicAuth(user, pass)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

// refresh uses a refresh token of the login client.
func (in *instance) refresh(t *testing.T, rt string) (int, tokenJSON) {
	t.Helper()
	status, body := in.form(t, "/oauth/token", url.Values{
		"grant_type": {"refresh_token"}, "client_id": {loginClientID}, "refresh_token": {rt},
	}, "", "")
	var tok tokenJSON
	_ = json.Unmarshal([]byte(body), &tok)
	if status == 200 && (tok.AccessToken == "" || tok.RefreshToken == "") {
		t.Fatalf("refresh: %s", body)
	}
	return status, tok
}

// valid reports whether the instance accepts the access token.
func (in *instance) valid(t *testing.T, at string) bool {
	t.Helper()
	status, _, body := call(t, "GET", in.url+"/api/data", "", "Bearer "+at, "")
	if status != 200 && status != 401 {
		t.Fatalf("GET /api/data: %d %s", status, body)
	}
	return status == 200
}

func TestSharedPostgres(t *testing.T) { testShared(t, postgresSpec(t)) }

func TestSharedRedis(t *testing.T) { testShared(t, redisSpec(t)) }

// testShared runs two instances on one store: what one issues, rotates or
// revokes, the other sees.
func testShared(t *testing.T, spec string) {
	a := startInstance(t, spec)
	b := startInstance(t, spec) // finds the demo clients registered by a
	if len(b.app.secrets) != 0 {
		t.Errorf("b generated secrets for clients a registered: %v", b.app.secrets)
	}

	// Issued by one, accepted by the other; and a client registered by a
	// authenticates at b.
	tok := login(t, a.url, "user1", "password1")
	if status, _, body := call(t, "GET", b.url+"/api/me", "", "Bearer "+tok.AccessToken, ""); status != 200 || !strings.Contains(body, `"user":"user1"`) {
		t.Fatalf("a's token at b: %d %s", status, body)
	}
	status, body := b.form(t, "/oauth/token", url.Values{"grant_type": {"client_credentials"}}, "demo-service", a.app.secrets["demo-service"])
	var svc tokenJSON
	if _ = json.Unmarshal([]byte(body), &svc); status != 200 || !a.valid(t, svc.AccessToken) {
		t.Fatalf("client_credentials at b: %d %s", status, body)
	}

	// Rotated on a, replayed on b: refused at once; within the grace window
	// (a concurrent retry) the grant lives on, after it the whole family is
	// revoked, the tokens of the rotation included.
	status, rot := a.refresh(t, tok.RefreshToken)
	if status != 200 || !b.valid(t, rot.AccessToken) {
		t.Fatalf("refresh at a: %d", status)
	}
	if status, _ := b.refresh(t, tok.RefreshToken); status != 400 {
		t.Fatalf("replay at b within the grace window: %d, want 400", status)
	}
	if !a.valid(t, rot.AccessToken) {
		t.Fatal("a replay within the grace window revoked the grant")
	}
	time.Sleep(testGrace + 100*time.Millisecond)
	if status, _ := b.refresh(t, tok.RefreshToken); status != 400 {
		t.Fatalf("replay at b: %d, want 400", status)
	}
	for name, in := range map[string]*instance{"a": a, "b": b} {
		if in.valid(t, rot.AccessToken) || in.valid(t, tok.AccessToken) {
			t.Errorf("%s accepts an access token of the revoked family", name)
		}
	}
	if status, _ := a.refresh(t, rot.RefreshToken); status != 400 {
		t.Errorf("the rotated refresh token of the revoked family at a: %d, want 400", status)
	}

	// Revoked on one, refused by the other: a refresh token takes its
	// grant with it (RFC 7009 §2.1), an access token goes alone.
	tok2 := login(t, b.url, "user2", "password2")
	if status, body := a.form(t, "/test/revoke", url.Values{"client_id": {loginClientID}, "token": {tok2.RefreshToken}}, "", ""); status != 200 {
		t.Fatalf("revoke at a: %d %s", status, body)
	}
	if b.valid(t, tok2.AccessToken) {
		t.Error("b accepts an access token whose refresh token a revoked")
	}
	if status, _ := b.refresh(t, tok2.RefreshToken); status != 400 {
		t.Errorf("b refreshes a refresh token a revoked: %d", status)
	}
	if status, body := b.form(t, "/test/revoke", url.Values{"token": {svc.AccessToken}}, "demo-service", a.app.secrets["demo-service"]); status != 200 {
		t.Fatalf("revoke at b: %d %s", status, body)
	}
	if a.valid(t, svc.AccessToken) {
		t.Error("a accepts an access token b revoked")
	}
}
