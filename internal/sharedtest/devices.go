package sharedtest

import (
	"encoding/json"
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/oauthkit/oauthkit/grant"
	"github.com/oauthkit/oauthkit/oauthtest"
	"github.com/oauthkit/oauthkit/store"
	"github.com/oauthkit/oauthkit/store/storetest"
)

// deviceInstance is one Provider serving the device grant and its
// verification page over a shared store.
type deviceInstance struct {
	t   *testing.T
	srv *httptest.Server
}

const deviceClient = "tv"

func newDeviceInstance(t *testing.T, st storetest.Store, users store.UserStore, secret []byte, clk *oauthtest.Clock) *deviceInstance {
	t.Helper()
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	p, err := grant.NewProvider(grant.Config{
		Issuer: "http://127.0.0.1", Clients: st, Tokens: st, Users: users, Secret: secret,
		GrantTypes: []string{store.GrantDeviceCode}, Now: clk.Now, Logger: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatal(err)
	}
	dh, err := p.DeviceHandler(grant.DeviceOptions{})
	if err != nil {
		t.Fatal(err)
	}
	p.Mount(mux, grant.Pages{Device: dh})
	return &deviceInstance{t: t, srv: srv}
}

// post sends a form as the public device client and decodes the JSON
// answer.
func (in *deviceInstance) post(path string, form url.Values) (int, map[string]any) {
	in.t.Helper()
	form.Set("client_id", deviceClient)
	resp, err := http.PostForm(in.srv.URL+path, form)
	if err != nil {
		in.t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		in.t.Fatal(err)
	}
	return resp.StatusCode, body
}

func (in *deviceInstance) poll(deviceCode string) (int, map[string]any) {
	return in.post("/oauth/token", url.Values{"grant_type": {store.GrantDeviceCode}, "device_code": {deviceCode}})
}

var inputRE = regexp.MustCompile(`<input\b[^>]*\bname="([^"]*)"[^>]*\bvalue="([^"]*)"`)

// submit posts the form of the page body to the instance's verification
// page, with extra fields set, in browser c.
func (in *deviceInstance) submit(c *http.Client, body string, extra url.Values) (int, string) {
	in.t.Helper()
	form := url.Values{}
	for _, m := range inputRE.FindAllStringSubmatch(body, -1) {
		form.Set(m[1], html.UnescapeString(m[2]))
	}
	for k, v := range extra {
		form[k] = v
	}
	resp, err := c.PostForm(in.srv.URL+"/device", form)
	if err != nil {
		in.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func (in *deviceInstance) page(c *http.Client) string {
	in.t.Helper()
	resp, err := c.Get(in.srv.URL + "/device")
	if err != nil {
		in.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

func browser() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar}
}

// Devices runs the device authorization grant over two Providers sharing
// Config.Secret, each on its own handle (a and b) to one shared database,
// as two instances behind a load balancer: a code issued by one is
// approved on the other's page, in a session the first began; a poll to
// one right after a poll to the other is told slow_down; the tokens are
// given once, and a redemption on the other instance revokes them; wrong
// codes entered on both count together.
func Devices(t *testing.T, a, b storetest.Store) {
	err := a.CreateClient(t.Context(), &store.Client{ID: deviceClient, AuthMethod: store.AuthNone,
		GrantTypes: []string{store.GrantDeviceCode}, Scopes: []string{"read"}, CreatedAt: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	users := newUsers(t)
	secret := []byte(strings.Repeat("shared secret. ", 3))
	clk := oauthtest.NewClock(time.Now())
	one, two := newDeviceInstance(t, a, users, secret, clk), newDeviceInstance(t, b, users, secret, clk)

	s, da := one.post("/oauth/device_authorization", url.Values{"scope": {"read"}})
	if s != http.StatusOK {
		t.Fatalf("device authorization: %d %v", s, da)
	}
	dc, uc := da["device_code"].(string), da["user_code"].(string)
	if s, r := one.poll(dc); s != 400 || r["error"] != grant.CodeAuthorizationPending {
		t.Fatalf("first poll: %d %v", s, r)
	}
	if s, r := two.poll(dc); s != 400 || r["error"] != grant.CodeSlowDown {
		t.Fatalf("a poll to the other instance at once: %d %v, want slow_down", s, r)
	}

	// The user: the code on instance one's page, the login and Allow on
	// instance two's (the session is the same cookie, the secret shared).
	c := browser()
	if s, body := one.submit(c, one.page(c), url.Values{"user_code": {uc}}); s != 200 || !strings.Contains(body, `name="password"`) {
		t.Fatalf("code on instance one: %d %.300s", s, body)
	}
	s, body := two.submit(c, two.page(c), url.Values{"username": {"user1"}, "password": {"password1"}})
	if s != 200 || !strings.Contains(body, `value="allow"`) {
		t.Fatalf("login on instance two: %d %.300s", s, body)
	}
	if s, body := two.submit(c, body, url.Values{"consent": {"allow"}}); s != 200 || !strings.Contains(body, "return to your device") {
		t.Fatalf("allow on instance two: %d %.300s", s, body)
	}
	clk.Advance(time.Minute)
	s, tok := one.poll(dc)
	if s != http.StatusOK || tok["access_token"] == nil {
		t.Fatalf("poll after approval: %d %v", s, tok)
	}
	if s, r := two.poll(dc); s != 400 || r["error"] != grant.CodeInvalidGrant {
		t.Fatalf("a second redemption on the other instance: %d %v", s, r)
	}
	if _, err := a.Token(t.Context(), store.HashSecret(tok["access_token"].(string))); err == nil {
		t.Fatal("the access token survived the replay")
	}

	// Wrong codes on both instances count together (Throttle.PerAccount,
	// 5 at once, for one address).
	for i := range 5 {
		in := []*deviceInstance{one, two}[i%2]
		if s, _ := in.submit(c, in.page(c), url.Values{"user_code": {"BCDF-GHJK"}}); s != http.StatusBadRequest {
			t.Fatalf("wrong code %d: %d", i+1, s)
		}
	}
	for i, in := range []*deviceInstance{one, two} {
		if s, _ := in.submit(c, in.page(c), url.Values{"user_code": {"BCDF-GHJK"}}); s != http.StatusTooManyRequests {
			t.Fatalf("instance %d after five wrong codes over both: %d, want 429", i+1, s)
		}
	}
}
