package grant_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/oauthkit/oauthkit/grant"
	"github.com/oauthkit/oauthkit/store"
	"github.com/oauthkit/oauthkit/store/memory"
	"github.com/oauthkit/oauthkit/store/password"
)

// TestIssuerHTTPOnlyOnLoopback: an http issuer is accepted only when its
// host is a loopback IP literal (127.0.0.0/8, ::1). Host names are never
// loopback — not 127.attacker.example, nor localhost itself (RFC 8252
// §8.3: it may resolve elsewhere) — and neither are IPv4-mapped or zoned
// IPv6 forms.
func TestIssuerHTTPOnlyOnLoopback(t *testing.T) {
	st := memory.New()
	for iss, ok := range map[string]bool{
		"https://auth.example.com":          true,
		"https://auth.example.com/tenant1":  true,
		"http://127.0.0.1:5000":             true,
		"http://127.9.8.7":                  true,
		"http://[::1]:5000":                 true,
		"http://auth.example.com":           false,
		"http://127.attacker.example":       false,
		"http://127.0.0.1.attacker.example": false,
		"http://localhost.attacker.example": false,
		"http://localhost:5000":             false,
		"http://[::ffff:127.0.0.1]:5000":    false,
		"http://[::1%25lo]:5000":            false,
		"http://127.1:5000":                 false,
		"http://0x7f.0.0.1:5000":            false,
	} {
		_, err := grant.NewProvider(grant.Config{Issuer: iss, Clients: st, Tokens: st})
		if (err == nil) != ok {
			t.Errorf("issuer %s: err = %v, want accepted = %v", iss, err, ok)
		}
	}
}

// TestPathIssuer runs an issuer with a path end to end: the metadata is
// served at the RFC 8414 §3.1 URL (the well-known path inserted before the
// issuer's path), it names endpoints under the issuer's path, and each of
// them answers there; nothing is served outside the issuer's path.
func TestPathIssuer(t *testing.T) {
	ctx := context.Background()
	st := memory.New(memory.WithPasswordParams(password.Params{Memory: 1024, Time: 1, Threads: 1}))
	if err := st.AddUser("1", "user1", "password1"); err != nil {
		t.Fatal(err)
	}
	secret, hash, err := grant.NewClientSecret()
	if err != nil {
		t.Fatal(err)
	}
	if err := st.CreateClient(ctx, &store.Client{ID: "svc", AuthMethod: store.AuthSecretBasic, SecretHash: hash,
		RedirectURIs: []string{"https://app.example/cb"},
		GrantTypes:   []string{store.GrantClientCredentials, store.GrantAuthorizationCode}, Scopes: []string{"read"}}); err != nil {
		t.Fatal(err)
	}
	key, err := grant.GenerateSigningKey(grant.AlgEdDSA)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	defer srv.Close()
	issuer := srv.URL + "/tenant1"
	p, err := grant.NewProvider(grant.Config{
		Issuer: issuer, Clients: st, Tokens: st, Users: st, Introspectors: []string{"svc"},
		AccessTokenFormat: grant.FormatJWT, SigningKeys: []grant.SigningKey{key}, Audience: []string{"https://api.example"},
		Logger: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatal(err)
	}
	az, err := p.AuthorizeHandler(grant.AuthorizeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	p.Mount(mux, grant.Pages{Authorize: az})
	for _, r := range p.Routes(grant.Pages{Authorize: az}) {
		if !strings.HasPrefix(r.Pattern, "/tenant1/") && r.Pattern != "/.well-known/oauth-authorization-server/tenant1" {
			t.Errorf("route %s is outside the issuer's path", r.Pattern)
		}
	}

	wantURL := srv.URL + "/.well-known/oauth-authorization-server/tenant1"
	if p.MetadataURL() != wantURL {
		t.Errorf("MetadataURL() = %s, want %s", p.MetadataURL(), wantURL)
	}
	var md map[string]any
	if status := getJSON(t, wantURL, &md); status != http.StatusOK {
		t.Fatalf("metadata at %s: %d", wantURL, status)
	}
	if md["issuer"] != issuer {
		t.Errorf("issuer %v, want %s", md["issuer"], issuer)
	}
	for _, k := range []string{"authorization_endpoint", "token_endpoint", "revocation_endpoint", "introspection_endpoint", "jwks_uri"} {
		if s, _ := md[k].(string); !strings.HasPrefix(s, issuer+"/") {
			t.Errorf("%s = %v, want a URL under %s/", k, md[k], issuer)
		}
	}

	// The endpoints the document names answer.
	cc := clientcredentials.Config{ClientID: "svc", ClientSecret: secret, TokenURL: md["token_endpoint"].(string), Scopes: []string{"read"}, AuthStyle: oauth2.AuthStyleInHeader}
	tok, err := cc.Token(ctx)
	if err != nil {
		t.Fatalf("token at %s: %v", md["token_endpoint"], err)
	}
	introspect := func() bool {
		t.Helper()
		var ans map[string]any
		if status := postJSON(t, md["introspection_endpoint"].(string), "svc", secret, url.Values{"token": {tok.AccessToken}}, &ans); status != http.StatusOK {
			t.Fatalf("introspection: %d", status)
		}
		return ans["active"] == true
	}
	if !introspect() {
		t.Error("a fresh token is not active at the introspection endpoint")
	}
	var keys struct{ Keys []map[string]any }
	if status := getJSON(t, md["jwks_uri"].(string), &keys); status != http.StatusOK || len(keys.Keys) != 1 {
		t.Errorf("jwks_uri: %d, %d keys", status, len(keys.Keys))
	}
	if status := postJSON(t, md["revocation_endpoint"].(string), "svc", secret, url.Values{"token": {tok.AccessToken}}, nil); status != http.StatusOK {
		t.Errorf("revocation: %d", status)
	}
	if introspect() {
		t.Error("a revoked token is still active")
	}
	authz := md["authorization_endpoint"].(string) + "?" + url.Values{"client_id": {"svc"}, "response_type": {"code"},
		"redirect_uri": {"https://app.example/cb"}, "code_challenge": {strings.Repeat("a", 43)}, "code_challenge_method": {"S256"}}.Encode()
	res, err := http.Get(authz)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || !strings.Contains(string(body), `name="password"`) {
		t.Errorf("authorization endpoint: %d, want the login page", res.StatusCode)
	}
	// Nothing at the paths of an issuer without a path.
	for _, path := range []string{grant.MetadataPath, "/oauth/token", "/.well-known/jwks.json"} {
		if status := getJSON(t, srv.URL+path, nil); status != http.StatusNotFound {
			t.Errorf("GET %s: %d, want 404", path, status)
		}
	}
}

// TestEndpointsConfigErrors: paths that could not be mounted as they are,
// or that two endpoints share, are configuration errors.
func TestEndpointsConfigErrors(t *testing.T) {
	st := memory.New()
	for name, tc := range map[string]struct {
		iss string
		ep  grant.Endpoints
	}{
		"relative":          {"https://a.example", grant.Endpoints{Token: "oauth/token"}},
		"trailing slash":    {"https://a.example", grant.Endpoints{Token: "/oauth/token/"}},
		"empty segment":     {"https://a.example", grant.Endpoints{Token: "/oauth//token"}},
		"dot segment":       {"https://a.example", grant.Endpoints{Token: "/oauth/../token"}},
		"pattern wildcard":  {"https://a.example", grant.Endpoints{Token: "/oauth/{x}"}},
		"space":             {"https://a.example", grant.Endpoints{Token: "/oauth/to ken"}},
		"percent":           {"https://a.example", grant.Endpoints{Token: "/oauth/%74oken"}},
		"shared":            {"https://a.example", grant.Endpoints{Token: "/oauth/x", Revocation: "/oauth/x"}},
		"metadata path":     {"https://a.example", grant.Endpoints{JWKS: grant.MetadataPath}},
		"issuer path space": {"https://a.example/t%20x", grant.Endpoints{}},
		"issuer path empty": {"https://a.example//", grant.Endpoints{}},
	} {
		if _, err := grant.NewProvider(grant.Config{Issuer: tc.iss, Clients: st, Tokens: st, Endpoints: tc.ep}); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	p, err := grant.NewProvider(grant.Config{Issuer: "https://a.example/t/", Clients: st, Tokens: st})
	if err != nil {
		t.Fatal(err)
	}
	if p.MetadataURL() != "https://a.example/.well-known/oauth-authorization-server/t" || p.Endpoints().Token != "/t/oauth/token" {
		t.Errorf("issuer with a terminating /: %s, %s", p.MetadataURL(), p.Endpoints().Token)
	}
}

func getJSON(t *testing.T, u string, into any) int {
	t.Helper()
	res, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if into != nil && res.StatusCode == http.StatusOK {
		if err := json.NewDecoder(res.Body).Decode(into); err != nil {
			t.Fatalf("%s: %v", u, err)
		}
	}
	return res.StatusCode
}

func postJSON(t *testing.T, u, id, secret string, form url.Values, into any) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, u, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(id, secret)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if into != nil {
		if err := json.NewDecoder(res.Body).Decode(into); err != nil {
			t.Fatalf("%s: %v", u, err)
		}
	}
	return res.StatusCode
}
