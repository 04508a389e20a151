package grant_test

import (
	"context"
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
	"github.com/oauthkit/oauthkit/middleware"
	"github.com/oauthkit/oauthkit/oauthtest"
	"github.com/oauthkit/oauthkit/store"
	"github.com/oauthkit/oauthkit/store/memory"
	"github.com/oauthkit/oauthkit/store/password"
)

// The clients of the device grant tests.
const (
	devTV    = "tv"    // public, device_code + refresh_token, read write
	devBox   = "box"   // confidential, Basic, device_code, read
	devFirst = "first" // public, first-party, device_code
	devWeb   = "web"   // confidential, authorization_code only
)

// devEnv is a Provider serving the device grant, its verification page and
// /api/data, on the memory store, with a clock that stands still. It
// reuses the page helpers of azEnv.
type devEnv struct {
	*azEnv
}

func newDevEnv(t *testing.T, opts grant.DeviceOptions, mutate ...func(*grant.Config)) *devEnv {
	t.Helper()
	ctx := context.Background()
	clk := oauthtest.NewClock(time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC))
	st := memory.New(memory.WithClock(clk.Now), memory.WithPasswordParams(password.Params{Memory: 1024, Time: 1, Threads: 1}))
	e := &devEnv{&azEnv{t: t, st: st, clk: clk, secrets: map[string]string{}}}
	device := []string{store.GrantDeviceCode, store.GrantRefreshToken}
	for _, c := range []*store.Client{
		{ID: devTV, Name: "Living-room TV", AuthMethod: store.AuthNone, GrantTypes: device, Scopes: []string{"read", "write"}},
		{ID: devBox, Name: "Set-top box", AuthMethod: store.AuthSecretBasic, GrantTypes: []string{store.GrantDeviceCode}, Scopes: []string{"read"}},
		{ID: devFirst, Name: "Our own TV app", AuthMethod: store.AuthNone, FirstParty: true, GrantTypes: device, Scopes: []string{"read"}},
		{ID: devWeb, Name: "Web App", AuthMethod: store.AuthSecretBasic, RedirectURIs: []string{azWebRedirect},
			GrantTypes: []string{store.GrantAuthorizationCode}, Scopes: []string{"read"}},
	} {
		if c.AuthMethod != store.AuthNone {
			secret, hash, err := grant.NewClientSecret()
			if err != nil {
				t.Fatal(err)
			}
			c.SecretHash, e.secrets[c.ID] = hash, secret
		}
		if err := st.CreateClient(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	for _, u := range [][3]string{{"1", "user1", "password1"}, {"2", "user2", "password2"}} {
		if err := st.AddUser(u[0], u[1], u[2]); err != nil {
			t.Fatal(err)
		}
	}
	mux := http.NewServeMux()
	e.srv = httptest.NewServer(mux)
	t.Cleanup(e.srv.Close)
	cfg := grant.Config{
		Issuer:  e.srv.URL,
		Clients: st, Tokens: st, Users: st,
		GrantTypes: []string{store.GrantAuthorizationCode, store.GrantRefreshToken, store.GrantDeviceCode},
		Logger:     slog.New(slog.DiscardHandler),
		Now:        clk.Now,
	}
	for _, m := range mutate {
		m(&cfg)
	}
	p, err := grant.NewProvider(cfg)
	if err != nil {
		t.Fatal(err)
	}
	e.p = p
	dh, err := p.DeviceHandler(opts)
	if err != nil {
		t.Fatal(err)
	}
	p.Mount(mux, grant.Pages{Device: dh})
	mux.Handle("GET /api/data", middleware.RequireOAuth(p, "read")(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, `{"data": "This is protected data."}`)
	})))
	return e
}

// jsonAnswer is a JSON response of the token or device authorization
// endpoint.
type jsonAnswer struct {
	status int
	header http.Header
	body   map[string]any
}

func (a jsonAnswer) str(k string) string { s, _ := a.body[k].(string); return s }

// post posts form to path as client id: with Basic for confidential
// clients, client_id in the form for public ones.
func (e *devEnv) post(path, id string, form url.Values) jsonAnswer {
	e.t.Helper()
	if e.secrets[id] == "" && id != "" {
		form.Set("client_id", id)
	}
	req, err := http.NewRequest(http.MethodPost, e.srv.URL+path, strings.NewReader(form.Encode()))
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if s := e.secrets[id]; s != "" {
		req.SetBasicAuth(id, s)
	}
	p := e.do(http.DefaultClient, req)
	a := jsonAnswer{status: p.status, header: p.header}
	if err := json.Unmarshal([]byte(p.body), &a.body); err != nil {
		e.t.Fatalf("POST %s: %d, not JSON: %.300s", path, p.status, p.body)
	}
	if cc := p.header.Get("Cache-Control"); cc != "no-store" {
		e.t.Errorf("POST %s: Cache-Control %q, want no-store", path, cc)
	}
	return a
}

// deviceAuth starts a device authorization for client id.
func (e *devEnv) deviceAuth(id, scope string) jsonAnswer {
	e.t.Helper()
	form := url.Values{}
	if scope != "" {
		form.Set("scope", scope)
	}
	a := e.post("/oauth/device_authorization", id, form)
	if a.status != http.StatusOK {
		e.t.Fatalf("device authorization for %s: %d %v", id, a.status, a.body)
	}
	return a
}

// poll asks the token endpoint for the device code's tokens as client id.
func (e *devEnv) poll(id, deviceCode string) jsonAnswer {
	e.t.Helper()
	return e.post("/oauth/token", id, url.Values{"grant_type": {store.GrantDeviceCode}, "device_code": {deviceCode}})
}

// wantPoll fails the test unless a is the error code with status 400.
func wantPoll(t *testing.T, a jsonAnswer, code string) {
	t.Helper()
	if a.status != http.StatusBadRequest || a.str("error") != code {
		t.Fatalf("poll: %d %v; want 400 %s", a.status, a.body, code)
	}
}

// enterCode opens the verification page in browser c and submits code.
func (e *devEnv) enterCode(c *http.Client, code string) page {
	e.t.Helper()
	p := e.get(c, e.srv.URL+"/device")
	if p.status != http.StatusOK || !strings.Contains(p.body, `name="user_code"`) {
		e.t.Fatalf("the code entry page: %d %.300s", p.status, p.body)
	}
	return e.submit(c, p, url.Values{"user_code": {code}})
}

// approve runs the user's side in a new browser: the verification URI
// with the code prefilled, Continue, the login page as user, the consent
// page answered with answer. It returns the last page.
func (e *devEnv) approve(complete, user, answer string) page {
	e.t.Helper()
	c := e.browser()
	p := e.get(c, complete)
	if p.status != http.StatusOK || !strings.Contains(p.body, `name="user_code"`) {
		e.t.Fatalf("verification_uri_complete: %d %.300s", p.status, p.body)
	}
	p = e.submit(c, p, nil) // the prefilled code, as the user confirms it
	if p.status != http.StatusOK || !strings.Contains(p.body, `name="password"`) {
		e.t.Fatalf("after the code: %d, want the login page: %.300s", p.status, p.body)
	}
	p = e.submit(c, p, url.Values{"username": {user}, "password": {strings.Replace(user, "user", "password", 1)}})
	if p.status != http.StatusOK || !strings.Contains(p.body, `value="allow"`) {
		e.t.Fatalf("after login: %d, want the consent page: %.300s", p.status, p.body)
	}
	return e.submit(c, p, url.Values{"consent": {answer}})
}
