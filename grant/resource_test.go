package grant_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"

	jose "github.com/go-jose/go-jose/v4"
	josejwt "github.com/go-jose/go-jose/v4/jwt"
	"golang.org/x/oauth2"

	"github.com/oauthkit/oauthkit/grant"
	"github.com/oauthkit/oauthkit/store"
)

// The resources of the RFC 8707 tests: the provider may issue tokens for A
// and B (configured in a non-canonical spelling), never for C.
const (
	resA = "https://a.example.com/mcp"
	resB = "https://b.example.com"
	resC = "https://c.example.com/mcp"
)

func withResources(c *grant.Config) {
	c.Resources.Allowed = []string{"HTTPS://A.example.com:443/mcp/", resB + "/"}
	c.Audience = []string{"https://default.example.com"}
}

// tokenJSON posts form to the token endpoint as client id and returns the
// status and the decoded answer.
func (e *azEnv) tokenJSON(id string, form url.Values) (int, map[string]any) {
	e.t.Helper()
	if e.secrets[id] == "" && id != "" {
		form.Set("client_id", id)
	}
	req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/oauth/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if s := e.secrets[id]; s != "" {
		req.SetBasicAuth(id, s)
	}
	p := e.do(http.DefaultClient, req)
	var m map[string]any
	if err := json.Unmarshal([]byte(p.body), &m); err != nil {
		e.t.Fatalf("token endpoint: %d %s", p.status, p.body)
	}
	return p.status, m
}

// introspect asks as the confidential client id what tok is.
func (e *azEnv) introspect(id, tok string) map[string]any {
	e.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/oauth/introspect", strings.NewReader(url.Values{"token": {tok}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(id, e.secrets[id])
	p := e.do(http.DefaultClient, req)
	var m map[string]any
	if err := json.Unmarshal([]byte(p.body), &m); err != nil {
		e.t.Fatalf("introspection: %d %s", p.status, p.body)
	}
	return m
}

// audience is what the token is for, by introspection (as its own client)
// and by ValidateToken, which must agree.
func (e *azEnv) audience(id, tok string) []string {
	e.t.Helper()
	var aud []string
	if a, ok := e.introspect(id, tok)["aud"].([]any); ok {
		for _, s := range a {
			aud = append(aud, s.(string))
		}
	}
	v, err := e.p.ValidateToken(context.Background(), tok)
	if err != nil {
		e.t.Fatalf("ValidateToken: %v", err)
	}
	if !reflect.DeepEqual(v.Audience, aud) {
		e.t.Fatalf("ValidateToken's audience %q, introspection's %q", v.Audience, aud)
	}
	return aud
}

func wantAudience(t *testing.T, what string, got []string, want ...string) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s: audience %q, want %q", what, got, want)
	}
}

// TestResourceInvalidTarget: a resource the provider is not configured
// for, or one that is not an absolute URI without fragment, is refused
// with invalid_target (RFC 8707 §2) at the token and authorization
// endpoints; without Resources every resource is.
func TestResourceInvalidTarget(t *testing.T) {
	bad := []string{resC, "https://a.example.com/mcp/x", "https://a.example.com/mcp#x", "a.example.com/mcp", "urn:x:y", "https://a.example.com/%zz"}
	for _, cfg := range []struct {
		name   string
		mutate func(*grant.Config)
		bad    []string
	}{
		{"configured", withResources, bad},
		{"none configured", func(*grant.Config) {}, append(bad, resA)},
	} {
		t.Run(cfg.name, func(t *testing.T) {
			e := newAZEnv(t, grant.AuthorizeOptions{}, cfg.mutate)
			for _, res := range cfg.bad {
				status, body := e.tokenJSON(azNoAC, url.Values{"grant_type": {"client_credentials"}, "resource": {res}})
				if status != http.StatusBadRequest || body["error"] != "invalid_target" {
					t.Errorf("token endpoint, resource %q: %d %v, want 400 invalid_target", res, status, body)
				}
				u := e.oauth2Config(azWeb, azWebRedirect, "read").AuthCodeURL("st",
					oauth2.S256ChallengeOption(oauth2.GenerateVerifier()), oauth2.SetAuthURLParam("resource", res))
				p := e.get(noRedirects(), u)
				if p.status != http.StatusFound {
					t.Errorf("authorize, resource %q: %d, want a redirect with invalid_target", res, p.status)
					continue
				}
				if loc, _ := url.Parse(p.header.Get("Location")); loc.Query().Get("error") != "invalid_target" || loc.Query().Get("state") != "st" {
					t.Errorf("authorize, resource %q: redirected to %s", res, loc)
				}
			}
		})
	}
}

// TestResourceAudience: the token is for the resources asked for, in
// canonical form, as introspection, ValidateToken and the JWT's aud say;
// a request naming none gets Config.Audience; the parameter may repeat
// (RFC 8707 §2), no other may.
func TestResourceAudience(t *testing.T) {
	jwt, _ := withJWT(t, grant.AlgEdDSA)
	e := newAZEnv(t, grant.AuthorizeOptions{}, withResources, jwt)
	cc := func(res ...string) (int, map[string]any) {
		return e.tokenJSON(azNoAC, url.Values{"grant_type": {"client_credentials"}, "resource": res})
	}
	for _, c := range []struct {
		res  []string
		want []string
	}{
		{[]string{resA}, []string{resA}},
		{[]string{"https://A.EXAMPLE.com/mcp/"}, []string{resA}},
		{[]string{resA, resB + "/"}, []string{resA, resB}},
		{[]string{resB, resA, resB}, []string{resB, resA}},
		{nil, []string{"https://default.example.com"}},
	} {
		status, body := cc(c.res...)
		if status != http.StatusOK {
			t.Fatalf("resource %q: %d %v", c.res, status, body)
		}
		tok := body["access_token"].(string)
		wantAudience(t, "introspection and ValidateToken", e.audience(azNoAC, tok), c.want...)
		var claims josejwt.Claims
		parsed, err := josejwt.ParseSigned(tok, []jose.SignatureAlgorithm{jose.EdDSA})
		if err != nil {
			t.Fatal(err)
		}
		if err := parsed.UnsafeClaimsWithoutVerification(&claims); err != nil {
			t.Fatal(err)
		}
		wantAudience(t, "JWT aud", []string(claims.Audience), c.want...)
	}
	if status, body := e.tokenJSON(azNoAC, url.Values{"grant_type": {"client_credentials"}, "scope": {"read"}, "resource": {resA}}); status != 200 {
		t.Errorf("scope and resource: %d %v", status, body)
	}
	req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/oauth/token", strings.NewReader("grant_type=client_credentials&scope=read&scope=read"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(azNoAC, e.secrets[azNoAC])
	if p := e.do(http.DefaultClient, req); p.status != http.StatusBadRequest || !strings.Contains(p.body, "invalid_request") {
		t.Errorf("a repeated scope: %d %s, want invalid_request", p.status, p.body)
	}
}

// TestResourceCodeAndRefreshNeverWiden: the code carries the resources of
// the authorization request; the token requests that redeem it and
// refresh its grant may name a subset of them (the access token narrows,
// the refresh token keeps the grant's), never another resource, even one
// the provider serves; a refused request does not cost the refresh token.
// A grant authorized for no resource cannot be widened to one.
func TestResourceCodeAndRefreshNeverWiden(t *testing.T) {
	e := newAZEnv(t, grant.AuthorizeOptions{}, func(c *grant.Config) {
		withResources(c)
		c.Resources.Allowed = append(c.Resources.Allowed, resC) // the provider serves C, the grant is not for it
	})
	cfg := e.oauth2Config(azSPA, azSPARedirect, "read")
	verifier := oauth2.GenerateVerifier()
	authURL := cfg.AuthCodeURL("st", oauth2.S256ChallengeOption(verifier), oauth2.SetAuthURLParam("resource", resA)) + "&resource=" + url.QueryEscape(resB)
	code := e.authorize(authURL, "allow").Query().Get("code")
	if code == "" {
		t.Fatal("no code")
	}
	ac := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "code_verifier": {verifier}, "redirect_uri": {azSPARedirect}}
	ac["resource"] = []string{resC}
	if status, body := e.tokenJSON(azSPA, ac); status != http.StatusBadRequest || body["error"] != "invalid_target" {
		t.Fatalf("code for A and B redeemed for C: %d %v", status, body)
	}
	// The refused exchange consumed the code (a code is single-use); a new one.
	verifier = oauth2.GenerateVerifier()
	authURL = cfg.AuthCodeURL("st", oauth2.S256ChallengeOption(verifier), oauth2.SetAuthURLParam("resource", resA)) + "&resource=" + url.QueryEscape(resB)
	code = e.authorize(authURL, "allow").Query().Get("code")
	ac.Set("code", code)
	ac.Set("code_verifier", verifier)
	ac["resource"] = []string{resA}
	status, body := e.tokenJSON(azSPA, ac)
	if status != http.StatusOK {
		t.Fatalf("exchange for A: %d %v", status, body)
	}
	wantAudience(t, "access token of the code, for A", e.p2Audience(body["access_token"].(string)), resA)
	rt := body["refresh_token"].(string)
	refresh := func(res ...string) (int, map[string]any) {
		return e.tokenJSON(azSPA, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}, "resource": res})
	}
	for _, widen := range [][]string{{resC}, {resA, resC}, {"https://d.example.com"}} {
		if status, body := refresh(widen...); status != http.StatusBadRequest || body["error"] != "invalid_target" {
			t.Fatalf("refresh widened to %q: %d %v", widen, status, body)
		}
	}
	status, body = refresh()
	if status != http.StatusOK {
		t.Fatalf("refresh after refused widenings: %d %v (the refused requests must not cost the refresh token)", status, body)
	}
	wantAudience(t, "refresh naming none: the grant's", e.p2Audience(body["access_token"].(string)), resA, resB)
	rt = body["refresh_token"].(string)
	status, body = refresh(resB)
	if status != http.StatusOK {
		t.Fatalf("refresh for B: %d %v", status, body)
	}
	wantAudience(t, "refresh narrowed to B", e.p2Audience(body["access_token"].(string)), resB)
	rt = body["refresh_token"].(string)
	status, body = refresh()
	if status != http.StatusOK {
		t.Fatalf("refresh after a narrowed one: %d %v", status, body)
	}
	wantAudience(t, "the refresh token keeps the grant's resources", e.p2Audience(body["access_token"].(string)), resA, resB)

	// A grant for no resource cannot become one for A.
	verifier = oauth2.GenerateVerifier()
	code = e.authorize(cfg.AuthCodeURL("st", oauth2.S256ChallengeOption(verifier)), "allow").Query().Get("code")
	plain := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "code_verifier": {verifier}, "redirect_uri": {azSPARedirect}}
	plain["resource"] = []string{resA}
	if status, body := e.tokenJSON(azSPA, plain); status != http.StatusBadRequest || body["error"] != "invalid_target" {
		t.Fatalf("code for no resource redeemed for A: %d %v", status, body)
	}
}

// TestResourceRetryKeepsOneRefreshToken: a refresh retried within the
// grace with other resources gets the first answer's refresh token again
// and an access token for what it asked; the family never holds a second
// live refresh token.
func TestResourceRetryKeepsOneRefreshToken(t *testing.T) {
	e := newAZEnv(t, grant.AuthorizeOptions{}, withResources)
	cfg := e.oauth2Config(azSPA, azSPARedirect, "read")
	verifier := oauth2.GenerateVerifier()
	authURL := cfg.AuthCodeURL("st", oauth2.S256ChallengeOption(verifier), oauth2.SetAuthURLParam("resource", resA)) + "&resource=" + url.QueryEscape(resB)
	code := e.authorize(authURL, "allow").Query().Get("code")
	status, body := e.tokenJSON(azSPA, url.Values{"grant_type": {"authorization_code"}, "code": {code}, "code_verifier": {verifier}, "redirect_uri": {azSPARedirect}})
	if status != http.StatusOK {
		t.Fatalf("exchange: %d %v", status, body)
	}
	wantAudience(t, "code exchanged naming no resource: the authorization's", e.p2Audience(body["access_token"].(string)), resA, resB)
	rt := body["refresh_token"].(string)
	form := func(res string) url.Values {
		return url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}, "resource": {res}}
	}
	s1, first := e.tokenJSON(azSPA, form(resA))
	s2, retry := e.tokenJSON(azSPA, form(resB))
	if s1 != 200 || s2 != 200 {
		t.Fatalf("refresh %d %v, retry %d %v", s1, first, s2, retry)
	}
	if first["refresh_token"] != retry["refresh_token"] {
		t.Fatal("a retry with other resources got a second refresh token")
	}
	if first["access_token"] == retry["access_token"] {
		t.Fatal("a retry for other resources got the same access token")
	}
	wantAudience(t, "first", e.p2Audience(first["access_token"].(string)), resA)
	wantAudience(t, "retry", e.p2Audience(retry["access_token"].(string)), resB)
	s3, again := e.tokenJSON(azSPA, form(resA))
	if s3 != 200 || again["access_token"] != first["access_token"] {
		t.Fatalf("the same retry again: %d %v, want the first answer", s3, again)
	}
}

// p2Audience is the audience ValidateToken gives tok.
func (e *azEnv) p2Audience(tok string) []string {
	e.t.Helper()
	v, err := e.p.ValidateToken(context.Background(), tok)
	if err != nil {
		e.t.Fatalf("ValidateToken: %v", err)
	}
	return v.Audience
}

// TestResourceConfigErrors: configured resources must be resource
// identifiers.
func TestResourceConfigErrors(t *testing.T) {
	for _, bad := range []string{"", "api", "https://a.example/#x", "https://a.example/../b", "ftp://a.example/"} {
		st := newMemoryForConfig()
		_, err := grant.NewProvider(grant.Config{Issuer: "https://as.example", Clients: st, Tokens: st,
			Resources: grant.Resources{Allowed: []string{bad}}})
		if err == nil || !strings.HasPrefix(err.Error(), "grant: ") {
			t.Errorf("Resources.Allowed %q: %v", bad, err)
		}
	}
}

// TestResourceAllowHook: Resources.Allow refuses a resource to a client.
func TestResourceAllowHook(t *testing.T) {
	e := newAZEnv(t, grant.AuthorizeOptions{}, withResources, func(c *grant.Config) {
		c.Resources.Allow = func(_ context.Context, c *store.Client, res string) bool { return c.ID != azNoAC || res != resB }
	})
	if status, body := e.tokenJSON(azNoAC, url.Values{"grant_type": {"client_credentials"}, "resource": {resA}}); status != 200 {
		t.Errorf("resource A: %d %v", status, body)
	}
	if status, body := e.tokenJSON(azNoAC, url.Values{"grant_type": {"client_credentials"}, "resource": {resB + "/"}}); status != 400 || body["error"] != "invalid_target" {
		t.Errorf("resource B, refused by the hook: %d %v", status, body)
	}
}

// TestResourceDeviceGrantRefused: the device code grant carries no
// resources from its authorization (RFC 8628 defines none), so a poll
// naming one is invalid_target, as a code authorized for none would be —
// before the device code is redeemed, which a later poll still does.
func TestResourceDeviceGrantRefused(t *testing.T) {
	e := newDevEnv(t, grant.DeviceOptions{}, withResources)
	a := e.deviceAuth(devTV, "read")
	e.approve(a.str("verification_uri_complete"), "user1", "allow")
	r := e.post("/oauth/token", devTV, url.Values{"grant_type": {store.GrantDeviceCode}, "device_code": {a.str("device_code")}, "resource": {resA}})
	if r.status != http.StatusBadRequest || r.str("error") != grant.CodeInvalidTarget {
		t.Fatalf("device poll naming a resource: %d %v", r.status, r.body)
	}
	if tok := e.poll(devTV, a.str("device_code")); tok.status != http.StatusOK {
		t.Fatalf("the poll after: %d %v (the refused poll must not redeem the code)", tok.status, tok.body)
	}
}
