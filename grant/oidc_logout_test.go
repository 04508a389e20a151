package grant_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/oauthkit/oauthkit/grant"
)

// signedIn returns a browser signed in as user1 and an ID token of client
// id for that session.
func (e *azEnv) signedIn(id string) (*http.Client, string) {
	e.t.Helper()
	c := e.browser()
	authURL, verifier := e.oidcURL(id, "openid", nil)
	return c, e.exchange(id, e.signIn(c, authURL), verifier).IDToken
}

// loggedOut reports whether browser c's session has ended: prompt=none is
// login_required.
func (e *azEnv) loggedOut(c *http.Client) bool {
	e.t.Helper()
	authURL, _ := e.oidcURL(rpFirst, "openid", url.Values{"prompt": {"none"}})
	return e.redirectTo(e.get(c, authURL)).Query().Get("error") == "login_required"
}

// TestEndSession: with an id_token_hint of the signed-in user (expired or
// not) the session ends at once, the cookie is cleared, and the browser goes
// to the registered post_logout_redirect_uri with state.
func TestEndSession(t *testing.T) {
	e := newOIDCEnv(t, grant.AuthorizeOptions{})
	c, hint := e.signedIn(rpWeb)
	if e.loggedOut(c) {
		t.Fatal("not signed in before the logout")
	}
	e.clk.Advance(2 * time.Hour) // the hint has expired; the session has not
	q := url.Values{"id_token_hint": {hint}, "post_logout_redirect_uri": {rpLogout}, "state": {"bye 1"}}
	p := e.get(c, e.srv.URL+"/oauth/logout?"+q.Encode())
	u := e.redirectTo(p)
	if p.status != http.StatusFound || !strings.HasPrefix(u.String(), rpLogout+"?") || u.Query().Get("state") != "bye 1" {
		t.Fatalf("logout: %d to %s", p.status, u)
	}
	if cookie := p.header.Get("Set-Cookie"); !strings.Contains(cookie, "Max-Age=0") && !strings.Contains(cookie, "Max-Age=-1") {
		t.Errorf("Set-Cookie %q does not clear the session", cookie)
	}
	if !e.loggedOut(c) {
		t.Error("prompt=none still works after the logout")
	}
	// POST, without state: the redirect has no query; 303.
	c, hint = e.signedIn(rpWeb)
	form := url.Values{"id_token_hint": {hint}, "post_logout_redirect_uri": {rpLogout}}
	req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/oauth/logout", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	p = e.do(c, req)
	if p.status != http.StatusSeeOther || p.header.Get("Location") != rpLogout || !e.loggedOut(c) {
		t.Errorf("POST logout: %d %q", p.status, p.header.Get("Location"))
	}
	// No post_logout_redirect_uri: a signed-out page.
	c, hint = e.signedIn(rpWeb)
	p = e.get(c, e.srv.URL+"/oauth/logout?id_token_hint="+url.QueryEscape(hint))
	if p.status != http.StatusOK || !strings.Contains(p.body, "signed out") || !e.loggedOut(c) {
		t.Errorf("logout without redirect: %d %.200s", p.status, p.body)
	}
}

// TestEndSessionRedirectURIExact: a post_logout_redirect_uri the client did
// not register (byte for byte), or of another client, or without a client,
// is a 400 page: no redirect, and the session stays.
func TestEndSessionRedirectURIExact(t *testing.T) {
	e := newOIDCEnv(t, grant.AuthorizeOptions{})
	c, hint := e.signedIn(rpWeb)
	for name, q := range map[string]url.Values{
		"look-alike":         {"id_token_hint": {hint}, "post_logout_redirect_uri": {rpLogout + "/"}},
		"another host":       {"id_token_hint": {hint}, "post_logout_redirect_uri": {"https://evil.example/bye"}},
		"redirect uri":       {"id_token_hint": {hint}, "post_logout_redirect_uri": {rpRedirect}},
		"no client":          {"post_logout_redirect_uri": {rpLogout}},
		"unknown client":     {"client_id": {"nobody"}, "post_logout_redirect_uri": {rpLogout}},
		"client_id mismatch": {"id_token_hint": {hint}, "client_id": {rpOther}, "post_logout_redirect_uri": {rpLogout}},
		"forged hint":        {"id_token_hint": {hint[:len(hint)-4] + "AAAA"}, "post_logout_redirect_uri": {rpLogout}},
		"duplicate":          {"id_token_hint": {hint}, "post_logout_redirect_uri": {rpLogout, "https://evil.example/"}},
	} {
		p := e.get(noRedirects(), e.srv.URL+"/oauth/logout?"+q.Encode())
		if p.status != http.StatusBadRequest || p.header.Get("Location") != "" || !strings.Contains(p.header.Get("Content-Type"), "text/html") {
			t.Errorf("%s: %d, Location %q; want a 400 page", name, p.status, p.header.Get("Location"))
		}
	}
	if e.loggedOut(c) {
		t.Error("a refused logout ended the session")
	}
}

// TestEndSessionConfirmation: without a hint of the signed-in user, the
// user confirms on a page whose form is bound to the session (CSRF), so
// that another site cannot sign the user out; client_id with a registered
// URI redirects after the confirmation.
func TestEndSessionConfirmation(t *testing.T) {
	e := newOIDCEnv(t, grant.AuthorizeOptions{})
	c, _ := e.signedIn(rpWeb)
	q := url.Values{"client_id": {rpWeb}, "post_logout_redirect_uri": {rpLogout}, "state": {"s"}}
	p := e.get(c, e.srv.URL+"/oauth/logout?"+q.Encode())
	if p.status != http.StatusOK || !strings.Contains(p.body, `name="step" value="logout"`) || e.loggedOut(c) {
		t.Fatalf("logout without hint: %d, want the confirmation page and the session kept", p.status)
	}
	if csp := p.header.Get("Content-Security-Policy"); !strings.Contains(csp, "form-action 'self' https://rp.example") {
		t.Errorf("CSP %q does not let the form's redirect through", csp)
	}
	// Another site posting the form without the session's token.
	forged := formFields(p.body)
	forged.Set("csrf_token", "x")
	req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/oauth/logout", strings.NewReader(forged.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if got := e.do(c, req); got.status != http.StatusForbidden || e.loggedOut(c) {
		t.Fatalf("forged confirmation: %d", got.status)
	}
	got := e.submit(c, p, nil)
	if got.status != http.StatusSeeOther || got.header.Get("Location") != rpLogout+"?state=s" || !e.loggedOut(c) {
		t.Errorf("confirmed: %d %q", got.status, got.header.Get("Location"))
	}
	// Another user's hint asks too.
	c, _ = e.signedIn(rpWeb)
	other := e.browser()
	authURL, verifier := e.oidcURL(rpFirst, "openid", nil)
	otherHint := e.exchange(rpFirst, e.redirectTo(e.submit(other, e.get(other, authURL), url.Values{"username": {"user2"}, "password": {"password2"}})), verifier).IDToken
	p = e.get(c, e.srv.URL+"/oauth/logout?id_token_hint="+url.QueryEscape(otherHint))
	if !strings.Contains(p.body, `value="logout"`) || e.loggedOut(c) {
		t.Errorf("another user's hint: %d, want the confirmation page", p.status)
	}
}

// TestEndSessionMethods: GET and POST only; POST needs a form.
func TestEndSessionMethods(t *testing.T) {
	e := newOIDCEnv(t, grant.AuthorizeOptions{})
	req, _ := http.NewRequest(http.MethodPut, e.srv.URL+"/oauth/logout", nil)
	if p := e.do(noRedirects(), req); p.status != http.StatusMethodNotAllowed || p.header.Get("Allow") != "GET, POST" {
		t.Errorf("PUT: %d %q", p.status, p.header.Get("Allow"))
	}
	req, _ = http.NewRequest(http.MethodPost, e.srv.URL+"/oauth/logout", strings.NewReader(`{}`))
	req.Header.Set("Content-Type", "application/json")
	if p := e.do(noRedirects(), req); p.status != http.StatusUnsupportedMediaType {
		t.Errorf("JSON POST: %d", p.status)
	}
}
