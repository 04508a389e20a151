package main

import (
	"context"
	"encoding/json"
	"html/template"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/oauthkit/oauthkit/grant"
	"github.com/oauthkit/oauthkit/store"
)

// corsPage is a single-page app on its own origin. With fetch() it reads
// the authorization server's metadata, follows it to the JWKS, gets a
// client_credentials token with HTTP Basic (an Authorization header: a
// preflighted request) and revokes it (preflighted too); then it tries the
// token endpoint as a client whose redirect URIs are on another origin,
// which the browser must refuse to let it read. It reports what it read as
// JSON in #out.
var corsPage = template.Must(template.New("page").Parse(`<!doctype html>
<html lang="en"><title>cross-origin app</title>
<pre id="out"></pre>
<script>
(async () => {
  const out = {};
  const form = {"Content-Type": "application/x-www-form-urlencoded"};
  const basic = (id, secret) => ({...form, "Authorization": "Basic " + btoa(id + ":" + secret)});
  try {
    let r = await fetch({{.Metadata}});
    const md = await r.json();
    out.metadata = {status: r.status, issuer: md.issuer, token_endpoint: md.token_endpoint,
      revocation_endpoint: md.revocation_endpoint, jwks_uri: md.jwks_uri};

    r = await fetch(md.jwks_uri);
    const jwks = await r.json();
    out.jwks = {status: r.status, kids: jwks.keys.map(k => k.kid), alg: jwks.keys[0].alg};

    r = await fetch(md.token_endpoint, {method: "POST", headers: basic({{.ID}}, {{.Secret}}),
      body: "grant_type=client_credentials&scope=read"});
    const tok = await r.json();
    out.token = {status: r.status, token_type: tok.token_type, expires_in: tok.expires_in, scope: tok.scope,
      access_token: tok.access_token, cache_control: r.headers.get("Cache-Control")};

    r = await fetch(md.revocation_endpoint, {method: "POST", headers: basic({{.ID}}, {{.Secret}}),
      body: "token=" + encodeURIComponent(tok.access_token)});
    out.revoke = {status: r.status, body: await r.text()};

    try {
      r = await fetch(md.token_endpoint, {method: "POST", headers: basic({{.OtherID}}, {{.OtherSecret}}),
        body: "grant_type=client_credentials"});
      out.other = "read: " + r.status;
    } catch (e) {
      out.other = "blocked";
    }
  } catch (e) {
    out.error = String(e);
  }
  document.getElementById("out").textContent = JSON.stringify(out);
  document.body.dataset.done = "1";
})();
</script>
</html>`))

// TestBrowserCrossOriginFetch runs corsPage in headless Chromium, served on
// another loopback origin (another port) than the example app: the
// metadata and the JWKS are readable from any origin, the token and
// revocation endpoints from the calling client's registered origins only,
// preflights included.
func TestBrowserCrossOriginFetch(t *testing.T) {
	chromium := chromiumPath(t)
	asLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	pageLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	issuer, pageOrigin := "http://"+asLn.Addr().String(), "http://"+pageLn.Addr().String()

	secret, hash, err := grant.NewClientSecret()
	if err != nil {
		t.Fatal(err)
	}
	otherSecret, otherHash, err := grant.NewClientSecret()
	if err != nil {
		t.Fatal(err)
	}
	grants := []string{store.GrantClientCredentials, store.GrantAuthorizationCode}
	a, err := newApp(context.Background(), options{
		Issuer: issuer, AccessToken: "jwt", Logger: slog.New(slog.DiscardHandler),
		Clients: []*store.Client{
			{ID: "page-app", Name: "Cross-origin app", AuthMethod: store.AuthSecretBasic, SecretHash: hash,
				RedirectURIs: []string{pageOrigin + "/callback"}, GrantTypes: grants, Scopes: []string{"read"}},
			{ID: "other-app", Name: "Another origin's app", AuthMethod: store.AuthSecretBasic, SecretHash: otherHash,
				RedirectURIs: []string{"https://other.example/callback"}, GrantTypes: grants, Scopes: []string{"read"}},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var preflights []string // path of every preflight the server answered
	as := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" {
			mu.Lock()
			preflights = append(preflights, r.URL.Path)
			mu.Unlock()
		}
		a.handler.ServeHTTP(w, r)
	}))
	as.Listener.Close()
	as.Listener = asLn
	as.Start()
	t.Cleanup(as.Close)
	page := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_ = corsPage.Execute(w, map[string]string{
			"Metadata": a.provider.MetadataURL(), "ID": "page-app", "Secret": secret,
			"OtherID": "other-app", "OtherSecret": otherSecret,
		})
	}))
	page.Listener.Close()
	page.Listener = pageLn
	page.Start()
	t.Cleanup(page.Close)

	ctx := newBrowser(t, chromium)
	err = chromedp.Do(ctx,
		chromedp.Navigate(pageOrigin+"/"),
		chromedp.WaitVisible(chromedp.CSS(`body[data-done="1"]`)),
	)
	var report string
	if err == nil {
		report, err = chromedp.Run(ctx, chromedp.Text(chromedp.ID("out")))
	}
	if err != nil {
		t.Fatalf("browser: %v", err)
	}
	var got map[string]any
	if err := json.Unmarshal([]byte(report), &got); err != nil {
		t.Fatalf("page report %q: %v", report, err)
	}
	if got["error"] != nil {
		t.Fatalf("the page failed: %v (report %s)", got["error"], report)
	}
	field := func(obj, key string) any { m, _ := got[obj].(map[string]any); return m[key] }
	for _, want := range []struct {
		obj, key string
		val      any
	}{
		{"metadata", "status", 200.0},
		{"metadata", "issuer", issuer},
		{"metadata", "token_endpoint", issuer + "/oauth/token"},
		{"metadata", "revocation_endpoint", issuer + "/oauth/revoke"},
		{"metadata", "jwks_uri", issuer + "/.well-known/jwks.json"},
		{"jwks", "status", 200.0},
		{"jwks", "alg", grant.AlgEdDSA},
		{"token", "status", 200.0},
		{"token", "token_type", "Bearer"},
		{"token", "expires_in", 3600.0},
		{"token", "scope", "read"},
		{"token", "cache_control", "no-store"},
		{"revoke", "status", 200.0},
		{"revoke", "body", "{}\n"},
	} {
		if v := field(want.obj, want.key); v != want.val {
			t.Errorf("%s.%s read by the page: %#v, want %#v", want.obj, want.key, v, want.val)
		}
	}
	if kids, _ := field("jwks", "kids").([]any); len(kids) != 3 || kids[0] == "" { // EdDSA, RS256, ES256 (oidc.go)
		t.Errorf("JWKS kids read by the page: %v", field("jwks", "kids"))
	}
	access, _ := field("token", "access_token").(string)
	if strings.Count(access, ".") != 2 {
		t.Errorf("the page read no JWT access token: %q", access)
	}
	if got["other"] != "blocked" {
		t.Errorf("another origin's client at the token endpoint: %v, want the browser to block the answer", got["other"])
	}
	mu.Lock()
	seen := strings.Join(preflights, " ")
	mu.Unlock()
	for _, path := range []string{"/oauth/token", "/oauth/revoke"} {
		if !strings.Contains(seen, path) {
			t.Errorf("no preflight for %s (preflights: %s)", path, seen)
		}
	}
	// The revocation the page made holds: the token no longer opens the API.
	req, _ := http.NewRequest(http.MethodGet, issuer+"/api/data", nil)
	req.Header.Set("Authorization", "Bearer "+access)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusUnauthorized {
		t.Errorf("/api/data with the token the page revoked: %d, want 401", res.StatusCode)
	}
}
