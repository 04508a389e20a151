package main

import (
	"bytes"
	"context"
	"encoding/json"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// userAgent is a cookie-jar browser on the example's login and consent
// pages: it follows redirects within the example and stops at any other
// (a client's redirect URI).
type userAgent struct {
	t    *testing.T
	base string
	c    *http.Client
}

func newUserAgent(t *testing.T, base string) *userAgent {
	jar, _ := cookiejar.New(nil)
	return &userAgent{t: t, base: base, c: &http.Client{Jar: jar, CheckRedirect: func(req *http.Request, _ []*http.Request) error {
		if !strings.HasPrefix(req.URL.String(), base+"/") {
			return http.ErrUseLastResponse
		}
		return nil
	}}}
}

// fetch sends req and returns the answer, its body read.
func (ua *userAgent) fetch(req *http.Request) (*http.Response, string) {
	ua.t.Helper()
	res, err := ua.c.Do(req)
	if err != nil {
		ua.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res, string(b)
}

func (ua *userAgent) get(u string) (*http.Response, string) {
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	return ua.fetch(req)
}

// post submits the page's hidden fields and extra to the page's URL.
func (ua *userAgent) post(res *http.Response, body string, extra url.Values) (*http.Response, string) {
	form := url.Values{}
	for _, m := range hiddenRE.FindAllStringSubmatch(body, -1) {
		form.Set(m[1], html.UnescapeString(m[2]))
	}
	for k, v := range extra {
		form[k] = v
	}
	req, _ := http.NewRequest(http.MethodPost, res.Request.URL.String(), strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return ua.fetch(req)
}

// authorize follows authURL through the login page (as user, when it
// comes) and the consent page (allowing), and returns where the example
// sends the browser back to.
func (ua *userAgent) authorize(authURL, user, password string) *url.URL {
	ua.t.Helper()
	res, body := ua.get(authURL)
	if strings.Contains(body, `name="password"`) {
		res, body = ua.post(res, body, url.Values{"username": {user}, "password": {password}})
	}
	if strings.Contains(body, `value="allow"`) {
		res, body = ua.post(res, body, url.Values{"consent": {"allow"}})
	}
	loc, err := res.Location()
	if err != nil {
		ua.t.Fatalf("no redirect to the client: %d %.300s", res.StatusCode, body)
	}
	return loc
}

// demoAppSecret reads demo-app's secret from the start-up banner.
func demoAppSecret(t *testing.T, banner string) string {
	t.Helper()
	for line := range strings.SplitSeq(banner, "\n") {
		if strings.Contains(line, "demo-app ") {
			if _, s, ok := strings.Cut(line, "secret="); ok {
				return strings.Fields(s)[0]
			}
		}
	}
	t.Fatalf("no demo-app secret in the banner:\n%s", banner)
	return ""
}

// TestOIDCContract checks the example's OpenID Connect contract that other
// tools drive it by: the discovery document's fields, the JWKS, UserInfo's
// 401, prompt=none without a session.
func TestOIDCContract(t *testing.T) {
	base, _ := startExample(t)
	var d, md map[string]any
	for u, v := range map[string]*map[string]any{base + "/.well-known/openid-configuration": &d, base + "/.well-known/oauth-authorization-server": &md} {
		status, _, body := call(t, "GET", u, "", "", "")
		if status != 200 || json.Unmarshal([]byte(body), v) != nil {
			t.Fatalf("%s: %d %s", u, status, body)
		}
	}
	for k, want := range map[string]any{
		"issuer": base, "authorization_endpoint": base + "/oauth/authorize", "token_endpoint": base + "/oauth/token",
		"userinfo_endpoint": base + "/oauth/userinfo", "jwks_uri": base + "/.well-known/jwks.json",
		"end_session_endpoint": base + "/oauth/logout", "request_parameter_supported": false, "request_uri_parameter_supported": false,
	} {
		if d[k] != want {
			t.Errorf("discovery %s = %v, want %v", k, d[k], want)
		}
		if _, isBool := want.(bool); !isBool && md[k] != want {
			t.Errorf("RFC 8414 %s = %v, want %v", k, md[k], want)
		}
	}
	strs := func(v any) []string {
		var out []string
		for _, x := range v.([]any) {
			out = append(out, x.(string))
		}
		return out
	}
	contains := map[string][]string{
		"scopes_supported":                      {"openid", "profile", "email", "offline_access"},
		"id_token_signing_alg_values_supported": {"RS256"},
		"claims_supported":                      {"sub", "name", "preferred_username", "email", "email_verified"},
		"token_endpoint_auth_methods_supported": {"client_secret_basic", "client_secret_post", "none"},
	}
	for k, want := range contains {
		for _, w := range want {
			if !slices.Contains(strs(d[k]), w) {
				t.Errorf("%s = %v lacks %s", k, d[k], w)
			}
		}
	}
	for k, want := range map[string][]string{"response_types_supported": {"code"}, "subject_types_supported": {"public"}, "code_challenge_methods_supported": {"S256"}} {
		if !slices.Equal(strs(d[k]), want) {
			t.Errorf("%s = %v, want %v", k, d[k], want)
		}
	}
	status, _, body := call(t, "GET", base+"/.well-known/jwks.json", "", "", "")
	if status != 200 || !strings.Contains(body, `"alg":"RS256"`) {
		t.Errorf("JWKS: %d %s", status, body)
	}
	for _, method := range []string{"GET", "POST"} {
		for _, auth := range []string{"", "Bearer okat_" + strings.Repeat("x", 43)} {
			status, hdr, _ := call(t, method, base+"/oauth/userinfo", "", auth, "")
			if status != 401 || !strings.Contains(hdr.Get("WWW-Authenticate"), `Bearer error="invalid_token"`) {
				t.Errorf("%s /oauth/userinfo %q: %d %q", method, auth, status, hdr.Get("WWW-Authenticate"))
			}
		}
	}
	q := url.Values{"client_id": {"demo-spa"}, "response_type": {"code"}, "redirect_uri": {"http://127.0.0.1:8080/callback"},
		"scope": {"openid"}, "state": {"s1"}, "prompt": {"none"}, "code_challenge_method": {"S256"},
		"code_challenge": {"E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"}}
	res, _ := newUserAgent(t, base).get(base + "/oauth/authorize?" + q.Encode())
	loc, _ := res.Location()
	if loc == nil || loc.Query().Get("error") != "login_required" || loc.Query().Get("state") != "s1" || loc.Query().Get("iss") != base {
		t.Errorf("prompt=none without a session: %d %v", res.StatusCode, loc)
	}
}

// TestGoOIDC is coreos/go-oidc against the example, as a Go relying party
// would use it: discovery, the code flow with PKCE and a nonce, Verifier on
// the ID token, UserInfo; then prompt=login, max_age, and RP-Initiated
// Logout (a later prompt=none is login_required; an unregistered
// post_logout_redirect_uri is a 400 page).
func TestGoOIDC(t *testing.T) {
	base, banner := startExample(t)
	ctx := context.Background()
	provider, err := oidc.NewProvider(ctx, base)
	if err != nil {
		t.Fatalf("discovery: %v", err)
	}
	cfg := &oauth2.Config{
		ClientID: "demo-app", ClientSecret: demoAppSecret(t, banner.String()), RedirectURL: "http://127.0.0.1:8080/callback",
		Endpoint: provider.Endpoint(), Scopes: []string{oidc.ScopeOpenID, "profile", "email"},
	}
	cfg.Endpoint.AuthStyle = oauth2.AuthStyleInHeader
	verifier := provider.Verifier(&oidc.Config{ClientID: cfg.ClientID})
	ua := newUserAgent(t, base)

	signIn := func(extra ...oauth2.AuthCodeOption) (*oauth2.Token, *oidc.IDToken) {
		t.Helper()
		nonce, pkce := oauth2.GenerateVerifier(), oauth2.GenerateVerifier()
		opts := append([]oauth2.AuthCodeOption{oidc.Nonce(nonce), oauth2.S256ChallengeOption(pkce)}, extra...)
		back := ua.authorize(cfg.AuthCodeURL("st", opts...), "user1", "password1")
		if back.Query().Get("state") != "st" || back.Query().Get("iss") != base {
			t.Fatalf("authorization response %s", back)
		}
		tok, err := cfg.Exchange(ctx, back.Query().Get("code"), oauth2.VerifierOption(pkce))
		if err != nil {
			t.Fatalf("exchange: %v", err)
		}
		raw, _ := tok.Extra("id_token").(string)
		idt, err := verifier.Verify(ctx, raw)
		if err != nil {
			t.Fatalf("Verifier: %v", err)
		}
		if idt.Nonce != nonce {
			t.Fatalf("nonce %q, want %q", idt.Nonce, nonce)
		}
		return tok, idt
	}
	tok, idt := signIn()
	if idt.Subject != "1" {
		t.Errorf("sub %q", idt.Subject)
	}
	info, err := provider.UserInfo(ctx, oauth2.StaticTokenSource(tok))
	if err != nil {
		t.Fatalf("UserInfo: %v", err)
	}
	var cl struct {
		Name              string `json:"name"`
		PreferredUsername string `json:"preferred_username"`
	}
	if err := info.Claims(&cl); err != nil {
		t.Fatal(err)
	}
	if info.Subject != idt.Subject || info.Email != "user1@example.com" || !info.EmailVerified || cl.Name != "User One" || cl.PreferredUsername != "user1" {
		t.Errorf("userinfo %+v %+v", info, cl)
	}

	// prompt=login shows the login page to the signed-in user.
	res, body := ua.get(cfg.AuthCodeURL("st", oauth2.S256ChallengeOption(oauth2.GenerateVerifier()), oauth2.SetAuthURLParam("prompt", "login")))
	if !strings.Contains(body, `name="password"`) {
		t.Errorf("prompt=login when signed in: %d, no login page", res.StatusCode)
	}
	_, again := signIn(oauth2.SetAuthURLParam("max_age", "3600"))
	var times struct {
		AuthTime int64 `json:"auth_time"`
	}
	if err := again.Claims(&times); err != nil || times.AuthTime == 0 {
		t.Errorf("max_age: auth_time %d (%v)", times.AuthTime, err)
	}

	// RP-Initiated Logout.
	raw, _ := tok.Extra("id_token").(string)
	for _, bad := range []string{"http://127.0.0.1:8080/other", "https://evil.example/"} {
		q := url.Values{"id_token_hint": {raw}, "post_logout_redirect_uri": {bad}}
		res, _ := ua.get(base + "/oauth/logout?" + q.Encode())
		if res.StatusCode != http.StatusBadRequest || res.Header.Get("Location") != "" {
			t.Errorf("unregistered post_logout_redirect_uri %s: %d %q", bad, res.StatusCode, res.Header.Get("Location"))
		}
	}
	q := url.Values{"id_token_hint": {raw}, "post_logout_redirect_uri": {demoPostLogoutURI}, "state": {"bye"}}
	res, _ = ua.get(base + "/oauth/logout?" + q.Encode())
	if loc, _ := res.Location(); loc == nil || loc.String() != demoPostLogoutURI+"?state=bye" {
		t.Fatalf("logout: %d %v", res.StatusCode, loc)
	}
	res, _ = ua.get(cfg.AuthCodeURL("st", oauth2.S256ChallengeOption(oauth2.GenerateVerifier()), oauth2.SetAuthURLParam("prompt", "none")))
	if loc, _ := res.Location(); loc == nil || loc.Query().Get("error") != "login_required" {
		t.Errorf("prompt=none after logout: %d %v", res.StatusCode, loc)
	}
}

// TestClientsFileOIDCFields: a -clients entry may carry
// post_logout_redirect_uris and id_token_signed_response_alg, the latter
// one the example signs with.
func TestClientsFileOIDCFields(t *testing.T) {
	clients, err := parseClients([]byte(`[{"client_id": "rp", "redirect_uris": ["http://127.0.0.1:9000/cb"],
		"scope": "openid profile email offline_access", "post_logout_redirect_uris": ["http://127.0.0.1:9000/bye"],
		"id_token_signed_response_alg": "ES256"}]`))
	if err != nil {
		t.Fatal(err)
	}
	c := clients[0]
	if !slices.Equal(c.PostLogoutRedirectURIs, []string{"http://127.0.0.1:9000/bye"}) || c.IDTokenSignedResponseAlg != "ES256" || !slices.Contains(c.Scopes, "openid") {
		t.Errorf("client %+v", c)
	}
	for _, bad := range []string{
		`[{"client_id": "rp", "redirect_uris": ["http://127.0.0.1:9000/cb"], "id_token_signed_response_alg": "HS256"}]`,
		`[{"client_id": "rp", "redirect_uris": ["http://127.0.0.1:9000/cb"], "id_token_signed_response_alg": "none"}]`,
		`[{"client_id": "rp", "redirect_uris": ["http://127.0.0.1:9000/cb"], "post_logout_redirect_uris": ["http://evil.example/"]}]`,
	} {
		if _, err := parseClients([]byte(bad)); err == nil {
			t.Errorf("accepted %s", bad)
		}
	}
}

// TestSigningKeysFile: $OAUTHKIT_SIGNING_KEYS is read as PKCS#8 PEM, kids
// derived from the public keys (the same in every instance); a bad file
// stops the start with a message naming the variable.
func TestSigningKeysFile(t *testing.T) {
	path := os.Getenv(signingKeysEnv) // written by TestMain
	a, err := loadSigningKeys(path)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := loadSigningKeys(path)
	if len(a) != 3 || a[0].ID != b[0].ID || a[0].ID == a[1].ID {
		t.Fatalf("keys %v", a)
	}
	dir := t.TempDir()
	for name, content := range map[string]string{
		"empty": "", "not pem": "hello", "rsa pkcs1": "-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----\n",
		"bad der": "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
	} {
		p := filepath.Join(dir, strings.ReplaceAll(name, " ", "-"))
		os.WriteFile(p, []byte(content), 0o600)
		if _, err := loadSigningKeys(p); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	t.Setenv(signingKeysEnv, filepath.Join(dir, "missing"))
	var stderr bytes.Buffer
	if code := run(context.Background(), []string{"-addr", "127.0.0.1:0"}, io.Discard, &stderr); code != 2 || !strings.Contains(stderr.String(), signingKeysEnv) {
		t.Errorf("missing keys file: exit %d, %q", code, stderr.String())
	}
}
