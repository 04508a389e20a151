package main

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/oauthkit/oauthkit/store"
)

// TestBrowserSingleSignOn is single sign-on in real headless Chromium: the
// user signs in to one application (login and consent pages), a second
// application then gets a code without any page, and one logout
// (RP-Initiated, from the first) ends the session for both: prompt=none is
// then login_required for each.
func TestBrowserSingleSignOn(t *testing.T) {
	chromium := chromiumPath(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	const secret = "sso-web-secret-of-at-least-32-characters"
	clients := []*store.Client{
		{ID: "sso-web", Name: "Mail", AuthMethod: store.AuthSecretBasic, SecretHash: store.HashSecret(secret),
			RedirectURIs: []string{base + "/callback"}, PostLogoutRedirectURIs: []string{base + "/bye"},
			GrantTypes: []string{store.GrantAuthorizationCode}, Scopes: []string{"openid", "profile"}},
		{ID: "sso-spa", Name: "Calendar", AuthMethod: store.AuthNone, FirstParty: true,
			RedirectURIs: []string{base + "/callback"}, PostLogoutRedirectURIs: []string{base + "/bye"},
			GrantTypes: []string{store.GrantAuthorizationCode}, Scopes: []string{"openid"}},
	}
	a, err := newApp(context.Background(), options{Issuer: base, Clients: clients, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/", a.handler)
	back := func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		io.WriteString(w, `<!doctype html><html lang="en"><title>back</title><p id="back">back at the application</p></html>`)
	}
	mux.HandleFunc("GET /callback", back)
	mux.HandleFunc("GET /bye", back)
	srv := httptest.NewUnstartedServer(mux)
	srv.Listener.Close()
	srv.Listener = ln
	srv.Start()
	t.Cleanup(srv.Close)

	ctx := context.Background()
	provider, err := oidc.NewProvider(ctx, base)
	if err != nil {
		t.Fatal(err)
	}
	config := func(id, secret string) *oauth2.Config {
		ep := provider.Endpoint()
		ep.AuthStyle = oauth2.AuthStyleInHeader
		if secret == "" {
			ep.AuthStyle = oauth2.AuthStyleInParams
		}
		return &oauth2.Config{ClientID: id, ClientSecret: secret, RedirectURL: base + "/callback", Endpoint: ep, Scopes: []string{"openid"}}
	}
	web, spa := config("sso-web", secret), config("sso-spa", "")

	browser := newBrowser(t, chromium)
	// goTo navigates and waits for the application's page (or the login
	// page, when login is set), returning where the browser ended.
	goTo := func(u string, login bool) *url.URL {
		t.Helper()
		wait := chromedp.WaitVisible(chromedp.ID("back"))
		if login {
			wait = chromedp.WaitVisible(chromedp.CSS(`input[name="username"]`))
		}
		if err := chromedp.Do(browser, chromedp.Navigate(u), wait); err != nil {
			t.Fatalf("navigating to %s: %v", u, err)
		}
		loc, err := chromedp.Run(browser, chromedp.Location())
		if err != nil {
			t.Fatal(err)
		}
		parsed, _ := url.Parse(loc)
		return parsed
	}
	// exchange redeems the code the browser came back with, and checks the
	// ID token with go-oidc.
	exchange := func(cfg *oauth2.Config, at *url.URL, pkce, nonce string) string {
		t.Helper()
		tok, err := cfg.Exchange(ctx, at.Query().Get("code"), oauth2.VerifierOption(pkce))
		if err != nil {
			t.Fatalf("%s: exchange: %v", cfg.ClientID, err)
		}
		raw, _ := tok.Extra("id_token").(string)
		idt, err := provider.Verifier(&oidc.Config{ClientID: cfg.ClientID}).Verify(ctx, raw)
		if err != nil || idt.Nonce != nonce || idt.Subject != "1" {
			t.Fatalf("%s: ID token %+v, %v", cfg.ClientID, idt, err)
		}
		return raw
	}

	// 1. Sign in to the web app: login page, consent page.
	pkce, nonce := oauth2.GenerateVerifier(), oauth2.GenerateVerifier()
	goTo(web.AuthCodeURL("web", oidc.Nonce(nonce), oauth2.S256ChallengeOption(pkce)), true)
	err = chromedp.Do(browser,
		chromedp.SendKeys(chromedp.CSS(`input[name="username"]`), "user1"),
		chromedp.SendKeys(chromedp.CSS(`input[name="password"]`), "password1"),
		chromedp.Click(chromedp.CSS(`button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`button[name="consent"][value="allow"]`)),
		chromedp.Click(chromedp.CSS(`button[name="consent"][value="allow"]`)),
		chromedp.WaitVisible(chromedp.ID("back")),
	)
	if err != nil {
		t.Fatalf("signing in: %v", err)
	}
	loc, err := chromedp.Run(browser, chromedp.Location())
	if err != nil {
		t.Fatal(err)
	}
	at, _ := url.Parse(loc)
	if at.Query().Get("state") != "web" {
		t.Fatalf("back at %s", at)
	}
	webIDToken := exchange(web, at, pkce, nonce)

	// 2. The second application: a code at once, no page.
	pkce, nonce = oauth2.GenerateVerifier(), oauth2.GenerateVerifier()
	at = goTo(spa.AuthCodeURL("spa", oidc.Nonce(nonce), oauth2.S256ChallengeOption(pkce)), false)
	if at.Path != "/callback" || at.Query().Get("state") != "spa" || at.Query().Get("code") == "" {
		t.Fatalf("single sign-on: the second application ended at %s", at)
	}
	exchange(spa, at, pkce, nonce)

	// 3. Logout from the web app.
	q := url.Values{"id_token_hint": {webIDToken}, "post_logout_redirect_uri": {base + "/bye"}, "state": {"out"}}
	if at = goTo(base+"/oauth/logout?"+q.Encode(), false); at.Path != "/bye" || at.Query().Get("state") != "out" {
		t.Fatalf("logout ended at %s", at)
	}

	// 4. Both applications: login_required without a page.
	for _, cfg := range []*oauth2.Config{web, spa} {
		at = goTo(cfg.AuthCodeURL("after", oauth2.S256ChallengeOption(oauth2.GenerateVerifier()), oauth2.SetAuthURLParam("prompt", "none")), false)
		if at.Query().Get("error") != "login_required" {
			t.Errorf("%s after logout: %s, want login_required", cfg.ClientID, at)
		}
	}
	// And without prompt=none, the login page again.
	if at = goTo(spa.AuthCodeURL("again", oauth2.S256ChallengeOption(oauth2.GenerateVerifier())), true); !strings.HasSuffix(at.Path, "/oauth/authorize") {
		t.Errorf("after logout: %s, want the login page", at)
	}
}
