package main

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/oauthkit/oauthkit/grant"
)

// instance is one example app serving on its own loopback port, with its
// own connection to a shared store.
type instance struct {
	app *app
	url string

	dropNext atomic.Bool // drop the connection of the next token request after serving it
	dropped  chan string // the answer that was not sent
}

// testGrace is the refresh reuse grace window of the instances: short, so
// that the test can wait past it.
const testGrace = 500 * time.Millisecond

// startInstance opens spec and serves a new app on it, as one of several
// instances behind a load balancer would (same issuer, the provider secret
// from $OAUTHKIT_SESSION_KEY, own process state).
func startInstance(t *testing.T, spec string) *instance {
	t.Helper()
	key, err := sessionKey()
	if err != nil {
		t.Fatal(err)
	}
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
		Issuer: "http://127.0.0.1:5000", Store: st, Secret: key,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		tune:   func(c *grant.Config) { c.RefreshReuseGrace = testGrace },
	})
	if err != nil {
		t.Fatal(err)
	}
	in := &instance{app: a, dropped: make(chan string, 1)}
	mux := http.NewServeMux()
	mux.Handle("POST /test/revoke", a.provider.RevokeHandler())
	mux.Handle("/", a.handler)
	mux.Handle("POST /oauth/token", in.dropper(a.handler))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	in.url = srv.URL
	return in
}

// dropper serves token requests, but when dropNext is set it serves one in
// full and then closes the connection instead of answering, as a crash, a
// timeout or a lost network would leave the client.
func (in *instance) dropper(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !in.dropNext.CompareAndSwap(true, false) {
			next.ServeHTTP(w, r)
			return
		}
		rec := httptest.NewRecorder()
		next.ServeHTTP(rec, r)
		in.dropped <- rec.Body.String()
		if conn, _, err := http.NewResponseController(w).Hijack(); err == nil {
			conn.Close()
		}
	})
}

// lostRefresh refreshes rt, and the answer is lost on its way: it returns
// what the client never received.
func (in *instance) lostRefresh(t *testing.T, rt string) tokenJSON {
	t.Helper()
	in.dropNext.Store(true)
	req, _ := http.NewRequest("POST", in.url+"/oauth/token", strings.NewReader(url.Values{
		"grant_type": {"refresh_token"}, "client_id": {loginClientID}, "refresh_token": {rt},
	}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if res, err := http.DefaultClient.Do(req); err == nil {
		res.Body.Close()
		t.Fatalf("the dropped refresh was answered: %d", res.StatusCode)
	}
	var tok tokenJSON
	if body := <-in.dropped; json.Unmarshal([]byte(body), &tok) != nil || tok.RefreshToken == "" {
		t.Fatalf("the dropped refresh: %s", body)
	}
	return tok
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

func TestSharedRedisCluster(t *testing.T) { testShared(t, redisClusterSpec(t)) }

// testShared runs two instances on one store, with one provider secret:
// what one issues, rotates or revokes, the other sees.
func testShared(t *testing.T, spec string) {
	key := make([]byte, 32)
	rand.Read(key)
	t.Setenv(sessionKeyEnv, base64.StdEncoding.EncodeToString(key))
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

	// A refresh whose answer is lost on a (a has rotated the token, the
	// client never hears of it), retried at once on b: the same tokens,
	// and the user stays signed in.
	lost := a.lostRefresh(t, tok.RefreshToken)
	status, rot := b.refresh(t, tok.RefreshToken)
	if status != 200 || rot != lost {
		t.Fatalf("retry at b of a refresh lost at a: %d %+v, want the lost answer %+v", status, rot, lost)
	}
	if !a.valid(t, rot.AccessToken) || !b.valid(t, rot.AccessToken) {
		t.Fatal("the retried access token is refused")
	}
	status, rot2 := a.refresh(t, rot.RefreshToken)
	if status != 200 || !b.valid(t, rot2.AccessToken) {
		t.Fatalf("refresh at a with the retried refresh token: %d", status)
	}

	// After the grace, the first token replayed: the whole family is revoked
	// on every instance, the tokens of the rotations included.
	time.Sleep(testGrace + 100*time.Millisecond)
	if status, _ := b.refresh(t, tok.RefreshToken); status != 400 {
		t.Fatalf("replay at b: %d, want 400", status)
	}
	for name, in := range map[string]*instance{"a": a, "b": b} {
		for _, at := range []string{tok.AccessToken, rot.AccessToken, rot2.AccessToken} {
			if in.valid(t, at) {
				t.Errorf("%s accepts an access token of the revoked family", name)
			}
		}
	}
	if status, _ := a.refresh(t, rot2.RefreshToken); status != 400 {
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
