package main

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"golang.org/x/oauth2"
)

// chromiumPath finds Debian's chromium. The browser test may skip only
// where there is none and OAUTHKIT_REQUIRE_BROWSER is unset (CI sets it).
func chromiumPath(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("OAUTHKIT_REQUIRE_BROWSER") != "" {
		t.Fatal("chromium is not installed and OAUTHKIT_REQUIRE_BROWSER is set")
	}
	t.Skip("chromium is not installed (set OAUTHKIT_REQUIRE_BROWSER=1 to make this a failure)")
	return ""
}

// newBrowser starts headless chromium for one test, closed at its end; the
// context it returns bounds the test's browser work to 90 s.
func newBrowser(t *testing.T, chromium string) context.Context {
	t.Helper()
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(chromium),
		chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(800, 700),
	)
	ctx, cancel := chromedp.NewContext(allocCtx)
	ctx, cancelTimeout := context.WithTimeout(ctx, 90*time.Second)
	t.Cleanup(func() { cancelTimeout(); cancel(); cancelAlloc() })
	return ctx
}

// TestBrowserAuthorizationCode drives the login and consent pages in real
// headless Chromium: the authorize URL, the login form, Allow, the redirect
// to the client (served by this test, on a loopback port the demo-spa
// client did not register: RFC 8252 §7.3), then the code exchange and
// /api/data. With OAUTHKIT_SCREENSHOTS=dir it saves the two pages as PNGs.
func TestBrowserAuthorizationCode(t *testing.T) {
	chromium := chromiumPath(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	a, err := newApp(context.Background(), options{Issuer: base, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/", a.handler)
	mux.HandleFunc("GET /callback", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		io.WriteString(w, `<!doctype html><html lang="en"><title>callback</title><p id="done">back at the client</p></html>`)
	})
	srv := httptest.NewUnstartedServer(mux)
	srv.Listener.Close()
	srv.Listener = ln
	srv.Start()
	t.Cleanup(srv.Close)

	cfg := &oauth2.Config{
		ClientID: "demo-spa", RedirectURL: base + "/callback", Scopes: []string{"read", "write"},
		Endpoint: oauth2.Endpoint{AuthURL: base + "/oauth/authorize", TokenURL: base + "/oauth/token", AuthStyle: oauth2.AuthStyleInParams},
	}
	verifier := oauth2.GenerateVerifier()
	authURL := cfg.AuthCodeURL("browser-state", oauth2.S256ChallengeOption(verifier))

	ctx := newBrowser(t, chromium)
	err = chromedp.Do(ctx,
		chromedp.Navigate(authURL),
		chromedp.WaitVisible(chromedp.CSS(`input[name="username"]`)),
	)
	var loginPNG, consentPNG []byte
	var consentText, final string
	if err == nil {
		loginPNG, err = chromedp.Run(ctx, chromedp.FullScreenshot(100))
	}
	if err == nil {
		err = chromedp.Do(ctx,
			chromedp.SendKeys(chromedp.CSS(`input[name="username"]`), "user1"),
			chromedp.SendKeys(chromedp.CSS(`input[name="password"]`), "password1"),
			chromedp.Click(chromedp.CSS(`button[type="submit"]`)),
			chromedp.WaitVisible(chromedp.CSS(`button[name="consent"][value="allow"]`)),
		)
	}
	if err == nil {
		consentText, err = chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`main`)))
	}
	if err == nil {
		consentPNG, err = chromedp.Run(ctx, chromedp.FullScreenshot(100))
	}
	if err == nil {
		err = chromedp.Do(ctx,
			chromedp.Click(chromedp.CSS(`button[name="consent"][value="allow"]`)),
			chromedp.WaitVisible(chromedp.ID(`done`)),
		)
	}
	if err == nil {
		final, err = chromedp.Run(ctx, chromedp.Location())
	}
	if dir := os.Getenv("OAUTHKIT_SCREENSHOTS"); dir != "" {
		_ = os.WriteFile(filepath.Join(dir, "login.png"), loginPNG, 0o644)
		_ = os.WriteFile(filepath.Join(dir, "consent.png"), consentPNG, 0o644)
	}
	if err != nil {
		t.Fatalf("browser: %v", err)
	}
	for _, want := range []string{"Demo single-page app", "read", "write", "user1"} {
		if !strings.Contains(consentText, want) {
			t.Errorf("consent page lacks %q: %q", want, consentText)
		}
	}
	u, err := url.Parse(final)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	if !strings.HasPrefix(final, cfg.RedirectURL+"?") || q.Get("state") != "browser-state" || q.Get("iss") != base {
		t.Fatalf("the browser ended at %s", final)
	}
	tok, err := cfg.Exchange(context.Background(), q.Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatalf("exchange: %v", err)
	}
	req, _ := http.NewRequest(http.MethodGet, base+"/api/data", nil)
	req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || string(body) != protectedData {
		t.Fatalf("/api/data: %d %s", resp.StatusCode, body)
	}
}
