package grant_test

import (
	"bytes"
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/oauthkit/oauthkit/grant"
	"github.com/oauthkit/oauthkit/store"
)

// TestOIDCPromptNoneNotLoggedIn is oidcc-prompt-none-not-logged-in: without
// a session, prompt=none is answered login_required at the redirect URI,
// with state and iss, and no page.
func TestOIDCPromptNoneNotLoggedIn(t *testing.T) {
	e := newOIDCEnv(t, grant.AuthorizeOptions{})
	authURL, _ := e.oidcURL(rpWeb, "openid", url.Values{"prompt": {"none"}})
	u := e.redirectTo(e.get(e.browser(), authURL))
	q := u.Query()
	if !strings.HasPrefix(u.String(), rpRedirect+"?") || q.Get("error") != "login_required" || q.Get("state") != "st" || q.Get("iss") != e.p.Issuer() {
		t.Fatalf("redirected to %s; want login_required with state and iss", u)
	}
}

// TestOIDCPromptNoneLoggedIn is oidcc-prompt-none-logged-in: once signed in
// (and consented), prompt=none gets a code without a page; consent not
// given yet is consent_required.
func TestOIDCPromptNoneLoggedIn(t *testing.T) {
	e := newOIDCEnv(t, grant.AuthorizeOptions{})
	c := e.browser()
	authURL, _ := e.oidcURL(rpFirst, "openid", nil)
	e.signIn(c, authURL)
	authURL, verifier := e.oidcURL(rpFirst, "openid", url.Values{"prompt": {"none"}, "nonce": {"n2"}})
	tok := e.exchange(rpFirst, e.redirectTo(e.get(c, authURL)), verifier)
	if cl := claims(t, tok.IDToken); cl["sub"] != "1" || cl["nonce"] != "n2" {
		t.Errorf("prompt=none ID token %v", cl)
	}
	// A third-party client the user has not consented to.
	authURL, _ = e.oidcURL(rpWeb, "openid", url.Values{"prompt": {"none"}})
	if u := e.redirectTo(e.get(c, authURL)); u.Query().Get("error") != "consent_required" {
		t.Errorf("prompt=none without consent: %s, want consent_required", u)
	}
	// prompt=none with another value is invalid_request.
	authURL, _ = e.oidcURL(rpFirst, "openid", url.Values{"prompt": {"none login"}})
	if u := e.redirectTo(e.get(c, authURL)); u.Query().Get("error") != "invalid_request" {
		t.Errorf("prompt=\"none login\": %s, want invalid_request", u)
	}
}

// TestOIDCPromptLogin is oidcc-prompt-login: a signed-in user sees the login
// page again, and the ID token's auth_time is the new login's.
func TestOIDCPromptLogin(t *testing.T) {
	e := newOIDCEnv(t, grant.AuthorizeOptions{})
	c := e.browser()
	authURL, verifier := e.oidcURL(rpFirst, "openid", nil)
	before := claims(t, e.exchange(rpFirst, e.signIn(c, authURL), verifier).IDToken)
	e.clk.Advance(time.Minute)
	for _, prompt := range []string{"login", "select_account", "consent login"} {
		authURL, verifier = e.oidcURL(rpFirst, "openid", url.Values{"prompt": {prompt}})
		p := e.get(c, authURL)
		if !strings.Contains(p.body, `name="password"`) {
			t.Fatalf("prompt=%s: %d, want the login page when signed in", prompt, p.status)
		}
		p = e.login(c, p)
		if strings.Contains(prompt, "consent") {
			if !strings.Contains(p.body, `value="allow"`) {
				t.Fatalf("prompt=%s: want the consent page for a first-party client", prompt)
			}
			p = e.submit(c, p, url.Values{"consent": {"allow"}})
		}
		after := claims(t, e.exchange(rpFirst, e.redirectTo(p), verifier).IDToken)
		if after["auth_time"] != float64(e.clk.Now().Unix()) || after["auth_time"] == before["auth_time"] {
			t.Errorf("prompt=%s: auth_time %v, want the new login's %d", prompt, after["auth_time"], e.clk.Now().Unix())
		}
	}
}

// TestOIDCMaxAge is oidcc-max-age-1 and oidcc-max-age-10000: a session
// older than max_age signs in again, a younger one does not, and the ID
// token carries auth_time either way; max_age=0 always signs in again.
func TestOIDCMaxAge(t *testing.T) {
	e := newOIDCEnv(t, grant.AuthorizeOptions{})
	c := e.browser()
	authURL, _ := e.oidcURL(rpFirst, "openid", nil)
	e.signIn(c, authURL)
	login := e.clk.Now().Unix()
	e.clk.Advance(2 * time.Second)

	authURL, verifier := e.oidcURL(rpFirst, "openid", url.Values{"max_age": {"10000"}})
	tok := e.exchange(rpFirst, e.redirectTo(e.get(c, authURL)), verifier)
	if cl := claims(t, tok.IDToken); cl["auth_time"] != float64(login) {
		t.Errorf("max_age=10000: auth_time %v, want %d", cl["auth_time"], login)
	}
	for _, age := range []string{"1", "0"} {
		authURL, verifier = e.oidcURL(rpFirst, "openid", url.Values{"max_age": {age}})
		p := e.get(c, authURL)
		if !strings.Contains(p.body, `name="password"`) {
			t.Fatalf("max_age=%s on a session 2 s old: %d, want the login page", age, p.status)
		}
		tok = e.exchange(rpFirst, e.redirectTo(e.login(c, p)), verifier)
		if cl := claims(t, tok.IDToken); cl["auth_time"] != float64(e.clk.Now().Unix()) {
			t.Errorf("max_age=%s: auth_time %v, want the new login's", age, cl["auth_time"])
		}
		e.clk.Advance(2 * time.Second)
	}
	// With prompt=none, an old session is login_required.
	authURL, _ = e.oidcURL(rpFirst, "openid", url.Values{"max_age": {"1"}, "prompt": {"none"}})
	if u := e.redirectTo(e.get(c, authURL)); u.Query().Get("error") != "login_required" {
		t.Errorf("max_age=1&prompt=none: %s", u)
	}
	for _, bad := range []string{"-1", "x", "1.5", "99999999999"} {
		authURL, _ = e.oidcURL(rpFirst, "openid", url.Values{"max_age": {bad}})
		if u := e.redirectTo(e.get(c, authURL)); u.Query().Get("error") != "invalid_request" {
			t.Errorf("max_age=%s: %s, want invalid_request", bad, u)
		}
	}
}

// TestOIDCIDTokenHint is oidcc-id-token-hint: an ID token of the signed-in
// user, expired or not, lets prompt=none through; another user's is
// login_required; a token this provider did not sign is invalid_request.
func TestOIDCIDTokenHint(t *testing.T) {
	e := newOIDCEnv(t, grant.AuthorizeOptions{})
	c := e.browser()
	authURL, verifier := e.oidcURL(rpFirst, "openid", nil)
	hint := e.exchange(rpFirst, e.signIn(c, authURL), verifier).IDToken
	e.clk.Advance(2 * time.Hour) // the hint has expired

	authURL, verifier = e.oidcURL(rpFirst, "openid", url.Values{"prompt": {"none"}, "id_token_hint": {hint}})
	if tok := e.exchange(rpFirst, e.redirectTo(e.get(c, authURL)), verifier); tok.IDToken == "" {
		t.Fatal("no ID token")
	}
	// user2 signs in in another browser: its ID token names another user.
	other := e.browser()
	authURL, verifier = e.oidcURL(rpFirst, "openid", nil)
	p := e.submit(other, e.get(other, authURL), url.Values{"username": {"user2"}, "password": {"password2"}})
	otherHint := e.exchange(rpFirst, e.redirectTo(p), verifier).IDToken
	authURL, _ = e.oidcURL(rpFirst, "openid", url.Values{"prompt": {"none"}, "id_token_hint": {otherHint}})
	if u := e.redirectTo(e.get(c, authURL)); u.Query().Get("error") != "login_required" {
		t.Errorf("another user's hint with prompt=none: %s, want login_required", u)
	}
	// Without prompt=none, the login page; signing in as user1 anyway is
	// login_required.
	authURL, _ = e.oidcURL(rpFirst, "openid", url.Values{"id_token_hint": {otherHint}})
	p = e.get(c, authURL)
	if !strings.Contains(p.body, `name="password"`) {
		t.Fatalf("another user's hint: %d, want the login page", p.status)
	}
	if u := e.redirectTo(e.login(c, p)); u.Query().Get("error") != "login_required" {
		t.Errorf("signed in as user1 for user2's hint: %s, want login_required", u)
	}
	// Forged: signed by a key the provider does not hold, or altered.
	// The forger's RS256 key has the kid of the provider's.
	forged, err := grant.GenerateSigningKey(grant.AlgRS256)
	if err != nil {
		t.Fatal(err)
	}
	forged.ID = signingKeys(t)[0].ID
	forger := newOIDCEnv(t, grant.AuthorizeOptions{}, func(c *grant.Config) { c.SigningKeys = []grant.SigningKey{forged} })
	foreign := forger.flow(rpFirst, "openid", nil).IDToken
	// Altered: user2 as the subject, under user1's token's signature.
	parts := strings.Split(hint, ".")
	payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
	payload = bytes.Replace(payload, []byte(`"sub":"1"`), []byte(`"sub":"2"`), 1)
	altered := parts[0] + "." + base64.RawURLEncoding.EncodeToString(payload) + "." + parts[2]
	for name, bad := range map[string]string{"foreign key": foreign, "altered": altered, "garbage": "x.y.z"} {
		authURL, _ = e.oidcURL(rpFirst, "openid", url.Values{"id_token_hint": {bad}})
		if u := e.redirectTo(e.get(c, authURL)); u.Query().Get("error") != "invalid_request" {
			t.Errorf("%s hint: %s, want invalid_request", name, u)
		}
	}
}

// TestOIDCLoginHint is oidcc-login-hint: the login page's username is
// filled in with login_hint.
func TestOIDCLoginHint(t *testing.T) {
	e := newOIDCEnv(t, grant.AuthorizeOptions{})
	authURL, _ := e.oidcURL(rpWeb, "openid", url.Values{"login_hint": {"user1"}})
	p := e.get(e.browser(), authURL)
	if formFields(p.body).Get("username") != "user1" {
		t.Fatalf("login page username %q, want the login_hint", formFields(p.body).Get("username"))
	}
}

// TestOIDCRequestObjectsRefused is oidcc-unsigned-request-object-supported-
// correctly-or-rejected-as-unsupported, oidcc-request-uri-unsigned-… and
// oidcc-ensure-request-object-with-redirect-uri: request and request_uri are
// refused with their Core §6 errors at the redirect URI, once the client and
// redirect URI are good, and never redirected to an unregistered one.
func TestOIDCRequestObjectsRefused(t *testing.T) {
	e := newOIDCEnv(t, grant.AuthorizeOptions{})
	c := noRedirects()
	for param, code := range map[string]string{"request": "request_not_supported", "request_uri": "request_uri_not_supported"} {
		value := "eyJhbGciOiJub25lIn0.eyJyZWRpcmVjdF91cmkiOiJodHRwczovL2V2aWwuZXhhbXBsZS8ifQ."
		if param == "request_uri" {
			value = "https://rp.example/request.jwt"
		}
		authURL, _ := e.oidcURL(rpWeb, "openid", url.Values{param: {value}})
		u := e.redirectTo(e.get(c, authURL))
		if !strings.HasPrefix(u.String(), rpRedirect+"?") || u.Query().Get("error") != code || u.Query().Get("state") != "st" {
			t.Errorf("%s: %s, want error=%s", param, u, code)
		}
		q, _ := url.Parse(authURL)
		qs := q.Query()
		qs.Set("redirect_uri", "https://evil.example/")
		p := e.get(c, e.srv.URL+"/oauth/authorize?"+qs.Encode())
		if p.status != http.StatusBadRequest || p.header.Get("Location") != "" {
			t.Errorf("%s with an unregistered redirect_uri: %d %q", param, p.status, p.header.Get("Location"))
		}
	}
}

// TestOIDCRegisteredRedirectURI is oidcc-ensure-registered-redirect-uri,
// and Core §3.1.2.1's required redirect_uri: neither an unregistered one
// nor none is redirected to.
func TestOIDCRegisteredRedirectURI(t *testing.T) {
	e := newOIDCEnv(t, grant.AuthorizeOptions{})
	authURL, _ := e.oidcURL(rpWeb, "openid", nil)
	for name, uri := range map[string]string{"unregistered": "https://rp.example/cb/other", "omitted": ""} {
		u, _ := url.Parse(authURL)
		q := u.Query()
		if uri == "" {
			q.Del("redirect_uri")
		} else {
			q.Set("redirect_uri", uri)
		}
		p := e.get(noRedirects(), e.srv.URL+"/oauth/authorize?"+q.Encode())
		if p.status != http.StatusBadRequest || p.header.Get("Location") != "" || !strings.Contains(p.body, "redirect_uri") {
			t.Errorf("%s redirect_uri: %d %q, want a 400 page naming redirect_uri", name, p.status, p.header.Get("Location"))
		}
	}
}

// TestOIDCUnknownParametersIgnored is oidcc-ensure-request-with-unknown-
// parameter-succeeds, oidcc-display-page, oidcc-display-popup,
// oidcc-ui-locales, oidcc-claims-locales, oidcc-ensure-request-with-acr-
// values-succeeds and oidcc-claims-essential: parameters the provider does
// not act on are ignored.
func TestOIDCUnknownParametersIgnored(t *testing.T) {
	e := newOIDCEnv(t, grant.AuthorizeOptions{})
	for name, extra := range map[string]url.Values{
		"unknown":        {"extra": {"foobar"}},
		"display=page":   {"display": {"page"}},
		"display=popup":  {"display": {"popup"}},
		"ui_locales":     {"ui_locales": {"se"}},
		"claims_locales": {"claims_locales": {"se"}},
		"acr_values":     {"acr_values": {"1 2"}},
		"claims":         {"claims": {`{"userinfo":{"name":{"essential":true}}}`}},
		"prompt=create":  {"prompt": {"create"}},
		"response_mode":  {"response_mode": {"query"}},
	} {
		if tok := e.flow(rpWeb, "openid profile", extra); tok.IDToken == "" {
			t.Errorf("%s: no ID token", name)
		}
	}
}

// TestOIDCAuthorizationRequestByPOST is oidcc-ensure-post-request-succeeds:
// the authorization endpoint takes the request as a POST form too.
func TestOIDCAuthorizationRequestByPOST(t *testing.T) {
	e := newOIDCEnv(t, grant.AuthorizeOptions{})
	authURL, verifier := e.oidcURL(rpWeb, "openid", url.Values{"nonce": {"posted"}})
	u, _ := url.Parse(authURL)
	c := e.browser()
	req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/oauth/authorize", strings.NewReader(u.RawQuery))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	p := e.do(c, req) // 303 to the same request as a GET, then the login page
	if p.method != http.MethodGet || !strings.Contains(p.body, `name="password"`) {
		t.Fatalf("POST authorization request: %s %d", p.method, p.status)
	}
	p = e.submit(c, e.login(c, p), url.Values{"consent": {"allow"}})
	tok := e.exchange(rpWeb, e.redirectTo(p), verifier)
	if cl := claims(t, tok.IDToken); cl["nonce"] != "posted" {
		t.Errorf("nonce %v", cl["nonce"])
	}
}

// TestOIDCHostSession: with AuthorizeOptions.Authenticate, auth_time comes
// from AuthTime; prompt=login and a too old session cannot be renewed here
// (login_required); the end-session endpoint calls Logout.
func TestOIDCHostSession(t *testing.T) {
	var loggedOut bool
	var authTime time.Time
	opts := grant.AuthorizeOptions{
		Authenticate: func(w http.ResponseWriter, r *http.Request) (*store.User, bool) {
			return &store.User{ID: "1", Username: "user1"}, true
		},
		AuthTime: func(*http.Request) time.Time { return authTime },
		Logout:   func(http.ResponseWriter, *http.Request) { loggedOut = true },
	}
	e := newOIDCEnv(t, opts)
	authTime = e.clk.Now().Add(-time.Hour).Truncate(time.Second)
	authURL, verifier := e.oidcURL(rpFirst, "openid", url.Values{"max_age": {"7200"}})
	tok := e.exchange(rpFirst, e.redirectTo(e.get(noRedirects(), authURL)), verifier)
	if cl := claims(t, tok.IDToken); cl["auth_time"] != float64(authTime.Unix()) {
		t.Errorf("auth_time %v, want the host's %d", cl["auth_time"], authTime.Unix())
	}
	for _, extra := range []url.Values{{"max_age": {"60"}}, {"prompt": {"login"}}} {
		authURL, _ = e.oidcURL(rpFirst, "openid", extra)
		if u := e.redirectTo(e.get(noRedirects(), authURL)); u.Query().Get("error") != "login_required" {
			t.Errorf("%v with a host session: %s, want login_required", extra, u)
		}
	}
	q := url.Values{"id_token_hint": {tok.IDToken}, "post_logout_redirect_uri": {rpLogout}}
	p := e.get(noRedirects(), e.srv.URL+"/oauth/logout?"+q.Encode())
	if p.status != http.StatusFound || !loggedOut {
		t.Errorf("end-session with a host session: %d, Logout called %v", p.status, loggedOut)
	}
	// Without Logout, the handlers refuse to be built.
	opts.Logout = nil
	if _, err := e.p.AuthorizeHandler(opts); err == nil {
		t.Error("AuthorizeHandler with Authenticate and OpenID Connect but no Logout")
	}
	if _, err := e.p.EndSessionHandler(opts); err == nil {
		t.Error("EndSessionHandler with Authenticate but no Logout")
	}
}

// TestOIDCHintNotAccessToken: a JWT access token, signed by the same key set,
// is not an ID token (typ at+jwt, RFC 9068 §4): refused as id_token_hint,
// at the authorization and end-session endpoints.
func TestOIDCHintNotAccessToken(t *testing.T) {
	e := newOIDCEnv(t, grant.AuthorizeOptions{}, func(c *grant.Config) {
		c.AccessTokenFormat, c.Audience = grant.FormatJWT, []string{"https://api.example"}
	})
	c := e.browser()
	authURL, verifier := e.oidcURL(rpFirst, "openid", nil)
	at := e.exchange(rpFirst, e.signIn(c, authURL), verifier).AccessToken
	if strings.Count(at, ".") != 2 {
		t.Fatalf("not a JWT access token: %q", at)
	}
	authURL, _ = e.oidcURL(rpFirst, "openid", url.Values{"prompt": {"none"}, "id_token_hint": {at}})
	if u := e.redirectTo(e.get(c, authURL)); u.Query().Get("error") != "invalid_request" {
		t.Errorf("access token as id_token_hint: %s, want invalid_request", u)
	}
	if p := e.get(c, e.srv.URL+"/oauth/logout?id_token_hint="+url.QueryEscape(at)); p.status != http.StatusBadRequest {
		t.Errorf("access token as logout hint: %d", p.status)
	}
}
