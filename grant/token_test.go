package grant

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/oauthkit/oauthkit/middleware"
	"github.com/oauthkit/oauthkit/store"
)

// response is a decoded JSON answer.
type response struct {
	status int
	header http.Header
	body   map[string]any
	raw    string
}

func (r response) str(k string) string { s, _ := r.body[k].(string); return s }

// post sends a form to path. Basic auth is used when user is not empty.
func (f *fixture) post(path string, form url.Values, user, pass string) response {
	f.t.Helper()
	return f.do("POST", path, "application/x-www-form-urlencoded", form.Encode(), func(r *http.Request) {
		if user != "" {
			r.SetBasicAuth(url.QueryEscape(user), url.QueryEscape(pass))
		}
	})
}

func (f *fixture) do(method, path, ctype, body string, edit func(*http.Request)) response {
	f.t.Helper()
	req, err := http.NewRequest(method, f.srv.URL+path, strings.NewReader(body))
	if err != nil {
		f.t.Fatal(err)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	if edit != nil {
		edit(req)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	out := response{status: res.StatusCode, header: res.Header, raw: string(raw)}
	_ = json.Unmarshal(raw, &out.body)
	return out
}

// api calls the protected route with token and returns the status.
func (f *fixture) api(token string) int {
	f.t.Helper()
	return f.do("GET", "/api/data", "", "", func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+token) }).status
}

func (f *fixture) passwordGrant(client, scope string) response {
	f.t.Helper()
	form := url.Values{"grant_type": {"password"}, "username": {"user1"}, "password": {"password1"}}
	if scope != "" {
		form.Set("scope", scope)
	}
	return f.post("/oauth/token", form, client, f.secrets[client])
}

func (f *fixture) refresh(client, rt, scope string) response {
	f.t.Helper()
	form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}
	if scope != "" {
		form.Set("scope", scope)
	}
	switch client {
	case publicClient:
		form.Set("client_id", client)
		return f.post("/oauth/token", form, "", "")
	case postClient:
		form.Set("client_id", client)
		form.Set("client_secret", f.secrets[client])
		return f.post("/oauth/token", form, "", "")
	}
	return f.post("/oauth/token", form, client, f.secrets[client])
}

func wantError(t *testing.T, r response, status int, code string) {
	t.Helper()
	if r.status != status || r.str("error") != code {
		t.Fatalf("got %d %s, want %d error=%s", r.status, r.raw, status, code)
	}
	if r.header.Get("Cache-Control") != "no-store" {
		t.Errorf("error response without Cache-Control: no-store")
	}
}

func TestClientCredentialsWithXOAuth2(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	for _, c := range []struct {
		id    string
		style oauth2.AuthStyle
	}{{svcClient, oauth2.AuthStyleInHeader}, {postClient, oauth2.AuthStyleInParams}} {
		cc := clientcredentials.Config{ClientID: c.id, ClientSecret: f.secrets[c.id], TokenURL: f.srv.URL + "/oauth/token", AuthStyle: c.style, Scopes: []string{"read"}}
		tok, err := cc.Token(ctx)
		if err != nil {
			t.Fatalf("%s: %v", c.id, err)
		}
		if !strings.HasPrefix(tok.AccessToken, PrefixAccessToken) || tok.RefreshToken != "" || tok.TokenType != "Bearer" {
			t.Errorf("%s: unexpected token %+v", c.id, tok)
		}
		if got := tok.Extra("scope"); got != "read" {
			t.Errorf("%s: scope %v", c.id, got)
		}
		if s := f.api(tok.AccessToken); s != 200 {
			t.Errorf("%s: /api/data with the token: %d", c.id, s)
		}
	}
	// The other secret method works too unless the client is strict
	// (TestClientAuthEitherMethod).
}

func TestPasswordGrantAndRefreshWithXOAuth2(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	conf := oauth2.Config{ClientID: appClient, ClientSecret: f.secrets[appClient],
		Endpoint: oauth2.Endpoint{TokenURL: f.srv.URL + "/oauth/token", AuthStyle: oauth2.AuthStyleInHeader},
		Scopes:   []string{"read", "write"}}
	tok, err := conf.PasswordCredentialsToken(ctx, "user1", "password1")
	if err != nil {
		t.Fatal(err)
	}
	if tok.RefreshToken == "" || tok.Extra("scope") != "read write" {
		t.Fatalf("unexpected token %+v scope=%v", tok, tok.Extra("scope"))
	}
	if s := f.api(tok.AccessToken); s != 200 {
		t.Fatalf("/api/data: %d", s)
	}
	if _, err := conf.PasswordCredentialsToken(ctx, "user1", "wrong"); err == nil {
		t.Fatal("wrong password accepted")
	} else if re := (*oauth2.RetrieveError)(nil); !errors.As(err, &re) || re.ErrorCode != CodeInvalidGrant || re.Response.StatusCode != 400 {
		t.Fatalf("wrong password: %v", err)
	}
	// Refresh through the client's TokenSource.
	expired := *tok
	expired.Expiry = time.Now().Add(-time.Minute)
	fresh, err := conf.TokenSource(ctx, &expired).Token()
	if err != nil {
		t.Fatal(err)
	}
	if fresh.AccessToken == tok.AccessToken || fresh.RefreshToken == tok.RefreshToken || fresh.RefreshToken == "" {
		t.Fatal("refresh did not rotate both tokens")
	}
	if s := f.api(fresh.AccessToken); s != 200 {
		t.Fatalf("/api/data with refreshed token: %d", s)
	}
}

// Audit row 3: a refresh token is bound to its client.
func TestRefreshBoundToClient(t *testing.T) {
	f := newFixture(t)
	r := f.passwordGrant(appClient, "read")
	rt, at := r.str("refresh_token"), r.str("access_token")
	// Unauthenticated: a public client id cannot redeem a confidential client's token.
	wantError(t, f.refresh(publicClient, rt, ""), 400, CodeInvalidGrant)
	// Another confidential client.
	wantError(t, f.refresh(postClient, rt, ""), 400, CodeInvalidGrant)
	// Presenting it elsewhere revoked the grant: the rightful client is refused too.
	wantError(t, f.refresh(appClient, rt, ""), 400, CodeInvalidGrant)
	if s := f.api(at); s != 401 {
		t.Fatalf("access token of a leaked grant still valid: %d", s)
	}
	// The rightful client without its secret.
	r = f.passwordGrant(appClient, "")
	wantError(t, f.post("/oauth/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {r.str("refresh_token")}}, appClient, "wrong"), 401, CodeInvalidClient)
}

// Audit row 4: refresh never widens scope.
func TestRefreshScopeNeverWidens(t *testing.T) {
	f := newFixture(t)
	r := f.passwordGrant(appClient, "read")
	rt := r.str("refresh_token")
	wantError(t, f.refresh(appClient, rt, "read write"), 400, CodeInvalidScope)
	wantError(t, f.refresh(appClient, rt, "admin"), 400, CodeInvalidScope)
	// The failed attempts did not burn the token; the same scope works.
	r = f.refresh(appClient, rt, "")
	if r.status != 200 || r.str("scope") != "read" {
		t.Fatalf("refresh: %d %s", r.status, r.raw)
	}
	// Narrowing is allowed; it narrows the access token only, and the
	// grant never widens beyond what was granted (TestRefreshNarrowingKeepsGrantScope).
	r = f.passwordGrant(appClient, "read write")
	r = f.refresh(appClient, r.str("refresh_token"), "write")
	if r.status != 200 || r.str("scope") != "write" {
		t.Fatalf("narrowing refresh: %d %s", r.status, r.raw)
	}
	wantError(t, f.refresh(appClient, r.str("refresh_token"), "read admin"), 400, CodeInvalidScope)
}

func sawEvent(f *fixture, k EventKind) bool {
	for {
		select {
		case e := <-f.events:
			if e.Kind == k {
				return true
			}
		default:
			return false
		}
	}
}

// Audit row 7: client authentication.
func TestClientAuthentication(t *testing.T) {
	f := newFixture(t)
	cc := url.Values{"grant_type": {"client_credentials"}}
	r := f.post("/oauth/token", cc, svcClient, "okcs_wrong")
	wantError(t, r, 401, CodeInvalidClient)
	if got := r.header.Get("WWW-Authenticate"); !strings.HasPrefix(got, "Basic ") {
		t.Errorf("invalid_client via Basic without a Basic challenge: %q", got)
	}
	wantError(t, f.post("/oauth/token", cc, svcClient, ""), 401, CodeInvalidClient)      // empty secret is no authentication
	wantError(t, f.post("/oauth/token", cc, "nobody", "secret"), 401, CodeInvalidClient) // unknown client: 401, not 500
	wantError(t, f.post("/oauth/token", cc, "", ""), 401, CodeInvalidClient)             // no client at all
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {postClient}, "client_secret": {"x"}}
	r = f.post("/oauth/token", form, "", "")
	wantError(t, r, 401, CodeInvalidClient)
	if r.header.Get("WWW-Authenticate") != "" {
		t.Error("Basic challenge sent to a client that did not use Basic")
	}
	// A public client cannot use client_credentials, and cannot pose as confidential.
	wantError(t, f.post("/oauth/token", url.Values{"grant_type": {"client_credentials"}, "client_id": {publicClient}}, "", ""), 400, CodeUnauthorizedClient)
	wantError(t, f.post("/oauth/token", url.Values{"grant_type": {"client_credentials"}, "client_id": {svcClient}}, "", ""), 401, CodeInvalidClient)
	// Two methods at once.
	form = url.Values{"grant_type": {"client_credentials"}, "client_secret": {f.secrets[svcClient]}}
	wantError(t, f.post("/oauth/token", form, svcClient, f.secrets[svcClient]), 400, CodeInvalidRequest)
	// Secrets are only hashes at rest.
	c, _ := f.st.Client(context.Background(), svcClient)
	if c.SecretHash != store.HashSecret(f.secrets[svcClient]) || strings.Contains(fmt.Sprintf("%+v", *c), f.secrets[svcClient]) {
		t.Error("client secret not stored as its SHA-256")
	}
}

// countingUsers counts password checks.
type countingUsers struct {
	store.UserStore
	mu sync.Mutex
	n  int
}

func (c *countingUsers) Authenticate(ctx context.Context, u, p string) (*store.User, error) {
	c.mu.Lock()
	c.n++
	c.mu.Unlock()
	return c.UserStore.Authenticate(ctx, u, p)
}

// Audit row 8: the client is authenticated before the user's password is
// looked at, so the token endpoint is no password oracle.
func TestPasswordGrantAuthenticatesClientFirst(t *testing.T) {
	users := &countingUsers{}
	f := newFixture(t, func(c *Config) { users.UserStore = c.Users; c.Users = users })
	form := url.Values{"grant_type": {"password"}, "username": {"user1"}, "password": {"password1"}}
	wantError(t, f.post("/oauth/token", form, appClient, "okcs_wrong"), 401, CodeInvalidClient)
	wantError(t, f.post("/oauth/token", form, svcClient, f.secrets[svcClient]), 400, CodeUnauthorizedClient)
	if users.n != 0 {
		t.Fatalf("password checked %d times for unauthenticated or unauthorized clients", users.n)
	}
	if r := f.post("/oauth/token", form, appClient, f.secrets[appClient]); r.status != 200 || users.n != 1 {
		t.Fatalf("authenticated client: %d %s (checks %d)", r.status, r.raw, users.n)
	}
}

// recordingTokens remembers everything handed to the token store.
type recordingTokens struct {
	store.TokenStore
	mu   sync.Mutex
	seen []string
}

func (r *recordingTokens) CreateToken(ctx context.Context, t *store.Token) error {
	r.mu.Lock()
	r.seen = append(r.seen, fmt.Sprintf("%+v", *t))
	r.mu.Unlock()
	return r.TokenStore.CreateToken(ctx, t)
}

// Audit rows 10 and 11: 256-bit random tokens, only hashes reach the store.
func TestTokensRandomAndHashedAtRest(t *testing.T) {
	rec := &recordingTokens{}
	f := newFixture(t, func(c *Config) { rec.TokenStore = c.Tokens; c.Tokens = rec })
	seen := map[string]bool{}
	for range 50 {
		r := f.passwordGrant(appClient, "")
		for _, k := range []string{"access_token", "refresh_token"} {
			v := r.str(k)
			body := strings.TrimPrefix(strings.TrimPrefix(v, PrefixAccessToken), PrefixRefreshToken)
			if len(body) != 43 || seen[v] {
				t.Fatalf("%s %q: not a fresh 256-bit base64url value", k, v)
			}
			seen[v] = true
			for _, s := range rec.seen {
				if strings.Contains(s, v) || strings.Contains(s, body) {
					t.Fatalf("raw %s reached the store: %s", k, s)
				}
			}
		}
	}
}

// Audit rows 12 and 13: RFC 6749 §5.2 statuses, and no-store on everything.
func TestTokenErrorStatuses(t *testing.T) {
	f := newFixture(t, func(c *Config) {
		c.GrantTypes = []string{store.GrantClientCredentials, store.GrantPassword, store.GrantRefreshToken}
	})
	sec := f.secrets[svcClient]
	cases := []struct {
		name   string
		form   url.Values
		status int
		code   string
	}{
		{"no grant_type", url.Values{}, 400, CodeInvalidRequest},
		{"unknown grant", url.Values{"grant_type": {"magic"}}, 400, CodeUnsupportedGrantType},
		{"implicit", url.Values{"grant_type": {"__implicit"}}, 400, CodeUnsupportedGrantType},
		{"grant off in config", url.Values{"grant_type": {"authorization_code"}, "code": {"x"}}, 400, CodeUnsupportedGrantType},
		{"grant not registered", url.Values{"grant_type": {"password"}, "username": {"user1"}, "password": {"password1"}}, 400, CodeUnauthorizedClient},
		{"unknown scope", url.Values{"grant_type": {"client_credentials"}, "scope": {"admin"}}, 400, CodeInvalidScope},
		{"malformed scope", url.Values{"grant_type": {"client_credentials"}, "scope": {"re\"ad"}}, 400, CodeInvalidScope},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { wantError(t, f.post("/oauth/token", c.form, svcClient, sec), c.status, c.code) })
	}
	wantError(t, f.refresh(appClient, "okrt_"+strings.Repeat("A", 43), ""), 400, CodeInvalidGrant)
	ok := f.post("/oauth/token", url.Values{"grant_type": {"client_credentials"}}, svcClient, sec)
	if ok.status != 200 || ok.header.Get("Cache-Control") != "no-store" || ok.header.Get("Pragma") != "no-cache" {
		t.Fatalf("success: %d, Cache-Control %q", ok.status, ok.header.Get("Cache-Control"))
	}
	if !strings.HasPrefix(ok.header.Get("Content-Type"), "application/json") {
		t.Errorf("Content-Type %q", ok.header.Get("Content-Type"))
	}
}

// Audit row 14: body parameters only, once each, bounded.
func TestTokenRequestStrictParsing(t *testing.T) {
	f := newFixture(t)
	sec := f.secrets[svcClient]
	basic := func(r *http.Request) { r.SetBasicAuth(svcClient, sec) }
	form := "application/x-www-form-urlencoded"
	wantError(t, f.do("POST", "/oauth/token?client_secret="+sec, form, "grant_type=client_credentials", basic), 400, CodeInvalidRequest)
	wantError(t, f.do("POST", "/oauth/token", form, "grant_type=client_credentials&grant_type=password", basic), 400, CodeInvalidRequest)
	wantError(t, f.do("POST", "/oauth/token", form, "grant_type=client_credentials&scope=read&scope=write", basic), 400, CodeInvalidRequest)
	wantError(t, f.do("GET", "/oauth/token?grant_type=client_credentials", "", "", basic), 405, CodeInvalidRequest)
	wantError(t, f.do("POST", "/oauth/token", "application/json", `{"grant_type":"client_credentials"}`, basic), 415, CodeInvalidRequest)
	wantError(t, f.do("POST", "/oauth/token", form, "grant_type=client_credentials&pad="+strings.Repeat("x", maxFormBytes), basic), 413, CodeInvalidRequest)
	wantError(t, f.do("POST", "/oauth/token", form, "grant_type=%zz", basic), 400, CodeInvalidRequest)
	// The client_id in the body must agree with Basic.
	wantError(t, f.do("POST", "/oauth/token", form, "grant_type=client_credentials&client_id="+postClient, basic), 401, CodeInvalidClient)
	if r := f.do("POST", "/oauth/token", form+"; charset=utf-8", "grant_type=client_credentials&client_id="+svcClient, basic); r.status != 200 {
		t.Fatalf("well-formed request refused: %d %s", r.status, r.raw)
	}
}

// Audit row 15: only code, client_credentials and refresh by default.
func TestDefaultGrantTypes(t *testing.T) {
	f := newFixture(t, func(c *Config) { c.GrantTypes = nil; c.LoginClientID = "" })
	wantError(t, f.passwordGrant(appClient, ""), 400, CodeUnsupportedGrantType)
	if r := f.post("/oauth/token", url.Values{"grant_type": {"client_credentials"}}, svcClient, f.secrets[svcClient]); r.status != 200 {
		t.Fatalf("client_credentials off by default: %d", r.status)
	}
	if r := f.do("POST", "/login", "application/json", `{"username":"user1","password":"password1"}`, nil); r.status != 404 {
		t.Fatalf("LoginHandler without LoginClientID: %d", r.status)
	}
}

func TestConfigErrors(t *testing.T) {
	f := newFixture(t)
	base := Config{Issuer: "https://as.example.com", Clients: f.st, Tokens: f.st}
	for name, mutate := range map[string]func(*Config){
		"no stores":          func(c *Config) { c.Tokens = nil },
		"http issuer":        func(c *Config) { c.Issuer = "http://as.example.com" },
		"issuer query":       func(c *Config) { c.Issuer = "https://as.example.com/?x=1" },
		"password w/o users": func(c *Config) { c.GrantTypes = []string{store.GrantPassword} },
		"implicit":           func(c *Config) { c.GrantTypes = []string{"implicit"} },
		"login w/o users":    func(c *Config) { c.LoginClientID = publicClient },
		"login unknown":      func(c *Config) { c.Users = f.st; c.LoginClientID = "nobody" },
		"long codes":         func(c *Config) { c.CodeTTL = time.Hour },
		"negative ttl":       func(c *Config) { c.AccessTokenTTL = -time.Second },
	} {
		c := base
		mutate(&c)
		if _, err := NewProvider(c); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	c := base
	c.Issuer = "http://127.0.0.1:5000"
	if _, err := NewProvider(c); err != nil {
		t.Errorf("loopback http issuer refused: %v", err)
	}
}

// Audit row 16: a zero TTL means the default, and expiry is honoured.
func TestAccessTokenExpiry(t *testing.T) {
	f := newFixture(t, func(c *Config) { c.AccessTokenTTL = 0 })
	r := f.post("/oauth/token", url.Values{"grant_type": {"client_credentials"}}, svcClient, f.secrets[svcClient])
	if r.body["expires_in"] != float64(3600) {
		t.Fatalf("expires_in %v, want 3600", r.body["expires_in"])
	}
	at := r.str("access_token")
	if s := f.api(at); s != 200 {
		t.Fatalf("fresh token: %d", s)
	}
	f.clock.Advance(time.Hour - time.Second)
	if s := f.api(at); s != 200 {
		t.Fatalf("token before expiry: %d", s)
	}
	f.clock.Advance(time.Second)
	if s := f.api(at); s != 401 {
		t.Fatalf("expired token: %d", s)
	}
}

func TestValidateTokenKinds(t *testing.T) {
	f := newFixture(t)
	r := f.passwordGrant(appClient, "")
	ctx := context.Background()
	tok, err := f.p.ValidateToken(ctx, r.str("access_token"))
	if err != nil || tok.Subject != "1" || tok.Username != "user1" || tok.ClientID != appClient || tok.Issuer != "https://as.example.com" {
		t.Fatalf("ValidateToken = %+v, %v", tok, err)
	}
	for _, raw := range []string{r.str("refresh_token"), "", "okat_short", PrefixAccessToken + strings.Repeat("A", 43)} {
		if _, err := f.p.ValidateToken(ctx, raw); !errors.Is(err, middleware.ErrInvalidToken) {
			t.Errorf("ValidateToken(%q) = %v, want ErrInvalidToken", raw, err)
		}
	}
}

func TestExtraTokenFieldsAndEvents(t *testing.T) {
	f := newFixture(t, func(c *Config) {
		c.ExtraTokenFields = func(_ context.Context, it IssuedToken) map[string]any {
			return map[string]any{"tenant": "acme", "access_token": "forged", "client": it.ClientID}
		}
	})
	r := f.post("/oauth/token", url.Values{"grant_type": {"client_credentials"}}, svcClient, f.secrets[svcClient])
	if r.str("tenant") != "acme" || r.str("client") != svcClient || !strings.HasPrefix(r.str("access_token"), PrefixAccessToken) {
		t.Fatalf("extra fields: %s", r.raw)
	}
	e := <-f.events
	if e.Kind != EventIssued || e.ClientID != svcClient || e.GrantType != "client_credentials" || e.Family != "" {
		t.Fatalf("issued event %+v", e)
	}
	f.post("/oauth/token", url.Values{"grant_type": {"client_credentials"}}, svcClient, "okcs_wrong")
	e = <-f.events
	if e.Kind != EventRefused || e.Error != CodeInvalidClient {
		t.Fatalf("refused event %+v", e)
	}
	if strings.Contains(fmt.Sprintf("%+v", e), "okcs_wrong") {
		t.Fatal("event carries the presented secret")
	}
}

// Guessing a client secret is throttled like guessing a password.
func TestClientSecretGuessingThrottled(t *testing.T) {
	f := newFixture(t, func(c *Config) { c.ClientAddr = testAddr })
	guess := func(secret, addr string) response {
		return f.do("POST", "/oauth/token", "application/x-www-form-urlencoded", "grant_type=client_credentials", func(r *http.Request) {
			r.SetBasicAuth(svcClient, secret)
			r.Header.Set("X-Test-Addr", addr)
		})
	}
	for range pairAttempts.Burst {
		wantError(t, guess("okcs_guess", "10.0.0.9"), 401, CodeInvalidClient)
	}
	wantError(t, guess(f.secrets[svcClient], "10.0.0.9"), 429, CodeSlowDown)
	if r := guess(f.secrets[svcClient], "10.0.0.10"); r.status != 200 {
		t.Fatalf("client locked out from another address: %d %s", r.status, r.raw)
	}
}
