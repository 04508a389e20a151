package grant_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/oauthkit/oauthkit/grant"
	"github.com/oauthkit/oauthkit/store"
)

// corsRequest sends method to path with an Origin, as a browser would; a
// non-empty preflight makes it a preflight asking for that method.
func (e *azEnv) corsRequest(method, path, origin, preflight string, form url.Values, basic string) page {
	e.t.Helper()
	req, err := http.NewRequest(method, e.srv.URL+path, strings.NewReader(form.Encode()))
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Origin", origin)
	if preflight != "" {
		req.Header.Set("Access-Control-Request-Method", preflight)
		req.Header.Set("Access-Control-Request-Headers", "authorization, content-type")
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if basic != "" {
		req.SetBasicAuth(basic, e.secrets[basic])
	}
	return e.do(http.DefaultClient, req)
}

// TestPublicDocumentsCORS: the metadata document and the JWKS are public,
// so that single-page apps can discover the server and check tokens: every
// origin may read them, without credentials, and a preflight for GET
// succeeds.
func TestPublicDocumentsCORS(t *testing.T) {
	e := newAZEnv(t, grant.AuthorizeOptions{})
	for _, path := range []string{grant.MetadataPath, "/.well-known/jwks.json"} {
		for _, origin := range []string{"https://any.example", "http://127.0.0.1:3000", "null"} {
			p := e.corsRequest(http.MethodGet, path, origin, "", nil, "")
			if p.status != http.StatusOK || p.header.Get("Access-Control-Allow-Origin") != "*" {
				t.Errorf("GET %s from %s: %d, Access-Control-Allow-Origin %q; want 200 and *", path, origin, p.status, p.header.Get("Access-Control-Allow-Origin"))
			}
			if p.header.Get("Access-Control-Allow-Credentials") != "" {
				t.Errorf("GET %s: credentials allowed", path)
			}
		}
		p := e.corsRequest(http.MethodOptions, path, "https://any.example", http.MethodGet, nil, "")
		if p.status/100 != 2 || p.header.Get("Access-Control-Allow-Origin") != "*" || !strings.Contains(p.header.Get("Access-Control-Allow-Methods"), "GET") {
			t.Errorf("preflight GET %s: %d %v", path, p.status, p.header)
		}
		p = e.corsRequest(http.MethodOptions, path, "https://any.example", http.MethodPost, nil, "")
		if strings.Contains(p.header.Get("Access-Control-Allow-Methods"), "POST") {
			t.Errorf("preflight POST %s allowed: %v", path, p.header)
		}
		if p := e.corsRequest(http.MethodPost, path, "https://any.example", "", url.Values{}, ""); p.status != http.StatusMethodNotAllowed {
			t.Errorf("POST %s: %d, want 405", path, p.status)
		}
	}
}

// TestRevokeCORS: the revocation endpoint answers CORS like the token
// endpoint: a preflight only for an origin some client registered, and a
// readable answer only for the calling client's own origins.
func TestRevokeCORS(t *testing.T) {
	e := newAZEnv(t, grant.AuthorizeOptions{})
	for origin, want := range map[string]string{"https://client.example": "https://client.example", "https://evil.example": ""} {
		p := e.corsRequest(http.MethodOptions, "/oauth/revoke", origin, http.MethodPost, nil, "")
		if got := p.header.Get("Access-Control-Allow-Origin"); got != want {
			t.Errorf("preflight from %s: Access-Control-Allow-Origin %q, want %q", origin, got, want)
		}
	}
	for _, tc := range []struct{ client, origin, want string }{
		{azSPA, "http://127.0.0.1:7777", "http://127.0.0.1:7777"}, // public: any loopback port
		{azSPA, "https://client.example", ""},                     // another client's origin
		{azWeb, "https://client.example", "https://client.example"},
		{azWeb, "https://evil.example", ""},
	} {
		form, basic := url.Values{"token": {"okat_unknown"}}, ""
		if e.secrets[tc.client] == "" {
			form.Set("client_id", tc.client)
		} else {
			basic = tc.client
		}
		p := e.corsRequest(http.MethodPost, "/oauth/revoke", tc.origin, "", form, basic)
		if p.status != http.StatusOK {
			t.Errorf("revoke by %s: %d %s", tc.client, p.status, p.body)
		}
		if got := p.header.Get("Access-Control-Allow-Origin"); got != tc.want {
			t.Errorf("revoke by %s from %s: Access-Control-Allow-Origin %q, want %q", tc.client, tc.origin, got, tc.want)
		}
		if !strings.Contains(strings.Join(p.header.Values("Vary"), ","), "Origin") {
			t.Errorf("revoke by %s: no Vary: Origin", tc.client)
		}
	}
}

// TestCORSLoopbackAnyPortPublicOnly is RFC 8252 §7.3 for CORS: a public
// (native or browser) client's loopback redirect URI stands for every
// port, a confidential client's for its own port only.
func TestCORSLoopbackAnyPortPublicOnly(t *testing.T) {
	e := newAZEnv(t, grant.AuthorizeOptions{})
	for _, tc := range []struct{ client, origin, want string }{
		{azLoop, "http://127.0.0.1:9", "http://127.0.0.1:9"},
		{azLoop, "http://127.0.0.1:10", ""},
		{azLoop, "http://127.0.0.1", ""},
		{azSPA, "http://127.0.0.1:10", "http://127.0.0.1:10"},
		{azSPA, "http://127.0.0.1", "http://127.0.0.1"},
		{azSPA, "http://127.0.0.1.attacker.example:9", ""},
		{azSPA, "http://localhost:9", ""},
	} {
		form, basic := url.Values{"grant_type": {"client_credentials"}}, ""
		if e.secrets[tc.client] == "" {
			form.Set("client_id", tc.client)
		} else {
			basic = tc.client
		}
		p := e.corsRequest(http.MethodPost, "/oauth/token", tc.origin, "", form, basic)
		if p.status != http.StatusBadRequest || !strings.Contains(p.body, "unauthorized_client") {
			t.Errorf("%s: %d %s", tc.client, p.status, p.body)
		}
		if got := p.header.Get("Access-Control-Allow-Origin"); got != tc.want {
			t.Errorf("%s from %s: Access-Control-Allow-Origin %q, want %q", tc.client, tc.origin, got, tc.want)
		}
	}
}

// countingRegistry counts the listings of every client.
type countingRegistry struct {
	store.ClientRegistry
	lists atomic.Int32
}

func (c *countingRegistry) Clients(ctx context.Context) ([]*store.Client, error) {
	c.lists.Add(1)
	return c.ClientRegistry.Clients(ctx)
}

// TestPreflightCostBounded: a preflight carries no client_id, so it is
// checked against the origins of every registered client; that set is
// listed once and kept for a short while, not listed again per preflight.
func TestPreflightCostBounded(t *testing.T) {
	var reg *countingRegistry
	e := newAZEnv(t, grant.AuthorizeOptions{}, func(c *grant.Config) {
		reg = &countingRegistry{ClientRegistry: c.Clients.(store.ClientRegistry)}
		c.Clients = reg
	})
	for i := range 50 {
		origin := "https://client.example"
		if i%2 == 1 {
			origin = "https://evil.example"
		}
		_ = e.corsRequest(http.MethodOptions, "/oauth/token", origin, http.MethodPost, nil, "")
	}
	if n := reg.lists.Load(); n != 1 {
		t.Errorf("50 preflights listed the clients %d times, want 1", n)
	}
	// A client registered now is allowed once the cached set has expired.
	if err := e.st.CreateClient(context.Background(), &store.Client{ID: "new", AuthMethod: store.AuthNone,
		RedirectURIs: []string{"https://new.example/cb"}, GrantTypes: []string{store.GrantAuthorizationCode}}); err != nil {
		t.Fatal(err)
	}
	e.clk.Advance(time.Minute)
	if got := e.corsRequest(http.MethodOptions, "/oauth/token", "https://new.example", http.MethodPost, nil, "").header.Get("Access-Control-Allow-Origin"); got != "https://new.example" {
		t.Errorf("preflight from a new client's origin after a minute: %q", got)
	}
	if n := reg.lists.Load(); n != 2 {
		t.Errorf("the clients were listed %d times, want 2", n)
	}
}
