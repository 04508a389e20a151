package grant_test

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/coreos/go-oidc/v3/oidc"

	"github.com/oauthkit/oauthkit/grant"
	"github.com/oauthkit/oauthkit/store"
	"github.com/oauthkit/oauthkit/store/memory"
)

// fetchJSON fetches a JSON document.
func fetchJSON(t *testing.T, u string) (int, map[string]any) {
	t.Helper()
	res, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var m map[string]any
	_ = json.NewDecoder(res.Body).Decode(&m)
	return res.StatusCode, m
}

// TestDiscovery is the discovery part of oidcc-server (Discovery §3, §4):
// the document at issuer + /.well-known/openid-configuration, from the
// configuration; the RFC 8414 document names the same endpoints; go-oidc
// reads it.
func TestDiscovery(t *testing.T) {
	e := newOIDCEnv(t, grant.AuthorizeOptions{})
	status, d := fetchJSON(t, e.srv.URL+grant.DiscoveryPath)
	if status != http.StatusOK {
		t.Fatalf("discovery: %d", status)
	}
	base := e.srv.URL
	for k, v := range map[string]any{
		"issuer": base, "authorization_endpoint": base + "/oauth/authorize", "token_endpoint": base + "/oauth/token",
		"userinfo_endpoint": base + "/oauth/userinfo", "jwks_uri": base + "/.well-known/jwks.json",
		"end_session_endpoint": base + "/oauth/logout", "request_parameter_supported": false,
		"request_uri_parameter_supported": false, "claims_parameter_supported": false,
	} {
		if d[k] != v {
			t.Errorf("%s = %v, want %v", k, d[k], v)
		}
	}
	for k, want := range map[string][]string{
		"response_types_supported":              {"code"},
		"subject_types_supported":               {"public"},
		"code_challenge_methods_supported":      {"S256"},
		"id_token_signing_alg_values_supported": {"RS256", "ES256", "EdDSA"},
		"scopes_supported":                      rpScopes,
		"token_endpoint_auth_methods_supported": {"client_secret_basic", "client_secret_post", "private_key_jwt", "none"},
	} {
		if got := jsonStrings(d[k]); !slices.Equal(got, want) {
			t.Errorf("%s = %v, want %v", k, got, want)
		}
	}
	cs := jsonStrings(d["claims_supported"])
	for _, c := range []string{"sub", "iss", "auth_time", "nonce", "name", "preferred_username", "email", "email_verified", "address", "phone_number"} {
		if !slices.Contains(cs, c) {
			t.Errorf("claims_supported lacks %s: %v", c, cs)
		}
	}
	_, md := fetchJSON(t, e.srv.URL+grant.MetadataPath)
	for k, v := range d {
		if strings.HasSuffix(k, "_endpoint") || k == "jwks_uri" || k == "issuer" {
			if md[k] != v {
				t.Errorf("RFC 8414 %s = %v, discovery %v", k, md[k], v)
			}
		}
	}
	p, err := oidc.NewProvider(t.Context(), e.srv.URL)
	if err != nil {
		t.Fatalf("go-oidc discovery: %v", err)
	}
	if p.UserInfoEndpoint() != base+"/oauth/userinfo" {
		t.Errorf("go-oidc userinfo endpoint %q", p.UserInfoEndpoint())
	}
}

// TestDiscoveryOpaqueTokensAndRotation: with opaque access tokens the JWKS
// still serves the ID-token keys; SetSigningKeys rotates them (discovery's
// algorithms follow), and refuses a set without RS256.
func TestDiscoveryOpaqueTokensAndRotation(t *testing.T) {
	e := newOIDCEnv(t, grant.AuthorizeOptions{})
	keys := signingKeys(t)
	_, jwks := fetchJSON(t, e.srv.URL+"/.well-known/jwks.json")
	if n := len(jwks["keys"].([]any)); n != 3 {
		t.Fatalf("JWKS with opaque access tokens: %d keys, want 3", n)
	}
	old := e.flow(rpES, "openid", nil).IDToken
	if err := e.p.SetSigningKeys(keys[2]); err == nil {
		t.Error("SetSigningKeys accepted a set without RS256")
	}
	if err := e.p.SetSigningKeys(keys[0]); err != nil {
		t.Fatal(err)
	}
	_, d := fetchJSON(t, e.srv.URL+grant.DiscoveryPath)
	if got := jsonStrings(d["id_token_signing_alg_values_supported"]); !slices.Equal(got, []string{"RS256"}) {
		t.Errorf("algorithms after rotation: %v", got)
	}
	// The ES256 client's key is gone: its ID token is no longer a hint,
	// and it gets no new ID token (server_error, not an unsigned one).
	authURL, _ := e.oidcURL(rpFirst, "openid", map[string][]string{"id_token_hint": {old}})
	if u := e.redirectTo(e.get(e.browser(), authURL)); u.Query().Get("error") != "invalid_request" {
		t.Errorf("hint signed by a withdrawn key: %s", u)
	}
	authURL, verifier := e.oidcURL(rpES, "openid", nil)
	u := e.signIn(e.browser(), authURL)
	status, tok := e.token(rpES, map[string][]string{"grant_type": {"authorization_code"}, "code": {u.Query().Get("code")}, "redirect_uri": {rpRedirect}, "code_verifier": {verifier}})
	if status != http.StatusInternalServerError || tok.IDToken != "" {
		t.Errorf("ES256 client without an ES256 key: %d %+v", status, tok)
	}
	// Opaque access tokens stay opaque: none is taken for a JWT.
	if tok := e.flow(rpWeb, "openid", nil); strings.Count(tok.AccessToken, ".") != 0 || !strings.HasPrefix(tok.AccessToken, grant.PrefixAccessToken) {
		t.Errorf("access token %q", tok.AccessToken)
	}
}

// TestOIDCConfig: OpenID Connect needs an RS256 key and the code grant;
// without OIDC, no discovery, userinfo or end-session route.
func TestOIDCConfig(t *testing.T) {
	st := memory.New()
	keys := signingKeys(t)
	base := grant.Config{Issuer: "https://op.example.com", Clients: st, Tokens: st, Logger: slog.New(slog.DiscardHandler)}
	for name, mutate := range map[string]func(*grant.Config){
		"no keys":    func(c *grant.Config) {},
		"no RS256":   func(c *grant.Config) { c.SigningKeys = keys[1:] },
		"no code":    func(c *grant.Config) { c.SigningKeys = keys; c.GrantTypes = []string{store.GrantClientCredentials} },
		"negative":   func(c *grant.Config) { c.SigningKeys = keys; c.OIDC.IDTokenTTL = -1 },
		"dup routes": func(c *grant.Config) { c.SigningKeys = keys; c.Endpoints.UserInfo = "/oauth/token" },
	} {
		cfg := base
		cfg.OIDC.Enabled = true
		mutate(&cfg)
		if _, err := grant.NewProvider(cfg); err == nil {
			t.Errorf("%s: NewProvider accepted it", name)
		}
	}
	p, err := grant.NewProvider(base)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range p.Routes(grant.Pages{}) {
		if strings.Contains(r.Pattern, "openid") || strings.Contains(r.Pattern, "userinfo") || strings.Contains(r.Pattern, "logout") {
			t.Errorf("route %s without OIDC", r.Pattern)
		}
	}
	w := httptest.NewRecorder()
	p.DiscoveryHandler().ServeHTTP(w, httptest.NewRequest("GET", grant.DiscoveryPath, nil))
	if w.Code != http.StatusNotFound {
		t.Errorf("discovery without OIDC: %d", w.Code)
	}
	if _, err := p.EndSessionHandler(grant.AuthorizeOptions{}); err == nil {
		t.Error("EndSessionHandler without OIDC")
	}
	if err := p.SetSigningKeys(keys...); err == nil {
		t.Error("SetSigningKeys with opaque tokens and no OIDC")
	}
}

// TestDiscoveryPathIssuer: for an issuer with a path, Discovery §4 appends
// the well-known path to it (RFC 8414 §3.1 inserts its own before it).
func TestDiscoveryPathIssuer(t *testing.T) {
	st := memory.New()
	p, err := grant.NewProvider(grant.Config{
		Issuer: "https://op.example.com/tenant1", Clients: st, Tokens: st, Users: st,
		SigningKeys: signingKeys(t), OIDC: grant.OIDC{Enabled: true},
	})
	if err != nil {
		t.Fatal(err)
	}
	az, err := p.AuthorizeHandler(grant.AuthorizeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range p.Routes(grant.Pages{Authorize: az}) {
		got = append(got, r.Pattern)
	}
	for _, want := range []string{"/tenant1/.well-known/openid-configuration", "/.well-known/oauth-authorization-server/tenant1", "/tenant1/oauth/userinfo", "/tenant1/oauth/logout"} {
		if !slices.Contains(got, want) {
			t.Errorf("routes %v lack %s", got, want)
		}
	}
	if p.DiscoveryURL() != "https://op.example.com/tenant1/.well-known/openid-configuration" {
		t.Errorf("DiscoveryURL %s", p.DiscoveryURL())
	}
}
