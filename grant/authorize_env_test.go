package grant_test

import (
	"context"
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

	"golang.org/x/oauth2"

	"github.com/oauthkit/oauthkit/grant"
	"github.com/oauthkit/oauthkit/middleware"
	"github.com/oauthkit/oauthkit/oauthtest"
	"github.com/oauthkit/oauthkit/store"
	"github.com/oauthkit/oauthkit/store/memory"
	"github.com/oauthkit/oauthkit/store/password"
)

// The clients of the authorization endpoint tests.
const (
	azWeb   = "web"   // confidential, Basic, one https redirect URI
	azSPA   = "spa"   // public, loopback redirect URI
	azFirst = "first" // public, first-party: no consent page
	azMulti = "multi" // public, two redirect URIs
	azNoAC  = "noac"  // confidential, client_credentials only
	azLoop  = "loop"  // confidential, Basic, the same loopback redirect URI as azSPA

	azWebRedirect = "https://client.example/cb"
	azSPARedirect = "http://127.0.0.1:9/callback"
)

// azEnv is a Provider with the authorization endpoint, served by an
// httptest.Server, and the secrets of its confidential clients.
type azEnv struct {
	t       *testing.T
	p       *grant.Provider
	st      *memory.Store
	clk     *oauthtest.Clock
	srv     *httptest.Server
	secrets map[string]string
}

func newAZEnv(t *testing.T, opts grant.AuthorizeOptions, mutate ...func(*grant.Config)) *azEnv {
	t.Helper()
	ctx := context.Background()
	// A clock that stands still: throttling windows and code lifetimes do
	// not run out under a slow -race run.
	clk := oauthtest.NewClock(time.Now())
	st := memory.New(memory.WithClock(clk.Now), memory.WithPasswordParams(password.Params{Memory: 1024, Time: 1, Threads: 1}))
	e := &azEnv{t: t, st: st, clk: clk, secrets: map[string]string{}}
	code := []string{store.GrantAuthorizationCode, store.GrantRefreshToken}
	for _, c := range []*store.Client{
		{ID: azWeb, Name: "Web App", AuthMethod: store.AuthSecretBasic, RedirectURIs: []string{azWebRedirect}, GrantTypes: code, Scopes: []string{"read", "write"}},
		{ID: azSPA, Name: "Single-page app", AuthMethod: store.AuthNone, RedirectURIs: []string{azSPARedirect}, GrantTypes: code, Scopes: []string{"read", "write"}},
		{ID: azFirst, Name: "First party", AuthMethod: store.AuthNone, FirstParty: true, RedirectURIs: []string{azWebRedirect}, GrantTypes: code, Scopes: []string{"read"}},
		{ID: azMulti, Name: "Two URIs", AuthMethod: store.AuthNone, RedirectURIs: []string{azWebRedirect, "https://client.example/other"}, GrantTypes: code, Scopes: []string{"read"}},
		{ID: azLoop, Name: "Loopback web app", AuthMethod: store.AuthSecretBasic, RedirectURIs: []string{azSPARedirect}, GrantTypes: code, Scopes: []string{"read"}},
		{ID: azNoAC, Name: "Service", AuthMethod: store.AuthSecretBasic, RedirectURIs: []string{azWebRedirect}, GrantTypes: []string{store.GrantClientCredentials}, Scopes: []string{"read"}},
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
	if err := st.AddUser("1", "user1", "password1"); err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	e.srv = httptest.NewServer(mux)
	t.Cleanup(e.srv.Close)
	cfg := grant.Config{
		Issuer:  e.srv.URL,
		Clients: st, Tokens: st, Users: st,
		Logger: slog.New(slog.DiscardHandler),
		Now:    clk.Now,
	}
	for _, m := range mutate {
		m(&cfg)
	}
	p, err := grant.NewProvider(cfg)
	if err != nil {
		t.Fatal(err)
	}
	e.p = p
	az, err := p.AuthorizeHandler(opts)
	if err != nil {
		t.Fatal(err)
	}
	p.Mount(mux, grant.Pages{Authorize: az})
	mux.Handle("GET /api/data", middleware.RequireOAuth(p, "read")(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, `{"data": "This is protected data."}`)
	})))
	return e
}

// oauth2Config is a golang.org/x/oauth2 configuration for client id.
func (e *azEnv) oauth2Config(id, redirect string, scopes ...string) *oauth2.Config {
	style := oauth2.AuthStyleInHeader
	if e.secrets[id] == "" {
		style = oauth2.AuthStyleInParams
	}
	return &oauth2.Config{
		ClientID: id, ClientSecret: e.secrets[id], RedirectURL: redirect, Scopes: scopes,
		Endpoint: oauth2.Endpoint{
			AuthURL: e.srv.URL + "/oauth/authorize", TokenURL: e.srv.URL + "/oauth/token", AuthStyle: style,
		},
	}
}

// browser is an http.Client with a cookie jar that follows redirects within
// the server and stops at anything else (the client's redirect URI).
func (e *azEnv) browser() *http.Client {
	jar, err := cookiejar.New(nil)
	if err != nil {
		e.t.Fatal(err)
	}
	return &http.Client{Jar: jar, CheckRedirect: func(req *http.Request, via []*http.Request) error {
		if !strings.HasPrefix(req.URL.String(), e.srv.URL+"/") {
			return http.ErrUseLastResponse
		}
		return nil
	}}
}

// noRedirects is an http.Client that never follows a redirect.
func noRedirects() *http.Client {
	return &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// page is a fetched HTML page.
type page struct {
	method string // of the request that got this answer, after redirects
	status int
	header http.Header
	body   string
	url    *url.URL
}

func (e *azEnv) do(c *http.Client, req *http.Request) page {
	e.t.Helper()
	resp, err := c.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return page{status: resp.StatusCode, header: resp.Header, body: string(b), url: resp.Request.URL, method: resp.Request.Method}
}

func (e *azEnv) get(c *http.Client, u string) page {
	e.t.Helper()
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	return e.do(c, req)
}

var (
	inputRE = regexp.MustCompile(`<input\b[^>]*>`)
	attrRE  = regexp.MustCompile(`\b(name|value|type)="([^"]*)"`)
)

// formFields returns the named input fields of the page's form, with their
// values (the HTML form a browser would submit, minus submit buttons).
func formFields(body string) url.Values {
	v := url.Values{}
	for _, in := range inputRE.FindAllString(body, -1) {
		attrs := map[string]string{}
		for _, m := range attrRE.FindAllStringSubmatch(in, -1) {
			attrs[m[1]] = html.UnescapeString(m[2])
		}
		if attrs["name"] != "" {
			v.Set(attrs["name"], attrs["value"])
		}
	}
	return v
}

// submit posts the page's form, with extra fields set, to the page's URL.
func (e *azEnv) submit(c *http.Client, p page, extra url.Values) page {
	e.t.Helper()
	form := formFields(p.body)
	for k, vs := range extra {
		form[k] = vs
	}
	req, err := http.NewRequest(http.MethodPost, p.url.String(), strings.NewReader(form.Encode()))
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	res := e.do(c, req)
	// A redirect answering a POST is a 303, never a 307 that would re-post
	// the form, password included, to the client (RFC 9700 §4.12).
	if res.method == http.MethodPost && res.status >= 300 && res.status < 400 && res.status != http.StatusSeeOther {
		e.t.Fatalf("redirect after a POST: status %d, want 303", res.status)
	}
	return res
}

// login signs in on the login page p and returns the page that follows.
func (e *azEnv) login(c *http.Client, p page) page {
	e.t.Helper()
	if p.status != http.StatusOK || !strings.Contains(p.body, `name="password"`) {
		e.t.Fatalf("expected the login page, got %d: %.300s", p.status, p.body)
	}
	return e.submit(c, p, url.Values{"username": {"user1"}, "password": {"password1"}})
}

// authorize runs the whole browser part of the flow for authURL, answering
// the consent page with answer, and returns the redirect to the client.
func (e *azEnv) authorize(authURL, answer string) *url.URL {
	e.t.Helper()
	c := e.browser()
	p := e.login(c, e.get(c, authURL))
	if p.status == http.StatusOK {
		if !strings.Contains(p.body, `value="allow"`) {
			e.t.Fatalf("expected the consent page, got: %.300s", p.body)
		}
		p = e.submit(c, p, url.Values{"consent": {answer}})
	}
	return e.redirectTo(p)
}

// redirectTo returns where p redirects, failing the test if it does not.
func (e *azEnv) redirectTo(p page) *url.URL {
	e.t.Helper()
	if p.status != http.StatusFound && p.status != http.StatusSeeOther {
		e.t.Fatalf("expected a redirect to the client, got %d: %.300s", p.status, p.body)
	}
	u, err := url.Parse(p.header.Get("Location"))
	if err != nil {
		e.t.Fatal(err)
	}
	return u
}

// code gets an authorization code for cfg with PKCE, returning it and the
// verifier.
func (e *azEnv) code(cfg *oauth2.Config, opts ...oauth2.AuthCodeOption) (code, verifier string) {
	e.t.Helper()
	verifier = oauth2.GenerateVerifier()
	u := e.authorize(cfg.AuthCodeURL("st", append(opts, oauth2.S256ChallengeOption(verifier))...), "allow")
	code = u.Query().Get("code")
	if code == "" {
		e.t.Fatalf("no code in %s", u)
	}
	return code, verifier
}

// tokenRequest posts form to the token endpoint as client id (Basic for
// confidential clients) and returns the status and the error code.
func (e *azEnv) tokenRequest(id string, form url.Values) (int, string) {
	e.t.Helper()
	if e.secrets[id] == "" {
		form.Set("client_id", id)
	}
	req, err := http.NewRequest(http.MethodPost, e.srv.URL+"/oauth/token", strings.NewReader(form.Encode()))
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if s := e.secrets[id]; s != "" {
		req.SetBasicAuth(id, s)
	}
	p := e.do(http.DefaultClient, req)
	m := regexp.MustCompile(`"error":"([a-z_]+)"`).FindStringSubmatch(p.body)
	if m == nil {
		return p.status, ""
	}
	return p.status, m[1]
}

// apiData calls the protected route with tok.
func (e *azEnv) apiData(tok string) int {
	e.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, e.srv.URL+"/api/data", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	return e.do(http.DefaultClient, req).status
}
