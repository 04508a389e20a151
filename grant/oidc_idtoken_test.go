package grant_test

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/oauthkit/oauthkit/grant"
)

// TestOIDCServer is the Basic OP plan's oidcc-server: the code flow with a
// nonce, and go-oidc's Verifier (by discovery and the JWKS) on the ID token:
// signature (RS256 by default), iss, aud, exp; then the claims one by one.
func TestOIDCServer(t *testing.T) {
	e := newOIDCEnv(t, grant.AuthorizeOptions{})
	authURL, verifier := e.oidcURL(rpWeb, "openid", url.Values{"nonce": {"n-0S6_WzA2Mj"}})
	u := e.signIn(e.browser(), authURL)
	if q := u.Query(); q.Get("state") != "st" || q.Get("iss") != e.p.Issuer() {
		t.Fatalf("authorization response %s: want state and iss", u)
	}
	tok := e.exchange(rpWeb, u, verifier)
	if tok.IDToken == "" {
		t.Fatal("no id_token in the token response")
	}
	idt, err := e.verifier(rpWeb).Verify(t.Context(), tok.IDToken)
	if err != nil {
		t.Fatalf("go-oidc: %v", err)
	}
	if idt.Subject != "1" || idt.Nonce != "n-0S6_WzA2Mj" || idt.Issuer != e.p.Issuer() || !slices.Equal(idt.Audience, []string{rpWeb}) {
		t.Fatalf("ID token %+v", idt)
	}
	cl := claims(t, tok.IDToken)
	now := e.clk.Now().Unix()
	if cl["iat"] != float64(now) || cl["exp"] != float64(now+3600) || cl["auth_time"] != float64(now) {
		t.Errorf("iat %v exp %v auth_time %v; want %d, +3600, %d", cl["iat"], cl["exp"], cl["auth_time"], now, now)
	}
	if cl["aud"] != rpWeb {
		t.Errorf("aud %v: want the single string %q", cl["aud"], rpWeb)
	}
	if _, ok := cl["azp"]; ok {
		t.Error("azp present for a single audience that is the client")
	}
	if h := header(t, tok.IDToken); h["alg"] != "RS256" || h["typ"] != "JWT" || h["kid"] == "" {
		t.Errorf("header %v: want RS256, typ JWT and a kid", h)
	}
	if tok.RefreshToken != "" {
		t.Error("a refresh token without offline_access")
	}
}

// TestIDTokenSigningAlgPerClient is oidcc-idtoken-signature: RS256 unless the
// client registered id_token_signed_response_alg ES256 or EdDSA, each signed
// by a key the JWKS publishes, with its kid (go-oidc verifies).
func TestIDTokenSigningAlgPerClient(t *testing.T) {
	e := newOIDCEnv(t, grant.AuthorizeOptions{})
	for id, alg := range map[string]string{rpWeb: "RS256", rpES: "ES256", rpEd: "EdDSA"} {
		tok := e.flow(id, "openid", nil)
		if h := header(t, tok.IDToken); h["alg"] != alg {
			t.Errorf("%s: alg %v, want %s", id, h["alg"], alg)
		}
		if _, err := e.verifier(id, alg).Verify(t.Context(), tok.IDToken); err != nil {
			t.Errorf("%s: go-oidc: %v", id, err)
		}
		// A verifier that accepts RS256 only refuses the others.
		if _, err := e.verifier(id, "RS256").Verify(t.Context(), tok.IDToken); (err == nil) != (alg == "RS256") {
			t.Errorf("%s: RS256-only verifier: %v", id, err)
		}
	}
}

// TestIDTokenNonce: the nonce is echoed; a request without one succeeds
// (oidcc-ensure-request-without-nonce-succeeds-for-code-flow) and gets an ID
// token without nonce; an oversized one is refused at the redirect URI.
func TestIDTokenNonce(t *testing.T) {
	e := newOIDCEnv(t, grant.AuthorizeOptions{})
	if cl := claims(t, e.flow(rpWeb, "openid", nil).IDToken); cl["nonce"] != nil {
		t.Errorf("nonce %v without one asked", cl["nonce"])
	}
	authURL, _ := e.oidcURL(rpWeb, "openid", url.Values{"nonce": {strings.Repeat("n", 513)}})
	u := e.redirectTo(e.get(noRedirects(), authURL))
	if u.Query().Get("error") != "invalid_request" || u.Query().Get("state") != "st" {
		t.Errorf("oversized nonce: %s", u)
	}
}

// TestIDTokenOnlyForOpenIDRequests: a client whose registered scopes include
// openid gets no ID token for a request that did not name it, even when its
// default scopes (scope omitted) would include it.
func TestIDTokenOnlyForOpenIDRequests(t *testing.T) {
	e := newOIDCEnv(t, grant.AuthorizeOptions{})
	for _, scope := range []string{"read", ""} {
		tok := e.flow(rpWeb, scope, nil)
		if tok.IDToken != "" || strings.Contains(tok.Scope, "openid") {
			t.Errorf("scope %q: id_token %q, scope %q", scope, tok.IDToken, tok.Scope)
		}
	}
}

// TestOIDCScopeOrder is oidcc-ensure-other-scope-order-succeeds.
func TestOIDCScopeOrder(t *testing.T) {
	e := newOIDCEnv(t, grant.AuthorizeOptions{})
	if tok := e.flow(rpWeb, "email openid", nil); tok.IDToken == "" {
		t.Fatal("no ID token for scope=\"email openid\"")
	}
}

// TestOIDCCodeReuseRevokes is oidcc-codereuse and oidcc-codereuse-30seconds:
// a code redeemed twice (at once, or 30 s later) is refused, and the tokens
// it issued are revoked.
func TestOIDCCodeReuseRevokes(t *testing.T) {
	for _, wait := range []time.Duration{0, 30 * time.Second} {
		e := newOIDCEnv(t, grant.AuthorizeOptions{}, func(c *grant.Config) { c.CodeTTL = 5 * time.Minute })
		authURL, verifier := e.oidcURL(rpWeb, "openid profile", nil)
		u := e.signIn(e.browser(), authURL)
		tok := e.exchange(rpWeb, u, verifier)
		if p, _ := e.userinfo(http.MethodGet, tok.AccessToken); p.status != http.StatusOK {
			t.Fatalf("userinfo before the replay: %d", p.status)
		}
		e.clk.Advance(wait)
		status, again := e.token(rpWeb, url.Values{"grant_type": {"authorization_code"}, "code": {u.Query().Get("code")}, "redirect_uri": {rpRedirect}, "code_verifier": {verifier}})
		if status != http.StatusBadRequest || again.Error != "invalid_grant" || again.IDToken != "" {
			t.Errorf("after %v: second redemption %d %+v", wait, status, again)
		}
		if p, _ := e.userinfo(http.MethodGet, tok.AccessToken); p.status != http.StatusUnauthorized {
			t.Errorf("after %v: the first access token still works after the replay: %d", wait, p.status)
		}
	}
}

// TestOIDCClientAuthentication is oidcc-server with client_secret_basic and
// oidcc-server-client-secret-post: each client authenticates as it
// registered, and not otherwise.
func TestOIDCClientAuthentication(t *testing.T) {
	e := newOIDCEnv(t, grant.AuthorizeOptions{})
	for _, id := range []string{rpWeb, rpPost} {
		if tok := e.flow(id, "openid", nil); tok.IDToken == "" {
			t.Errorf("%s: no ID token", id)
		}
	}
	// rp-post's secret sent with Basic is refused (StrictAuthMethod).
	authURL, verifier := e.oidcURL(rpPost, "openid", nil)
	u := e.signIn(e.browser(), authURL)
	form := url.Values{"grant_type": {"authorization_code"}, "code": {u.Query().Get("code")}, "redirect_uri": {rpRedirect}, "code_verifier": {verifier}}
	req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/oauth/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(rpPost, e.secrets[rpPost])
	if p := e.do(http.DefaultClient, req); p.status != http.StatusUnauthorized {
		t.Errorf("client_secret_post client with Basic: %d %s", p.status, p.body)
	}
}

// TestOIDCRefresh is oidcc-refresh-token and Core §11, §12.2: a refresh
// token only with offline_access (consented on the consent page); its
// refresh answers a new ID token with the same iss, sub, aud and auth_time,
// a new iat, and no nonce; a retry within the grace gets the same one.
func TestOIDCRefresh(t *testing.T) {
	e := newOIDCEnv(t, grant.AuthorizeOptions{})
	tok := e.flow(rpWeb, "openid offline_access", url.Values{"nonce": {"abc"}, "prompt": {"consent"}})
	if tok.RefreshToken == "" || !strings.Contains(tok.Scope, "offline_access") {
		t.Fatalf("no refresh token with offline_access: %+v", tok)
	}
	first := claims(t, tok.IDToken)
	e.clk.Advance(time.Minute)
	refresh := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken}}
	status, fresh := e.token(rpWeb, refresh)
	if status != http.StatusOK || fresh.IDToken == "" {
		t.Fatalf("refresh: %d %+v", status, fresh)
	}
	if _, err := e.verifier(rpWeb).Verify(t.Context(), fresh.IDToken); err != nil {
		t.Fatalf("go-oidc on the refreshed ID token: %v", err)
	}
	second := claims(t, fresh.IDToken)
	for _, k := range []string{"iss", "sub", "aud", "auth_time"} {
		if second[k] != first[k] {
			t.Errorf("%s: %v after refresh, %v before", k, second[k], first[k])
		}
	}
	if second["iat"] != float64(e.clk.Now().Unix()) || second["nonce"] != nil {
		t.Errorf("refreshed ID token: iat %v (want now), nonce %v (want none)", second["iat"], second["nonce"])
	}
	// The same refresh retried within the grace: the same ID token.
	e.clk.Advance(time.Second)
	if status, retry := e.token(rpWeb, refresh); status != http.StatusOK || retry.IDToken != fresh.IDToken {
		t.Errorf("retry: %d, same ID token %v", status, retry.IDToken == fresh.IDToken)
	}
}

// TestOIDCOfflineAccessNeedsConsent (Core §11): offline_access shows the
// consent page even when consent is remembered, and without a page to show
// it (prompt=none) is dropped: no refresh token. A first-party client gets
// it without a page.
func TestOIDCOfflineAccessNeedsConsent(t *testing.T) {
	e := newOIDCEnv(t, grant.AuthorizeOptions{RememberedConsent: func(context.Context, grant.ConsentRequest) bool { return true }})
	c := e.browser()
	authURL, _ := e.oidcURL(rpWeb, "openid offline_access", nil)
	p := e.login(c, e.get(c, authURL))
	if p.status != http.StatusOK || !strings.Contains(p.body, `value="allow"`) || !strings.Contains(p.body, "offline_access") {
		t.Fatalf("offline_access with a remembered consent: %d, want the consent page: %.300s", p.status, p.body)
	}
	authURL, verifier := e.oidcURL(rpWeb, "openid offline_access", url.Values{"prompt": {"none"}})
	tok := e.exchange(rpWeb, e.redirectTo(e.get(c, authURL)), verifier)
	if tok.RefreshToken != "" || strings.Contains(tok.Scope, "offline_access") {
		t.Errorf("prompt=none kept offline_access: %+v", tok)
	}
	if tok := e.flow(rpFirst, "openid offline_access", nil); tok.RefreshToken == "" {
		t.Error("first-party client: no refresh token with offline_access")
	}
}
