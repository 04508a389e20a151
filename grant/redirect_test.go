package grant

import (
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/oauthkit/oauthkit/internal/cors"
	"github.com/oauthkit/oauthkit/internal/loopback"
	"github.com/oauthkit/oauthkit/store"
)

func TestMatchRedirectURI(t *testing.T) {
	web := []string{"https://client.example/cb"}
	loop := []string{"http://127.0.0.1:8080/callback", "http://[::1]/cb"}
	for _, tc := range []struct {
		reg        []string
		sent, want string
		ok         bool
	}{
		{[]string{"http://127.3.2.1:8080/cb"}, "http://127.3.2.1:9/cb", "http://127.3.2.1:9/cb", true},
		{[]string{"http://[0:0:0:0:0:0:0:1]:8080/cb"}, "http://[0:0:0:0:0:0:0:1]/cb", "http://[0:0:0:0:0:0:0:1]/cb", true},
		{[]string{"http://[0:0:0:0:0:0:0:1]:8080/cb"}, "http://[::1]:8080/cb", "", false},
		{[]string{"http://127.attacker.example:8080/cb"}, "http://127.attacker.example:9/cb", "", false},
		{[]string{"http://localhost:8080/cb"}, "http://localhost:9/cb", "", false},
		{[]string{"http://[::ffff:127.0.0.1]:8080/cb"}, "http://[::ffff:127.0.0.1]:9/cb", "", false},
		{[]string{"http://127.0.0.1:8080/cb"}, "http://127.0.0.1:8080#/cb", "", false},
		{web, "https://client.example/cb", "https://client.example/cb", true},
		{web, "", "https://client.example/cb", true},
		{append(web, "https://client.example/two"), "", "", false},
		{nil, "", "", false},
		{web, "https://client.example/cb/", "", false},
		{web, "https://client.example:443/cb", "", false},
		{web, "https://client.example/%63b", "", false},
		{loop, "http://127.0.0.1:51234/callback", "http://127.0.0.1:51234/callback", true},
		{loop, "http://127.0.0.1/callback", "http://127.0.0.1/callback", true},
		{loop, "http://[::1]:9999/cb", "http://[::1]:9999/cb", true},
		{loop, "http://127.0.0.1:8080/cb", "", false},
		{loop, "http://127.0.0.1:65536/callback", "", false},
		{loop, "http://127.0.0.1:/callback", "", false},
		{loop, "http://127.0.0.1:123456/callback", "", false},
		{loop, "http://127.0.0.1:8080.evil/callback", "", false},
		{loop, "http://localhost:8080/callback", "", false},
		{loop, "https://127.0.0.1:8080/callback", "", false},
		{[]string{"http://127.0.0.1.evil/x"}, "http://127.0.0.1.evil:1/x", "", false},
	} {
		got, ok := matchRedirectURI(tc.reg, tc.sent, true)
		if got != tc.want || ok != tc.ok {
			t.Errorf("matchRedirectURI(%q, %q, true) = %q, %v; want %q, %v", tc.reg, tc.sent, got, ok, tc.want, tc.ok)
		}
		// Without the loopback exception (confidential clients) only the
		// registered URI itself matches.
		exact := tc.ok && (tc.sent == "" || slices.Contains(tc.reg, tc.sent))
		if _, ok := matchRedirectURI(tc.reg, tc.sent, false); ok != exact {
			t.Errorf("matchRedirectURI(%q, %q, false) = %v, want %v", tc.reg, tc.sent, ok, exact)
		}
	}
}

func TestClientHasOrigin(t *testing.T) {
	uris := []string{"https://app.example/cb", "http://127.0.0.1:8080/callback", "com.example.app:/cb", "https://port.example:443/cb"}
	public := &store.Client{AuthMethod: store.AuthNone, RedirectURIs: uris}
	confidential := &store.Client{AuthMethod: store.AuthSecretBasic, RedirectURIs: uris}
	for origin, want := range map[string][2]bool{ // public, confidential
		"https://app.example": {true, true}, "http://127.0.0.1:8080": {true, true}, "https://port.example": {true, true},
		"http://127.0.0.1:3000": {true, false}, "http://127.0.0.1": {true, false},
		"https://app.example:8443": {false, false}, "http://app.example": {false, false}, "https://evil.example": {false, false},
		"http://127.0.0.1.evil.com": {false, false}, "http://localhost:8080": {false, false}, "http://[::1]:8080": {false, false},
	} {
		o, ok := cors.ParseOrigin(origin)
		if !ok {
			t.Fatalf("ParseOrigin(%q)", origin)
		}
		for i, c := range []*store.Client{public, confidential} {
			if got := clientHasOrigin(c, o); got != want[i] {
				t.Errorf("clientHasOrigin(%s client, %q) = %v, want %v", c.AuthMethod, origin, got, want[i])
			}
		}
	}
}

// FuzzMatchRedirectURI checks that whatever matches is the registered URI
// byte for byte, or differs from a loopback one in the port alone.
func FuzzMatchRedirectURI(f *testing.F) {
	for _, s := range [][2]string{
		{"https://client.example/cb", "https://client.example/cb"},
		{"http://127.0.0.1:8080/callback", "http://127.0.0.1:1/callback"},
		{"http://[::1]/cb", "http://[::1]:65535/cb"},
		{"http://127.0.0.1/cb?x=1", "http://127.0.0.1:80/cb?x=1"},
		{"https://client.example/cb", "https://client.example/cb/%2e%2e"},
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, reg, sent string) {
		if _, ok := matchRedirectURI([]string{reg}, sent, false); ok && sent != reg && sent != "" {
			t.Fatalf("without the loopback exception %q matched registered %q", sent, reg)
		}
		got, ok := matchRedirectURI([]string{reg}, sent, true)
		if !ok {
			return
		}
		if sent == "" {
			if got != reg {
				t.Fatalf("omitted redirect_uri gave %q, registered %q", got, reg)
			}
			return
		}
		if got != sent {
			t.Fatalf("matched %q but returned %q", sent, got)
		}
		if sent == reg {
			return
		}
		ru, err1 := url.Parse(reg)
		su, err2 := url.Parse(sent)
		if err1 != nil || err2 != nil {
			t.Fatalf("loopback match of unparsable URIs %q, %q", reg, sent)
		}
		if su.Scheme != "http" || su.Hostname() != ru.Hostname() || su.User != nil ||
			su.EscapedPath() != ru.EscapedPath() || su.RawQuery != ru.RawQuery || su.Fragment != ru.Fragment ||
			!loopback.Host(su.Hostname()) {
			t.Fatalf("%q matched registered %q", sent, reg)
		}
	})
}

// FuzzAuthorizeRequest feeds arbitrary query strings to the authorization
// request parser: it must never panic, never allow a redirect to a URI the
// client did not register, and never accept a request without S256 PKCE.
func FuzzAuthorizeRequest(f *testing.F) {
	f.Add("client_id=spa&response_type=code&redirect_uri=http%3A%2F%2F127.0.0.1%3A5%2Fcb&code_challenge=" + strings.Repeat("a", 43) + "&code_challenge_method=S256&state=x&scope=read")
	f.Add("client_id=spa&response_type=code&code_challenge=abc&code_challenge_method=plain")
	f.Add("client_id=spa&client_id=spa&redirect_uri=https://evil.example/")
	f.Add("client_id=spa&redirect_uri=http://127.0.0.1:5/cb&redirect_uri=http://127.0.0.1:5/cb")
	f.Add("%zz=1&client_id=spa")
	c := &store.Client{ID: "spa", AuthMethod: store.AuthNone, RedirectURIs: []string{"http://127.0.0.1:8080/cb", "https://app.example/cb"},
		GrantTypes: []string{store.GrantAuthorizationCode}, Scopes: []string{"read", "write"}}
	f.Fuzz(func(t *testing.T, raw string) {
		q, unique, err := parseAuthorizeQuery(raw)
		if err != nil {
			return
		}
		var client *store.Client
		if q.Get("client_id") == c.ID {
			client = c
		}
		req, page, redirect := validateAuthorize(q, unique, client, true)
		if page != nil {
			if req != nil {
				t.Fatal("a page error came with a request to redirect")
			}
			return
		}
		if req == nil || req.client != c {
			t.Fatalf("no page error, but request %+v", req)
		}
		if _, ok := matchRedirectURI(c.RedirectURIs, req.redirectURI, true); !ok {
			t.Fatalf("would redirect to unregistered %q", req.redirectURI)
		}
		if redirect == nil && !isS256Challenge(req.challenge) {
			t.Fatalf("accepted a public client's request without S256 PKCE: %q", raw)
		}
	})
}
