package main

import (
	"context"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/jackc/pgx/v5"
	goredis "github.com/redis/go-redis/v9"
	"golang.org/x/oauth2"

	"github.com/oauthkit/oauthkit/grant"
	"github.com/oauthkit/oauthkit/internal/judges"
)

// startDeviceApp serves the example on a loopback port, its issuer that
// port, polled every second (the tests' devices poll in real time).
func startDeviceApp(t *testing.T, o options) (string, *app) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	o.Issuer, o.Logger = base, slog.New(slog.DiscardHandler)
	o.tune = func(c *grant.Config) { c.Device.Interval = time.Second }
	a, err := newApp(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(a.handler)
	srv.Listener.Close()
	srv.Listener = ln
	srv.Start()
	t.Cleanup(srv.Close)
	return base, a
}

var (
	inputRE = regexp.MustCompile(`<input\b[^>]*>`)
	attrRE  = regexp.MustCompile(`\b(name|value)="([^"]*)"`)
)

// pageForm is the form of an HTML page, as a browser would submit it.
func pageForm(body string) url.Values {
	v := url.Values{}
	for _, in := range inputRE.FindAllString(body, -1) {
		attrs := map[string]string{}
		for _, m := range attrRE.FindAllStringSubmatch(in, -1) {
			attrs[m[1]] = html.UnescapeString(m[2])
		}
		if attrs["name"] != "" {
			v.Set(attrs["name"], attrs["value"])
		}
	}
	return v
}

// approveDevice is the user, in a cookie-jar client: the verification URI
// with the code prefilled, Continue, the login form as user1, Allow. It
// returns the done page.
func approveDevice(t *testing.T, complete string) string {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: 10 * time.Second}
	resp, err := c.Get(complete)
	if err != nil {
		t.Fatal(err)
	}
	at, body := resp.Request.URL.String(), readAll(t, resp)
	for _, step := range []url.Values{
		nil, // the prefilled code, as is
		{"username": {"user1"}, "password": {"password1"}},
		{"consent": {"allow"}},
	} {
		form := pageForm(body)
		for k, v := range step {
			form[k] = v
		}
		resp, err := c.PostForm(at, form)
		if err != nil {
			t.Fatal(err)
		}
		at, body = resp.Request.URL.String(), readAll(t, resp)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("device page after %v: %d %.300s", step, resp.StatusCode, body)
		}
	}
	return body
}

func readAll(t *testing.T, resp *http.Response) string {
	t.Helper()
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestDeviceJudge is oauth4webapi's device flow against the example: the
// Node script discovers the server, asks for a device code, polls
// (authorization_pending, then slow_down when it polls again at once) and
// prints the user code; the test approves it on the verification page with
// a cookie-jar client; the script's polling gets the tokens, calls
// /api/data with them, then redeems the device code again: invalid_grant,
// and the token is revoked.
func TestDeviceJudge(t *testing.T) {
	node := judges.Require(t)
	base, _ := startDeviceApp(t, options{})
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	s := judges.Start(ctx, t, node, "device.mjs", "ISSUER="+base, "CLIENT_ID=demo-device")
	var started struct {
		UserCode                string   `json:"user_code"`
		VerificationURI         string   `json:"verification_uri"`
		VerificationURIComplete string   `json:"verification_uri_complete"`
		ExpiresIn               int      `json:"expires_in"`
		Interval                int      `json:"interval"`
		Polls                   []string `json:"polls"`
	}
	if err := json.Unmarshal([]byte(s.Line(30*time.Second)), &started); err != nil {
		t.Fatal(err)
	}
	if started.VerificationURI != base+"/device" || started.VerificationURIComplete != base+"/device?user_code="+started.UserCode ||
		started.ExpiresIn != 600 || started.Interval != 1 {
		t.Fatalf("device authorization as oauth4webapi read it: %+v", started)
	}
	if done := approveDevice(t, started.VerificationURIComplete); !strings.Contains(done, "Demo device") {
		t.Fatalf("done page: %.300s", done)
	}
	var got struct {
		Polls          []string `json:"polls"`
		Scope          string   `json:"scope"`
		TokenType      string   `json:"token_type"`
		API            int      `json:"api"`
		APIBody        string   `json:"api_body"`
		Replay         string   `json:"replay"`
		APIAfterReplay int      `json:"api_after_replay"`
	}
	if err := json.Unmarshal([]byte(s.Line(30*time.Second)), &got); err != nil {
		t.Fatal(err)
	}
	s.Wait()
	t.Logf("oauth4webapi saw %v, then tokens", got.Polls)
	if len(got.Polls) < 2 || got.Polls[0] != "authorization_pending 400" || got.Polls[1] != "slow_down 400" ||
		got.Scope != "read" || !strings.EqualFold(got.TokenType, "bearer") ||
		got.API != http.StatusOK || got.APIBody != protectedData ||
		got.Replay != "invalid_grant 400" || got.APIAfterReplay != http.StatusUnauthorized {
		t.Fatalf("oauth4webapi's device flow: %+v", got)
	}
}

// TestBrowserDeviceFlow drives the device verification page in real
// headless Chromium while golang.org/x/oauth2 polls as the device: the
// verification URI with the code prefilled, Continue, the login form,
// Allow, the done page; the device then has its tokens and reads
// /api/data. With OAUTHKIT_SCREENSHOTS=dir it saves the pages as PNGs.
func TestBrowserDeviceFlow(t *testing.T) {
	chromium := chromiumPath(t)
	base, _ := startDeviceApp(t, options{})
	cfg := &oauth2.Config{ClientID: "demo-device", Scopes: []string{"read", "write"}, Endpoint: oauth2.Endpoint{
		DeviceAuthURL: base + "/oauth/device_authorization", TokenURL: base + "/oauth/token", AuthStyle: oauth2.AuthStyleInParams,
	}}
	ctx := newBrowser(t, chromium)
	da, err := cfg.DeviceAuth(ctx)
	if err != nil {
		t.Fatal(err)
	}
	type result struct {
		tok *oauth2.Token
		err error
	}
	polled := make(chan result, 1)
	go func() {
		tok, err := cfg.DeviceAccessToken(ctx, da) // polls while the user acts
		polled <- result{tok, err}
	}()

	shots := map[string][]byte{}
	shot := func(name string) {
		if err == nil {
			shots[name], err = chromedp.Run(ctx, chromedp.FullScreenshot(100))
		}
	}
	var prefilled, consentText, doneText string
	err = chromedp.Do(ctx,
		chromedp.Navigate(da.VerificationURIComplete),
		chromedp.WaitVisible(chromedp.CSS(`input[name="user_code"]`)),
	)
	if err == nil {
		prefilled, err = chromedp.Run(ctx, chromedp.Value(chromedp.CSS(`input[name="user_code"]`)))
	}
	shot("device-code.png")
	if err == nil {
		err = chromedp.Do(ctx,
			chromedp.Click(chromedp.CSS(`button[type="submit"]`)),
			chromedp.WaitVisible(chromedp.CSS(`input[name="username"]`)),
			chromedp.SendKeys(chromedp.CSS(`input[name="username"]`), "user1"),
			chromedp.SendKeys(chromedp.CSS(`input[name="password"]`), "password1"),
			chromedp.Click(chromedp.CSS(`button[type="submit"]`)),
			chromedp.WaitVisible(chromedp.CSS(`button[name="consent"][value="allow"]`)),
		)
	}
	if err == nil {
		consentText, err = chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`main`)))
	}
	shot("device-consent.png")
	if err == nil {
		err = chromedp.Do(ctx,
			chromedp.Click(chromedp.CSS(`button[name="consent"][value="allow"]`)),
			chromedp.WaitNotPresent(chromedp.CSS(`form`)),
			chromedp.WaitVisible(chromedp.CSS(`h1`)),
		)
	}
	if err == nil {
		doneText, err = chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`main`)))
	}
	shot("device-done.png")
	if dir := os.Getenv("OAUTHKIT_SCREENSHOTS"); dir != "" {
		for name, png := range shots {
			_ = os.WriteFile(filepath.Join(dir, name), png, 0o644)
		}
	}
	if err != nil {
		t.Fatalf("browser: %v", err)
	}
	if prefilled != da.UserCode {
		t.Errorf("the code entry page shows %q, want %q", prefilled, da.UserCode)
	}
	for _, want := range []string{"Demo device", da.UserCode, "read", "write", "user1"} {
		if !strings.Contains(consentText, want) {
			t.Errorf("consent page lacks %q: %q", want, consentText)
		}
	}
	if !strings.Contains(doneText, "Device connected") {
		t.Errorf("done page: %q", doneText)
	}
	r := <-polled
	if r.err != nil {
		t.Fatalf("the device's polling: %v", r.err)
	}
	if r.tok.Extra("scope") != "read write" || r.tok.RefreshToken == "" {
		t.Fatalf("the device's token: %+v", r.tok)
	}
	req, _ := http.NewRequest(http.MethodGet, base+"/api/data", nil)
	req.Header.Set("Authorization", "Bearer "+r.tok.AccessToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if body := readAll(t, resp); resp.StatusCode != http.StatusOK || body != protectedData {
		t.Fatalf("/api/data: %d %s", resp.StatusCode, body)
	}
}

// TestDeviceCodesHashedAtRest runs a device flow on every persistent
// backend, then reads everything the backend keeps: neither the user code
// (in any spelling) nor the device code is there.
func TestDeviceCodesHashedAtRest(t *testing.T) {
	for name, spec := range persistentSpecs(t) {
		t.Run(name, func(t *testing.T) {
			sp := spec(t)
			st, _, err := openStore(t.Context(), sp)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { st.Close() })
			base, _ := startDeviceApp(t, options{Store: st})
			cfg := &oauth2.Config{ClientID: "demo-device", Endpoint: oauth2.Endpoint{
				DeviceAuthURL: base + "/oauth/device_authorization", TokenURL: base + "/oauth/token", AuthStyle: oauth2.AuthStyleInParams,
			}}
			da, err := cfg.DeviceAuth(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			approveDevice(t, da.VerificationURIComplete)
			if _, err := cfg.DeviceAccessToken(t.Context(), da); err != nil {
				t.Fatal(err)
			}
			dump := dumpBackend(t, sp)
			if !strings.Contains(dump, "demo-device") {
				t.Fatalf("the dump does not show the grant:\n%.2000s", dump)
			}
			plain := strings.ReplaceAll(da.UserCode, "-", "")
			for _, raw := range []string{da.UserCode, plain, strings.ToLower(plain), da.DeviceCode, strings.TrimPrefix(da.DeviceCode, grant.PrefixDeviceCode)} {
				if strings.Contains(dump, raw) {
					t.Errorf("%q is stored in the clear", raw)
				}
			}
		})
	}
}

// dumpBackend returns everything the backend of -store spec keeps, as
// text: a SQLite file's bytes, every row of the PostgreSQL schema, every
// key and value under the Redis prefix.
func dumpBackend(t *testing.T, spec string) string {
	t.Helper()
	ctx := t.Context()
	switch {
	case strings.HasPrefix(spec, "sqlite:"):
		var b strings.Builder
		for _, suffix := range []string{"", "-wal"} {
			data, err := os.ReadFile(strings.TrimPrefix(spec, "sqlite:") + suffix)
			if err != nil && !os.IsNotExist(err) {
				t.Fatal(err)
			}
			b.Write(data)
		}
		return b.String()
	case strings.HasPrefix(spec, "postgres"):
		dsn, schema, _, err := splitParam(spec, "schema")
		if err != nil {
			t.Fatal(err)
		}
		conn, err := pgx.Connect(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(ctx)
		var b strings.Builder
		for _, table := range []string{"oauthkit_device_grants", "oauthkit_tokens", "oauthkit_clients"} {
			rows, err := conn.Query(ctx, `SELECT t::text FROM `+pgx.Identifier{schema, table}.Sanitize()+` t`)
			if err != nil {
				t.Fatal(err)
			}
			for rows.Next() {
				var s string
				if err := rows.Scan(&s); err != nil {
					t.Fatal(err)
				}
				fmt.Fprintln(&b, table, s)
			}
			rows.Close()
		}
		return b.String()
	default:
		addr, prefix, _, err := splitParam(spec, "prefix")
		if err != nil {
			t.Fatal(err)
		}
		var rdb goredis.UniversalClient
		var keys []string
		if hosts, ok := strings.CutPrefix(addr, "redis+cluster://"); ok {
			hosts, _, _ = strings.Cut(hosts, "/")
			cc := goredis.NewClusterClient(&goredis.ClusterOptions{Addrs: strings.Split(hosts, ",")})
			var mu sync.Mutex
			err = cc.ForEachMaster(ctx, func(ctx context.Context, c *goredis.Client) error {
				k, err := c.Keys(ctx, prefix+"*").Result()
				mu.Lock()
				keys = append(keys, k...)
				mu.Unlock()
				return err
			})
			rdb = cc
		} else {
			o, perr := goredis.ParseURL(addr)
			if perr != nil {
				t.Fatal(perr)
			}
			c := goredis.NewClient(o)
			keys, err = c.Keys(ctx, prefix+"*").Result()
			rdb = c
		}
		defer rdb.Close()
		if err != nil {
			t.Fatal(err)
		}
		var b strings.Builder
		for _, k := range keys {
			v, err := rdb.Dump(ctx, k).Result()
			if err != nil && err != goredis.Nil {
				t.Fatal(err)
			}
			fmt.Fprintf(&b, "%s %q\n", k, v)
			if m, err := rdb.HGetAll(ctx, k).Result(); err == nil {
				fmt.Fprintln(&b, m)
			}
		}
		return b.String()
	}
}

// TestDeviceContract is the example's device contract: the metadata names
// the device authorization endpoint and the grant; the demo device client
// gets a device code; a -clients entry may list the device grant, and one
// that does not is refused at the device authorization endpoint.
func TestDeviceContract(t *testing.T) {
	base, stdout := startExample(t)
	if !strings.Contains(stdout.String(), "demo-device") || !strings.Contains(stdout.String(), "/oauth/device_authorization") {
		t.Fatalf("banner lacks the device client or route:\n%s", stdout)
	}
	_, _, md := call(t, "GET", base+grant.MetadataPath, "", "", "")
	if !strings.Contains(md, `"device_authorization_endpoint":"`+base+`/oauth/device_authorization"`) || !strings.Contains(md, `"urn:ietf:params:oauth:grant-type:device_code"`) {
		t.Fatalf("metadata: %s", md)
	}
	status, _, body := call(t, "POST", base+"/oauth/device_authorization", "application/x-www-form-urlencoded", "", "client_id=demo-device&scope=read")
	var da map[string]any
	if err := json.Unmarshal([]byte(body), &da); err != nil || status != 200 || da["verification_uri"] != base+"/device" {
		t.Fatalf("device authorization: %d %s", status, body)
	}
	if s, _, page := call(t, "GET", fmt.Sprint(da["verification_uri_complete"]), "", "", ""); s != 200 || !strings.Contains(page, `name="user_code"`) {
		t.Fatalf("GET /device: %d %.300s", s, page)
	}
	status, _, body = call(t, "POST", base+"/oauth/token", "application/x-www-form-urlencoded", "",
		"grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Adevice_code&client_id=demo-device&device_code="+url.QueryEscape(fmt.Sprint(da["device_code"])))
	if status != 400 || !strings.Contains(body, `"error":"authorization_pending"`) {
		t.Fatalf("first poll: %d %s", status, body)
	}

	file := filepath.Join(t.TempDir(), "clients.json")
	err := os.WriteFile(file, []byte(`[
	  {"client_id": "tv", "grant_types": ["urn:ietf:params:oauth:grant-type:device_code", "refresh_token"], "scope": "read"},
	  {"client_id": "spa", "redirect_uris": ["http://127.0.0.1:9000/cb"], "grant_types": ["authorization_code"], "scope": "read"}
	]`), 0o600)
	if err != nil {
		t.Fatal(err)
	}
	base, _ = startExample(t, "-clients", file)
	for id, want := range map[string]int{"tv": 200, "spa": 400, "demo-device": 401} {
		if s, _, b := call(t, "POST", base+"/oauth/device_authorization", "application/x-www-form-urlencoded", "", "client_id="+id); s != want {
			t.Errorf("-clients %s: %d %s, want %d", id, s, b, want)
		}
	}
}
