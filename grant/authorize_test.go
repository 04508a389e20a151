package grant_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/oauthkit/oauthkit/grant"
)

// TestAuthorizationCodeFlow is the whole flow as a client library sees it:
// AuthCodeURL with PKCE S256, the login and consent forms, Exchange with the
// verifier, the protected API, then a refresh.
func TestAuthorizationCodeFlow(t *testing.T) {
	for _, id := range []string{azWeb, azSPA} {
		t.Run(id, func(t *testing.T) {
			e := newAZEnv(t, grant.AuthorizeOptions{})
			redirect := azWebRedirect
			if id == azSPA {
				redirect = "http://127.0.0.1:51234/callback" // RFC 8252: any loopback port
			}
			cfg := e.oauth2Config(id, redirect, "read")
			verifier := oauth2.GenerateVerifier()
			state := "xyz/ABC+123 é"
			got := e.authorize(cfg.AuthCodeURL(state, oauth2.S256ChallengeOption(verifier)), "allow")
			if base := got.Scheme + "://" + got.Host + got.Path; base != redirect {
				t.Fatalf("redirected to %s, want %s", base, redirect)
			}
			q := got.Query()
			if q.Get("state") != state || q.Get("iss") != e.p.Issuer() || !strings.HasPrefix(q.Get("code"), grant.PrefixCode) {
				t.Fatalf("authorization response %v: want state %q, iss %q and a code", q, state, e.p.Issuer())
			}
			ctx := context.Background()
			tok, err := cfg.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(verifier))
			if err != nil {
				t.Fatal(err)
			}
			if tok.RefreshToken == "" || tok.Extra("scope") != "read" {
				t.Fatalf("token %+v: want a refresh token and scope read", tok)
			}
			if s := e.apiData(tok.AccessToken); s != http.StatusOK {
				t.Fatalf("/api/data: %d", s)
			}
			tok.Expiry = time.Now().Add(-time.Minute)
			fresh, err := cfg.TokenSource(ctx, tok).Token()
			if err != nil {
				t.Fatal(err)
			}
			if fresh.AccessToken == tok.AccessToken || fresh.RefreshToken == tok.RefreshToken {
				t.Fatal("refresh did not rotate the tokens")
			}
			if s := e.apiData(fresh.AccessToken); s != http.StatusOK {
				t.Fatalf("/api/data after refresh: %d", s)
			}
		})
	}
}

// TestAuthorizeLookalikeRedirectURIs is audit rows 1 and 2: anything but the
// registered URI is refused with an error page, never a redirect.
func TestAuthorizeLookalikeRedirectURIs(t *testing.T) {
	e := newAZEnv(t, grant.AuthorizeOptions{})
	cases := map[string][]string{
		azWeb: {
			"https://client.example/cb/", "https://client.example/cb/extra", "https://client.example/c",
			"https://client.example/cbx", "https://client.example/CB", "https://Client.example/cb",
			"https://client.example.evil.com/cb", "https://evil.com/client.example/cb", "https://evilclient.example/cb",
			"http://client.example/cb", "HTTPS://client.example/cb", "https://client.example:443/cb", "https://client.example:8443/cb",
			"https://user@client.example/cb", "https://client.example@evil.com/cb", "https://client.example/cb?x=1",
			"https://client.example/cb#frag", "https://client.example/cb/../cb", "https://client.example/cb/%2e%2e/cb",
			"https://client.example/%63b", "https://client.example/cb%2F", "https://client.example//cb",
			"https://client.example/cb%00", " https://client.example/cb", "https://client.example/cb ",
			"//client.example/cb", "/cb", "javascript:alert(1)", "data:text/html,hi",
		},
		azSPA: {
			"http://127.0.0.1.evil.com/callback", "http://127.0.0.10/callback", "http://127.0.0.1:9/callback/",
			"http://127.0.0.1:9/Callback", "https://127.0.0.1:9/callback", "http://localhost:9/callback",
			"http://127.0.0.1:99999/callback", "http://127.0.0.1:9:10/callback", "http://127.0.0.1:x/callback",
			"http://127.0.0.1@evil.com/callback", "http://[::1]:9/callback", "http://127.0.0.1:9/callback?a=b",
			"http://127.0.0.1:9/%63allback", "http://127.0.0.1:9/x/../callback",
		},
		azMulti: {""}, // omitted, but two are registered
	}
	c := noRedirects()
	for id, uris := range cases {
		for _, uri := range uris {
			q := url.Values{"client_id": {id}, "response_type": {"code"}, "state": {"s"},
				"code_challenge": {strings.Repeat("a", 43)}, "code_challenge_method": {"S256"}}
			if uri != "" {
				q.Set("redirect_uri", uri)
			}
			p := e.get(c, e.srv.URL+"/oauth/authorize?"+q.Encode())
			if p.status != http.StatusBadRequest || p.header.Get("Location") != "" {
				t.Errorf("%s %q: status %d, Location %q; want 400 and no redirect", id, uri, p.status, p.header.Get("Location"))
			}
			if !strings.Contains(p.header.Get("Content-Type"), "text/html") || !strings.Contains(p.body, "redirect_uri") {
				t.Errorf("%s %q: want an HTML error page naming redirect_uri, got %.200s", id, uri, p.body)
			}
		}
	}
}

// TestAuthorizeNoRedirectForBadClient: unknown, missing or duplicated
// client_id, and duplicated redirect_uri, give a page, not a redirect.
func TestAuthorizeNoRedirectForBadClient(t *testing.T) {
	e := newAZEnv(t, grant.AuthorizeOptions{})
	c := noRedirects()
	for name, raw := range map[string]string{
		"unknown":       "client_id=nobody&response_type=code&redirect_uri=" + url.QueryEscape(azWebRedirect),
		"missing":       "response_type=code&redirect_uri=" + url.QueryEscape(azWebRedirect),
		"two ids":       "client_id=web&client_id=spa&response_type=code&redirect_uri=" + url.QueryEscape(azWebRedirect),
		"two redirects": "client_id=web&response_type=code&redirect_uri=" + url.QueryEscape(azWebRedirect) + "&redirect_uri=https://evil.com/",
		"bad query":     "client_id=web&redirect_uri=%zz",
	} {
		p := e.get(c, e.srv.URL+"/oauth/authorize?"+raw)
		if p.status != http.StatusBadRequest || p.header.Get("Location") != "" {
			t.Errorf("%s: status %d, Location %q; want 400, no redirect", name, p.status, p.header.Get("Location"))
		}
	}
}

// TestAuthorizeErrorsRedirected: once client and redirect URI are good,
// errors go back to the client with state and iss.
func TestAuthorizeErrorsRedirected(t *testing.T) {
	e := newAZEnv(t, grant.AuthorizeOptions{})
	ch := "&code_challenge=" + strings.Repeat("A", 43) + "&code_challenge_method=S256"
	base := "redirect_uri=" + url.QueryEscape(azWebRedirect) + "&state=s%201"
	c := noRedirects()
	for name, tc := range map[string]struct{ query, code string }{
		"token response type":   {"client_id=web&response_type=token&" + base + ch, "unsupported_response_type"},
		"no response type":      {"client_id=web&" + base + ch, "invalid_request"},
		"no PKCE, public":       {"client_id=first&response_type=code&" + base, "invalid_request"},
		"no PKCE, confidential": {"client_id=web&response_type=code&" + base, "invalid_request"},
		"plain PKCE":            {"client_id=web&response_type=code&" + base + "&code_challenge=" + strings.Repeat("A", 43) + "&code_challenge_method=plain", "invalid_request"},
		"PKCE without method":   {"client_id=web&response_type=code&" + base + "&code_challenge=" + strings.Repeat("A", 43), "invalid_request"},
		"short challenge":       {"client_id=web&response_type=code&" + base + "&code_challenge=abc&code_challenge_method=S256", "invalid_request"},
		"scope not allowed":     {"client_id=web&response_type=code&scope=admin&" + base + ch, "invalid_scope"},
		"grant not registered":  {"client_id=noac&response_type=code&" + base + ch, "unauthorized_client"},
		"duplicate state":       {"client_id=web&response_type=code&" + base + "&state=t" + ch, "invalid_request"},
	} {
		p := e.get(c, e.srv.URL+"/oauth/authorize?"+tc.query)
		u := e.redirectTo(p)
		q := u.Query()
		if !strings.HasPrefix(u.String(), azWebRedirect+"?") || q.Get("error") != tc.code || q.Get("iss") != e.p.Issuer() {
			t.Errorf("%s: redirected to %s, want %s with error=%s and iss", name, u, azWebRedirect, tc.code)
		}
		if name != "duplicate state" && q.Get("state") != "s 1" {
			t.Errorf("%s: state %q, want %q", name, q.Get("state"), "s 1")
		}
	}
}

// TestAuthorizeDeny: the user's refusal is access_denied, with state and iss.
func TestAuthorizeDeny(t *testing.T) {
	e := newAZEnv(t, grant.AuthorizeOptions{})
	cfg := e.oauth2Config(azWeb, azWebRedirect)
	u := e.authorize(cfg.AuthCodeURL("st8", oauth2.S256ChallengeOption(oauth2.GenerateVerifier())), "deny")
	q := u.Query()
	if q.Get("error") != "access_denied" || q.Get("state") != "st8" || q.Get("iss") != e.p.Issuer() || q.Has("code") {
		t.Fatalf("deny: %s", u)
	}
}

// TestCodeReplayRevokes is audit row 5: a code works once; a second
// redemption fails and revokes what the first one issued.
func TestCodeReplayRevokes(t *testing.T) {
	e := newAZEnv(t, grant.AuthorizeOptions{})
	cfg := e.oauth2Config(azWeb, azWebRedirect, "read")
	code, verifier := e.code(cfg)
	ctx := context.Background()
	tok, err := cfg.Exchange(ctx, code, oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatal(err)
	}
	_, err = cfg.Exchange(ctx, code, oauth2.VerifierOption(verifier))
	if re, ok := err.(*oauth2.RetrieveError); !ok || re.ErrorCode != "invalid_grant" || re.Response.StatusCode != http.StatusBadRequest {
		t.Fatalf("replay: %v, want 400 invalid_grant", err)
	}
	if _, err := e.p.ValidateToken(ctx, tok.AccessToken); err == nil {
		t.Fatal("the access token from the first exchange still validates")
	}
	if s := e.apiData(tok.AccessToken); s != http.StatusUnauthorized {
		t.Fatalf("/api/data with a revoked token: %d", s)
	}
	if s, ec := e.tokenRequest(azWeb, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken}}); s != http.StatusBadRequest || ec != "invalid_grant" {
		t.Fatalf("refresh with the revoked grant: %d %s", s, ec)
	}
}

// TestCodeConcurrentRedemption: 20 racing redemptions, exactly one success.
func TestCodeConcurrentRedemption(t *testing.T) {
	e := newAZEnv(t, grant.AuthorizeOptions{})
	cfg := e.oauth2Config(azWeb, azWebRedirect)
	code, verifier := e.code(cfg)
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		statuses = map[int]int{}
	)
	start := make(chan struct{})
	for range 20 {
		wg.Go(func() {
			<-start
			s, _ := e.tokenRequest(azWeb, url.Values{"grant_type": {"authorization_code"}, "code": {code},
				"redirect_uri": {azWebRedirect}, "code_verifier": {verifier}})
			mu.Lock()
			statuses[s]++
			mu.Unlock()
		})
	}
	close(start)
	wg.Wait()
	// One redemption wins the code; the others are replays, which revoke
	// the grant. A replay that lands before the winner has stored its
	// tokens leaves it with nothing either (TestCodeReplayBeforeIssue):
	// at most one 200, never a 500.
	if statuses[http.StatusOK] > 1 || statuses[http.StatusOK]+statuses[http.StatusBadRequest] != 20 {
		t.Fatalf("statuses %v, want at most one 200 and the rest 400", statuses)
	}
}

// TestCodeVerifier is audit row 9: a missing or wrong verifier is a clean
// invalid_grant, never a 500.
func TestCodeVerifier(t *testing.T) {
	e := newAZEnv(t, grant.AuthorizeOptions{})
	cfg := e.oauth2Config(azWeb, azWebRedirect)
	for name, v := range map[string]func(string) string{
		"missing":   func(string) string { return "" },
		"wrong":     func(string) string { return oauth2.GenerateVerifier() },
		"short":     func(string) string { return "abc" },
		"plain":     func(string) string { return "challenge-as-verifier" },
		"bad chars": func(v string) string { return v[:42] + "!" },
	} {
		code, verifier := e.code(cfg)
		form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {azWebRedirect}}
		if vv := v(verifier); vv != "" {
			form.Set("code_verifier", vv)
		}
		if s, ec := e.tokenRequest(azWeb, form); s != http.StatusBadRequest || ec != "invalid_grant" {
			t.Errorf("%s verifier: %d %q, want 400 invalid_grant", name, s, ec)
		}
	}
}

// TestRedirectURIAtTokenEndpoint is audit row 16 (RFC 6749 §4.1.3).
func TestRedirectURIAtTokenEndpoint(t *testing.T) {
	e := newAZEnv(t, grant.AuthorizeOptions{})
	ctx := context.Background()

	// Subtests would share e's *testing.T, so each case is a block.
	{ // omitted at both
		cfg := e.oauth2Config(azWeb, "", "read")
		code, verifier := e.code(cfg)
		tok, err := cfg.Exchange(ctx, code, oauth2.VerifierOption(verifier))
		if err != nil {
			t.Fatal(err)
		}
		if s := e.apiData(tok.AccessToken); s != http.StatusOK {
			t.Fatalf("/api/data: %d", s)
		}
	}
	{ // sent at authorize, omitted at token
		code, verifier := e.code(e.oauth2Config(azWeb, azWebRedirect))
		s, ec := e.tokenRequest(azWeb, url.Values{"grant_type": {"authorization_code"}, "code": {code}, "code_verifier": {verifier}})
		if s != http.StatusBadRequest || ec != "invalid_grant" && ec != "invalid_request" {
			t.Fatalf("%d %q, want 400 invalid_grant", s, ec)
		}
	}
	{ // omitted at authorize, sent at token
		code, verifier := e.code(e.oauth2Config(azWeb, ""))
		s, ec := e.tokenRequest(azWeb, url.Values{"grant_type": {"authorization_code"}, "code": {code}, "code_verifier": {verifier}, "redirect_uri": {azWebRedirect}})
		if s != http.StatusBadRequest || ec != "invalid_grant" {
			t.Fatalf("%d %q, want 400 invalid_grant", s, ec)
		}
	}
	{ // another loopback port at token
		code, verifier := e.code(e.oauth2Config(azSPA, "http://127.0.0.1:4000/callback"))
		s, ec := e.tokenRequest(azSPA, url.Values{"grant_type": {"authorization_code"}, "code": {code}, "code_verifier": {verifier}, "redirect_uri": {"http://127.0.0.1:4001/callback"}})
		if s != http.StatusBadRequest || ec != "invalid_grant" {
			t.Fatalf("%d %q, want 400 invalid_grant", s, ec)
		}
	}
}

// TestCodeBoundToClient: another client cannot redeem the code.
func TestCodeBoundToClient(t *testing.T) {
	e := newAZEnv(t, grant.AuthorizeOptions{})
	code, verifier := e.code(e.oauth2Config(azFirst, azWebRedirect))
	s, ec := e.tokenRequest(azMulti, url.Values{"grant_type": {"authorization_code"}, "code": {code}, "code_verifier": {verifier}, "redirect_uri": {azWebRedirect}})
	if s != http.StatusBadRequest || ec != "invalid_grant" {
		t.Fatalf("%d %q, want 400 invalid_grant", s, ec)
	}
}

// TestAuthorizeLoopbackAnyPortPublicOnly: the RFC 8252 §7.3 exception
// (any port for a loopback redirect URI) is for native and browser apps,
// which are public clients; a confidential client's loopback URI matches
// exactly, port included.
func TestAuthorizeLoopbackAnyPortPublicOnly(t *testing.T) {
	e := newAZEnv(t, grant.AuthorizeOptions{})
	c := noRedirects()
	for _, tc := range []struct {
		client, uri string
		ok          bool
	}{
		{azSPA, "http://127.0.0.1:10/callback", true},
		{azSPA, "http://127.0.0.1/callback", true},
		{azLoop, azSPARedirect, true},
		{azLoop, "http://127.0.0.1:10/callback", false},
		{azLoop, "http://127.0.0.1/callback", false},
	} {
		q := url.Values{"client_id": {tc.client}, "response_type": {"code"}, "state": {"s"}, "redirect_uri": {tc.uri},
			"code_challenge": {strings.Repeat("a", 43)}, "code_challenge_method": {"S256"}}
		p := e.get(c, e.srv.URL+"/oauth/authorize?"+q.Encode())
		login := p.status == http.StatusOK && strings.Contains(p.body, `name="password"`)
		refused := p.status == http.StatusBadRequest && p.header.Get("Location") == "" && strings.Contains(p.body, "redirect_uri")
		if tc.ok && !login || !tc.ok && !refused {
			t.Errorf("%s %s: status %d, Location %q; want ok=%v", tc.client, tc.uri, p.status, p.header.Get("Location"), tc.ok)
		}
	}
}
