package grant_test

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/oauthkit/oauthkit/grant"
)

// TestUserInfoMethods is oidcc-userinfo-get, oidcc-userinfo-post-header
// and oidcc-userinfo-post-body: the token in the header (GET, POST) or in a
// POST form body; sub is the ID token's; the answer is not cached.
func TestUserInfoMethods(t *testing.T) {
	e := newOIDCEnv(t, grant.AuthorizeOptions{})
	tok := e.flow(rpWeb, "openid profile", nil)
	sub := claims(t, tok.IDToken)["sub"]
	body := func(form string) page {
		req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/oauth/userinfo", strings.NewReader(form))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		return e.do(http.DefaultClient, req)
	}
	get, _ := e.userinfo(http.MethodGet, tok.AccessToken)
	post, _ := e.userinfo(http.MethodPost, tok.AccessToken)
	for name, p := range map[string]page{"GET": get, "POST header": post, "POST body": body("access_token=" + url.QueryEscape(tok.AccessToken))} {
		if p.status != http.StatusOK || !strings.Contains(p.body, `"sub":"1"`) || sub != "1" {
			t.Errorf("%s: %d %s", name, p.status, p.body)
		}
		if p.header.Get("Cache-Control") != "no-store" || !strings.HasPrefix(p.header.Get("Content-Type"), "application/json") {
			t.Errorf("%s: Cache-Control %q, Content-Type %q", name, p.header.Get("Cache-Control"), p.header.Get("Content-Type"))
		}
	}
}

// TestUserInfoRefusals: RFC 6750 §3 answers. No token, or an invalid one,
// is 401 with Bearer error="invalid_token"; a token without openid 403
// insufficient_scope; a token in the URL, or sent twice, 400.
func TestUserInfoRefusals(t *testing.T) {
	e := newOIDCEnv(t, grant.AuthorizeOptions{})
	tok := e.flow(rpWeb, "openid", nil)
	plain := e.flow(rpWeb, "read", nil) // no openid
	send := func(method, target, auth, form string) page {
		req, _ := http.NewRequest(method, e.srv.URL+target, strings.NewReader(form))
		if form != "" {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		return e.do(http.DefaultClient, req)
	}
	for name, tc := range map[string]struct {
		p      page
		status int
		code   string
	}{
		"no token":       {send("GET", "/oauth/userinfo", "", ""), 401, "invalid_token"},
		"unknown token":  {send("GET", "/oauth/userinfo", "Bearer okat_"+strings.Repeat("A", 43), ""), 401, "invalid_token"},
		"garbage":        {send("GET", "/oauth/userinfo", "Bearer not-a-token", ""), 401, "invalid_token"},
		"basic scheme":   {send("GET", "/oauth/userinfo", "Basic dXNlcjpwYXNz", ""), 401, "invalid_token"},
		"no openid":      {send("GET", "/oauth/userinfo", "Bearer "+plain.AccessToken, ""), 403, "insufficient_scope"},
		"query token":    {send("GET", "/oauth/userinfo?access_token="+tok.AccessToken, "", ""), 400, "invalid_request"},
		"header + body":  {send("POST", "/oauth/userinfo", "Bearer "+tok.AccessToken, "access_token="+tok.AccessToken), 400, "invalid_request"},
		"body twice":     {send("POST", "/oauth/userinfo", "", "access_token=a&access_token=b"), 400, "invalid_request"},
		"refresh token":  {send("GET", "/oauth/userinfo", "Bearer "+e.flow(rpFirst, "openid offline_access", nil).RefreshToken, ""), 401, "invalid_token"},
		"wrong method":   {send("PUT", "/oauth/userinfo", "Bearer "+tok.AccessToken, ""), 405, "invalid_request"},
		"ID token":       {send("GET", "/oauth/userinfo", "Bearer "+tok.IDToken, ""), 401, "invalid_token"},
		"GET body token": {send("GET", "/oauth/userinfo", "", "access_token="+tok.AccessToken), 401, "invalid_token"},
	} {
		challenge := tc.p.header.Get("WWW-Authenticate")
		if tc.p.status != tc.status || !strings.HasPrefix(challenge, "Bearer") || !strings.Contains(challenge, `error="`+tc.code+`"`) {
			t.Errorf("%s: %d, WWW-Authenticate %q; want %d with error=%q", name, tc.p.status, challenge, tc.status, tc.code)
		}
		if tc.p.header.Get("Cache-Control") != "no-store" || strings.Contains(tc.p.body, "okat_") {
			t.Errorf("%s: Cache-Control %q, body %s", name, tc.p.header.Get("Cache-Control"), tc.p.body)
		}
	}
	// A revoked token is refused at once.
	req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/oauth/revoke", strings.NewReader("token="+tok.AccessToken))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(rpWeb, e.secrets[rpWeb])
	if p := e.do(http.DefaultClient, req); p.status != http.StatusOK {
		t.Fatalf("revoke: %d", p.status)
	}
	if p, _ := e.userinfo(http.MethodGet, tok.AccessToken); p.status != http.StatusUnauthorized {
		t.Errorf("revoked token: %d", p.status)
	}
}

// TestUserInfoScopes is oidcc-scope-profile, -email, -address, -phone and
// -all: each scope releases its claims (Core §5.4), and no other.
func TestUserInfoScopes(t *testing.T) {
	e := newOIDCEnv(t, grant.AuthorizeOptions{})
	for scope, want := range map[string][]string{
		"openid":                             {"sub"},
		"openid profile":                     {"sub", "name", "given_name", "family_name", "preferred_username"},
		"openid email":                       {"sub", "email", "email_verified"},
		"openid address":                     {"sub", "address"},
		"openid phone":                       {"sub", "phone_number", "phone_number_verified"},
		"openid profile email address phone": {"sub", "name", "given_name", "family_name", "preferred_username", "email", "email_verified", "address", "phone_number", "phone_number_verified"},
	} {
		tok := e.flow(rpWeb, scope, nil)
		p, m := e.userinfo(http.MethodGet, tok.AccessToken)
		if p.status != http.StatusOK {
			t.Fatalf("%s: %d %s", scope, p.status, p.body)
		}
		var got []string
		for k := range m {
			got = append(got, k)
		}
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("scope %q released %v, want %v", scope, got, want)
		}
	}
	tok := e.flow(rpWeb, "openid profile email address phone", nil)
	_, m := e.userinfo(http.MethodGet, tok.AccessToken)
	if m["name"] != "User One" || m["email"] != "user1@example.com" || m["email_verified"] != true || m["phone_number_verified"] != false {
		t.Errorf("claims %v", m)
	}
	if a, _ := m["address"].(map[string]any); a["country"] != "US" {
		t.Errorf("address %v", m["address"])
	}
}

// TestUserInfoUnknownUser: a user the claims source no longer knows is
// refused, and without a claims source the login name is preferred_username.
func TestUserInfoUnknownUser(t *testing.T) {
	e := newOIDCEnv(t, grant.AuthorizeOptions{})
	c := e.browser()
	authURL, verifier := e.oidcURL(rpFirst, "openid profile", nil)
	p := e.submit(c, e.get(c, authURL), url.Values{"username": {"user2"}, "password": {"password2"}})
	tok := e.exchange(rpFirst, e.redirectTo(p), verifier)
	if p, _ := e.userinfo(http.MethodGet, tok.AccessToken); p.status != http.StatusUnauthorized {
		t.Errorf("user unknown to the claims source: %d", p.status)
	}
	e2 := newOIDCEnv(t, grant.AuthorizeOptions{}, func(c *grant.Config) { c.OIDC.Claims = nil })
	tok = e2.flow(rpWeb, "openid profile", nil)
	if _, m := e2.userinfo(http.MethodGet, tok.AccessToken); m["preferred_username"] != "user1" || m["sub"] != "1" || len(m) != 2 {
		t.Errorf("default claims %v", m)
	}
}

// TestUserInfoCORS: a browser app reads the answer from its own origin
// only.
func TestUserInfoCORS(t *testing.T) {
	e := newOIDCEnv(t, grant.AuthorizeOptions{})
	tok := e.flow(rpWeb, "openid", nil)
	for origin, allowed := range map[string]bool{"https://rp.example": true, "https://evil.example": false} {
		req, _ := http.NewRequest(http.MethodGet, e.srv.URL+"/oauth/userinfo", nil)
		req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
		req.Header.Set("Origin", origin)
		p := e.do(http.DefaultClient, req)
		if got := p.header.Get("Access-Control-Allow-Origin") == origin; got != allowed || p.status != http.StatusOK {
			t.Errorf("Origin %s: %d, Access-Control-Allow-Origin %q", origin, p.status, p.header.Get("Access-Control-Allow-Origin"))
		}
	}
}
