package grant

import (
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/oauthkit/oauthkit/store"
)

// oidcFixture is newFixture with OpenID Connect on, a relying party "rp"
// (redirect and post-logout URIs registered) and an ID token of user 1 for
// it.
func oidcFixture(f *testing.F) (*fixture, *store.Client, string) {
	keys, err := benchKeys()
	if err != nil {
		f.Fatal(err)
	}
	fx := newFixture(f, func(c *Config) { c.SigningKeys, c.OIDC = keys, OIDC{Enabled: true} })
	rp := &store.Client{ID: "rp", AuthMethod: store.AuthNone, RedirectURIs: []string{"https://rp.example/cb"},
		PostLogoutRedirectURIs: []string{"https://rp.example/bye"}, GrantTypes: []string{store.GrantAuthorizationCode},
		Scopes: []string{"openid", "profile", "offline_access"}}
	if err := fx.st.CreateClient(context.Background(), rp); err != nil {
		f.Fatal(err)
	}
	hint, err := fx.p.signIDToken(rp, store.Token{Subject: "1", AuthTime: fx.clock.Now()}, fx.clock.Now(), "n")
	if err != nil {
		f.Fatal(err)
	}
	return fx, rp, hint
}

// FuzzOpenIDRequest feeds arbitrary authorization requests to the OpenID
// parameter parser: never a panic; an OpenID request only when the scope
// parameter names openid, and never with openid otherwise; prompt=none
// alone; bounded nonce and login_hint; a hint only if this provider
// signed it; request objects never taken.
func FuzzOpenIDRequest(f *testing.F) {
	fx, rp, hint := oidcFixture(f)
	base := "client_id=rp&response_type=code&redirect_uri=https%3A%2F%2Frp.example%2Fcb&code_challenge=" + strings.Repeat("a", 43) + "&code_challenge_method=S256"
	for _, s := range []string{
		"&scope=openid&nonce=n&prompt=none", "&scope=openid+profile&prompt=login+consent&max_age=0",
		"&scope=openid&max_age=-1", "&scope=openid&max_age=99999999999", "&scope=openid&prompt=none+login",
		"&scope=openid&id_token_hint=" + hint, "&scope=openid&id_token_hint=" + hint[:len(hint)-2],
		"&scope=openid&request=eyJ9.e30.", "&scope=openid&request_uri=https://x/", "&scope=profile", "",
		"&scope=openid&login_hint=" + strings.Repeat("u", 300),
	} {
		f.Add(base + s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		q, unique, err := parseAuthorizeQuery(raw)
		if err != nil {
			return
		}
		var c *store.Client
		if q.Get("client_id") == rp.ID {
			c = rp
		}
		req, page, redirect := validateAuthorize(q, unique, c, false)
		if page != nil || redirect != nil {
			return
		}
		if q.Has("request") || q.Has("request_uri") {
			t.Fatalf("a request object was accepted: %q", raw)
		}
		page, redirect = fx.p.openIDRequest(q, req)
		if page != nil || redirect != nil {
			return
		}
		asked, _ := parseScope(q.Get("scope"))
		named := slices.Contains(asked, ScopeOpenID)
		if (req.oidc != nil) != named || !named && slices.Contains(req.scopes, ScopeOpenID) {
			t.Fatalf("OpenID request %v for scope %q (granted %q)", req.oidc != nil, q.Get("scope"), req.scopes)
		}
		o := req.oidc
		if o == nil {
			return
		}
		if o.prompt&promptNone != 0 && o.prompt != promptNone || o.maxAge < -1 || len(o.nonce) > maxNonceLen || len(o.loginHint) > maxLoginHintLen {
			t.Fatalf("accepted %+v", o)
		}
		if o.hint != nil && (q.Get("id_token_hint") != hint || o.hint.Sub != "1") {
			t.Fatalf("accepted a hint this provider did not sign: %q", q.Get("id_token_hint"))
		}
	})
}

// FuzzIDTokenHint: arbitrary strings as id_token_hint are refused, but for
// the provider's own ID tokens; never a panic.
func FuzzIDTokenHint(f *testing.F) {
	fx, _, hint := oidcFixture(f)
	parts := strings.Split(hint, ".")
	for _, s := range []string{hint, parts[0] + "." + parts[1] + ".", "e30.e30.e30", parts[0] + ".." + parts[2], strings.Repeat("a.", 5000), "x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		cl, err := fx.p.parseIDTokenHint(raw)
		if err != nil {
			return
		}
		if raw != hint || cl.Iss != fx.p.cfg.Issuer || cl.Sub != "1" || cl.Aud != "rp" {
			t.Fatalf("accepted %q as %+v", raw, cl)
		}
	})
}

// FuzzUserInfo throws arbitrary methods, headers, queries and bodies at the
// UserInfo endpoint: never a panic or a 5xx, never cacheable, and every
// refusal of a token carries a Bearer challenge.
func FuzzUserInfo(f *testing.F) {
	fx, _, _ := oidcFixture(f)
	h := fx.p.UserInfoHandler()
	f.Add("GET", "", "Bearer okat_"+strings.Repeat("a", 43), "", "")
	f.Add("POST", "", "", "application/x-www-form-urlencoded", "access_token=x&access_token=y")
	f.Add("POST", "access_token=x", "Bearer  x", "application/x-www-form-urlencoded; charset=utf-8", "access_token=x")
	f.Add("PUT", "%zz", "Basic !!", "text/plain", "%zz")
	f.Fuzz(func(t *testing.T, method, query, auth, ctype, body string) {
		if method != "GET" && method != "POST" && method != "PUT" && method != "OPTIONS" {
			method = "GET"
		}
		r := httptest.NewRequest(method, "/oauth/userinfo", strings.NewReader(body))
		r.URL.RawQuery = query
		if auth != "" {
			r.Header.Set("Authorization", auth)
		}
		if ctype != "" {
			r.Header.Set("Content-Type", ctype)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		switch {
		case w.Code >= 500:
			t.Fatalf("status %d: %s", w.Code, w.Body)
		case method == "OPTIONS":
		case w.Header().Get("Cache-Control") != "no-store":
			t.Fatalf("%d without no-store", w.Code)
		case w.Code != http.StatusOK && !strings.HasPrefix(w.Header().Get("WWW-Authenticate"), "Bearer"):
			t.Fatalf("%d without a Bearer challenge", w.Code)
		}
	})
}

// FuzzEndSession feeds arbitrary end-session requests: never a panic or a
// 5xx, and never a redirect but to a registered post-logout URI.
func FuzzEndSession(f *testing.F) {
	fx, rp, hint := oidcFixture(f)
	pg, err := loadPages(&AuthorizeOptions{})
	if err != nil {
		f.Fatal(err)
	}
	h := endSession{&authorizer{p: fx.p, pages: pg}}
	f.Add("id_token_hint=" + hint + "&post_logout_redirect_uri=https%3A%2F%2Frp.example%2Fbye&state=s")
	f.Add("client_id=rp&post_logout_redirect_uri=https%3A%2F%2Fevil.example%2F")
	f.Add("post_logout_redirect_uri=https%3A%2F%2Frp.example%2Fbye")
	f.Add("id_token_hint=x&client_id=svc&%zz")
	f.Fuzz(func(t *testing.T, raw string) {
		r := httptest.NewRequest("GET", "/oauth/logout", nil)
		r.URL.RawQuery = raw
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code >= 500 {
			t.Fatalf("status %d", w.Code)
		}
		if loc := w.Header().Get("Location"); loc != "" {
			target, _, _ := strings.Cut(loc, "?")
			if !slices.Contains(rp.PostLogoutRedirectURIs, target) {
				t.Fatalf("redirected to %q", loc)
			}
		}
	})
}
