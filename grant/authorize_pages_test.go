package grant_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/oauth2"

	"github.com/oauthkit/oauthkit/grant"
	"github.com/oauthkit/oauthkit/store"
	"github.com/oauthkit/oauthkit/store/memory"
)

func (e *azEnv) authURL(id, redirect string) string {
	return e.oauth2Config(id, redirect, "read").AuthCodeURL("s", oauth2.S256ChallengeOption(oauth2.GenerateVerifier()))
}

func TestAuthorizePageHeaders(t *testing.T) {
	e := newAZEnv(t, grant.AuthorizeOptions{})
	p := e.get(e.browser(), e.authURL(azWeb, azWebRedirect))
	if p.status != http.StatusOK {
		t.Fatalf("status %d", p.status)
	}
	csp := p.header.Get("Content-Security-Policy")
	for _, want := range []string{"default-src 'none'", "frame-ancestors 'none'", "style-src 'sha256-", "form-action 'self' https://client.example", "base-uri 'none'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("CSP %q lacks %q", csp, want)
		}
	}
	for k, want := range map[string]string{"X-Frame-Options": "DENY", "Cache-Control": "no-store", "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer"} {
		if got := p.header.Get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	cookie := p.header.Get("Set-Cookie")
	if !strings.HasPrefix(cookie, "oauthkit_session=") || !strings.Contains(cookie, "HttpOnly") || !strings.Contains(cookie, "SameSite=Lax") || strings.Contains(cookie, "Secure") {
		t.Errorf("session cookie under http: %q", cookie)
	}
	for _, want := range []string{`<html lang="en">`, `<label for="username">`, `<label for="password">`, `name="csrf_token"`, "Web App", "<h1>"} {
		if !strings.Contains(p.body, want) {
			t.Errorf("login page lacks %q", want)
		}
	}
	if strings.Contains(p.body, "<script") {
		t.Error("the login page has a script")
	}
}

// TestAuthorizeHTTPSCookie: under an https issuer the cookie is Secure and
// __Host- prefixed.
func TestAuthorizeHTTPSCookie(t *testing.T) {
	st := memory.New()
	ctx := context.Background()
	if err := st.CreateClient(ctx, &store.Client{ID: "spa", AuthMethod: store.AuthNone, RedirectURIs: []string{azWebRedirect},
		GrantTypes: []string{store.GrantAuthorizationCode}}); err != nil {
		t.Fatal(err)
	}
	p, err := grant.NewProvider(grant.Config{Issuer: "https://as.example.com", Clients: st, Tokens: st, Users: st})
	if err != nil {
		t.Fatal(err)
	}
	h, err := p.AuthorizeHandler(grant.AuthorizeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "https://as.example.com/oauth/authorize?client_id=spa&response_type=code&code_challenge="+strings.Repeat("a", 43)+"&code_challenge_method=S256", nil))
	c := rec.Result().Cookies()
	if rec.Code != http.StatusOK || len(c) != 1 || c[0].Name != "__Host-oauthkit-session" || !c[0].Secure || !c[0].HttpOnly || c[0].Path != "/" || c[0].SameSite != http.SameSiteLaxMode {
		t.Fatalf("status %d, cookies %+v", rec.Code, c)
	}
}

// TestAuthorizeCSRF: forms without the session's CSRF token are refused
// with a page, never acted upon.
func TestAuthorizeCSRF(t *testing.T) {
	e := newAZEnv(t, grant.AuthorizeOptions{})
	u := e.authURL(azWeb, azWebRedirect)
	victim, attacker := e.browser(), e.browser()
	login := e.get(victim, u)
	foreign := e.get(attacker, u)

	for name, tc := range map[string]struct {
		c    *http.Client
		p    page
		form url.Values
	}{
		"no token":          {victim, login, url.Values{"csrf_token": {""}}},
		"another session's": {victim, login, url.Values{"csrf_token": {formFields(foreign.body).Get("csrf_token")}}},
		"no cookie":         {noRedirects(), login, nil},
		"forged consent":    {victim, login, url.Values{"step": {"consent"}, "consent": {"allow"}, "csrf_token": {"x"}}},
	} {
		extra := url.Values{"username": {"user1"}, "password": {"password1"}}
		for k, v := range tc.form {
			extra[k] = v
		}
		got := e.submit(tc.c, tc.p, extra)
		if got.status != http.StatusForbidden || got.header.Get("Location") != "" {
			t.Errorf("%s: %d, Location %q; want 403 and no redirect", name, got.status, got.header.Get("Location"))
		}
	}
	// Consent without signing in, with a valid token, is refused too.
	got := e.submit(victim, login, url.Values{"step": {"consent"}, "consent": {"allow"}})
	if got.status != http.StatusForbidden || got.header.Get("Location") != "" {
		t.Errorf("consent before login: %d %q", got.status, got.header.Get("Location"))
	}
}

// TestAuthorizeLoginThrottled: repeated wrong passwords slow the login page.
func TestAuthorizeLoginThrottled(t *testing.T) {
	e := newAZEnv(t, grant.AuthorizeOptions{})
	c := e.browser()
	p := e.get(c, e.authURL(azWeb, azWebRedirect))
	var last page
	for range 7 {
		last = e.submit(c, p, url.Values{"username": {"user1"}, "password": {"wrong"}})
		if last.status != http.StatusUnauthorized {
			break
		}
		if !strings.Contains(last.body, "incorrect") {
			t.Fatalf("failed login page: %.300s", last.body)
		}
		p = last
	}
	if last.status != http.StatusTooManyRequests || last.header.Get("Retry-After") == "" {
		t.Fatalf("after repeated failures: %d, Retry-After %q", last.status, last.header.Get("Retry-After"))
	}
	// The right password is refused too while throttled.
	if got := e.submit(c, last, url.Values{"username": {"user1"}, "password": {"password1"}}); got.status != http.StatusTooManyRequests {
		t.Fatalf("right password while throttled: %d", got.status)
	}
}

// TestAuthorizeFirstParty: first-party clients skip the consent page.
func TestAuthorizeFirstParty(t *testing.T) {
	e := newAZEnv(t, grant.AuthorizeOptions{})
	c := e.browser()
	p := e.login(c, e.get(c, e.authURL(azFirst, azWebRedirect)))
	if u := e.redirectTo(p); u.Query().Get("code") == "" {
		t.Fatalf("first-party client: %s", u)
	}
}

// TestAuthorizeHostSession: the host's own session and remembered consent
// replace both built-in pages.
func TestAuthorizeHostSession(t *testing.T) {
	var remembered []grant.ConsentRequest
	e := newAZEnv(t, grant.AuthorizeOptions{
		Authenticate: func(w http.ResponseWriter, r *http.Request) (*store.User, bool) {
			if name := r.Header.Get("X-Test-User"); name != "" {
				return &store.User{ID: "42", Username: name}, true
			}
			http.Redirect(w, r, "/host-login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusFound)
			return nil, false
		},
		RememberedConsent: func(_ context.Context, cr grant.ConsentRequest) bool {
			remembered = append(remembered, cr)
			return cr.User.ID == "42"
		},
	})
	c := noRedirects()
	u := e.authURL(azSPA, azSPARedirect)
	if p := e.get(c, u); p.status != http.StatusFound || !strings.HasPrefix(p.header.Get("Location"), "/host-login?next=") {
		t.Fatalf("not signed in: %d %q", p.status, p.header.Get("Location"))
	}
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	req.Header.Set("X-Test-User", "alice")
	loc := e.redirectTo(e.do(c, req))
	if loc.Query().Get("code") == "" || len(remembered) != 1 || remembered[0].Client.ID != azSPA || remembered[0].Scopes[0] != "read" {
		t.Fatalf("remembered consent: %s, %+v", loc, remembered)
	}
}

// TestAuthorizeMethod: only GET and POST.
func TestAuthorizeMethod(t *testing.T) {
	e := newAZEnv(t, grant.AuthorizeOptions{})
	req, _ := http.NewRequest(http.MethodPut, e.authURL(azWeb, azWebRedirect), nil)
	if p := e.do(noRedirects(), req); p.status != http.StatusMethodNotAllowed || p.header.Get("Allow") != "GET, POST" {
		t.Fatalf("PUT: %d %q", p.status, p.header.Get("Allow"))
	}
}

// TestTokenCORS: the token endpoint answers cross-origin requests only for
// the calling client's registered origins.
func TestTokenCORS(t *testing.T) {
	e := newAZEnv(t, grant.AuthorizeOptions{})
	preflight := func(origin string) string {
		req, _ := http.NewRequest(http.MethodOptions, e.srv.URL+"/oauth/token", nil)
		req.Header.Set("Origin", origin)
		req.Header.Set("Access-Control-Request-Method", "POST")
		req.Header.Set("Access-Control-Request-Headers", "authorization, content-type")
		return e.do(http.DefaultClient, req).header.Get("Access-Control-Allow-Origin")
	}
	if got := preflight("https://client.example"); got != "https://client.example" {
		t.Errorf("preflight from a registered origin: %q", got)
	}
	if got := preflight("https://evil.example"); got != "" {
		t.Errorf("preflight from an unknown origin: %q", got)
	}
	code, verifier := e.code(e.oauth2Config(azSPA, "http://127.0.0.1:7777/callback"))
	for origin, want := range map[string]string{"http://127.0.0.1:7777": "http://127.0.0.1:7777", "https://client.example": ""} {
		form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "code_verifier": {verifier},
			"redirect_uri": {"http://127.0.0.1:7777/callback"}, "client_id": {azSPA}}
		req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/oauth/token", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", origin)
		p := e.do(http.DefaultClient, req)
		if got := p.header.Get("Access-Control-Allow-Origin"); got != want {
			t.Errorf("token request from %s: Access-Control-Allow-Origin %q, want %q", origin, got, want)
		}
	}
}
