package grant

import (
	"context"
	"net/url"
	"testing"

	"github.com/oauthkit/oauthkit/store"
)

// TestLoginRequiresJSON: /login takes application/json only. A form or
// text/plain body (or one without a Content-Type) is what any web page can
// make a visitor's browser send without a CORS preflight: accepted, it would
// let every visitor guess passwords for the page (a CSRF login oracle).
// Refused bodies are not read, so they check no password and count no
// failure.
func TestLoginRequiresJSON(t *testing.T) {
	f := newFixture(t, func(c *Config) { c.ClientAddr = testAddr })
	good := `{"username": "user1", "password": "password1"}`
	bad := `{"username": "user1", "password": "guess"}`
	for _, ct := range []string{
		"", "text/plain", "text/plain; charset=utf-8", "application/x-www-form-urlencoded",
		"multipart/form-data; boundary=x", "application/jsonp", "text/json", "application/json-patch+json", ";",
	} {
		for range pairAttempts.Burst + 2 {
			r := f.login(bad, ct, "10.1.0.1")
			wantError(t, r, 415, CodeInvalidRequest)
		}
		if r := f.login(good, ct, "10.1.0.2"); r.status != 415 {
			t.Fatalf("content type %q: %d %s", ct, r.status, r.raw)
		}
	}
	// None of the refused guesses counted: the right password from the same
	// address gets its token at once.
	for _, ct := range []string{"application/json", "application/json; charset=utf-8", "Application/JSON"} {
		if r := f.login(good, ct, "10.1.0.1"); r.status != 200 || r.str("access_token") == "" {
			t.Fatalf("content type %q: %d %s", ct, r.status, r.raw)
		}
	}
}

// TestLoginClientWithoutPasswordGrant: LoginHandler needs no password grant,
// neither in Config.GrantTypes nor in its client's registration; a login
// client registered without it is refused the password grant at the token
// endpoint (where form bodies, which any web page can send, are the rule),
// and still refreshes the tokens /login gave it.
func TestLoginClientWithoutPasswordGrant(t *testing.T) {
	const login = "web-login"
	register := func(c *Config) {
		err := c.Clients.(store.ClientRegistry).CreateClient(context.Background(), &store.Client{
			ID: login, AuthMethod: store.AuthNone, FirstParty: true,
			GrantTypes: []string{store.GrantRefreshToken}, Scopes: []string{"read", "write"},
		})
		if err != nil {
			t.Fatal(err)
		}
		c.LoginClientID = login
	}
	for name, grants := range map[string][]string{
		"password grant served": {store.GrantClientCredentials, store.GrantPassword, store.GrantRefreshToken},
		"default grants":        nil,
	} {
		t.Run(name, func(t *testing.T) {
			f := newFixture(t, register, func(c *Config) { c.GrantTypes = grants })
			r := f.login(`{"username": "user1", "password": "password1"}`, "application/json", "")
			if r.status != 200 || r.str("scope") != "read write" || r.str("refresh_token") == "" {
				t.Fatalf("/login: %d %s", r.status, r.raw)
			}
			if s := f.api(r.str("access_token")); s != 200 {
				t.Fatalf("/api/data with the login token: %d", s)
			}
			form := url.Values{"grant_type": {"password"}, "client_id": {login}, "username": {"user1"}, "password": {"password1"}}
			want := CodeUnauthorizedClient
			if grants == nil {
				want = CodeUnsupportedGrantType
			}
			wantError(t, f.post("/oauth/token", form, "", ""), 400, want)
			rt := url.Values{"grant_type": {"refresh_token"}, "client_id": {login}, "refresh_token": {r.str("refresh_token")}}
			if r := f.post("/oauth/token", rt, "", ""); r.status != 200 || r.str("access_token") == "" {
				t.Fatalf("refresh of the login token: %d %s", r.status, r.raw)
			}
		})
	}
}
