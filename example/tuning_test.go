package main

import (
	"context"
	"encoding/json"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/oauthkit/oauthkit/grant"
)

// TestTuningFlagsRefused checks that a bad lifetime or interval is a
// message naming the flag and exit status 2, before anything starts.
func TestTuningFlagsRefused(t *testing.T) {
	for _, c := range []struct {
		args []string
		flag string
	}{
		{[]string{"-access-ttl", "0s"}, "-access-ttl"},
		{[]string{"-access-ttl", "-5m"}, "-access-ttl"},
		{[]string{"-access-ttl", "500ms"}, "-access-ttl"},
		{[]string{"-access-ttl", "an hour"}, "-access-ttl"},
		{[]string{"-refresh-ttl", "0"}, "-refresh-ttl"},
		{[]string{"-refresh-ttl", "14d"}, "-refresh-ttl"}, // Go durations have no days
		{[]string{"-code-ttl", "11m"}, "-code-ttl"},
		{[]string{"-code-ttl", "0s"}, "-code-ttl"},
		{[]string{"-cleanup", "-1s"}, "-cleanup"},
		{[]string{"-cleanup", "often"}, "-cleanup"},
		{[]string{"-metrics", "9464"}, "-metrics"},
		{[]string{"-metrics", "localhost"}, "-metrics"},
	} {
		var stdout, stderr syncBuffer
		if code := run(t.Context(), append([]string{"-addr", "127.0.0.1:0"}, c.args...), &stdout, &stderr); code != 2 {
			t.Errorf("%v: exit status %d, want 2", c.args, code)
		}
		if !strings.Contains(stderr.String(), c.flag) {
			t.Errorf("%v: the message does not name %s: %q", c.args, c.flag, stderr.String())
		}
		if stdout.String() != "" {
			t.Errorf("%v: started anyway: %q", c.args, stdout.String())
		}
	}
}

// TestTuningFlags runs the example with short lifetimes and checks them
// where a client sees them: expires_in, the refresh token's exp at
// introspection, the banner.
func TestTuningFlags(t *testing.T) {
	base, stdout := startExample(t, "-access-ttl", "90s", "-refresh-ttl", "2h", "-code-ttl", "30s")
	if want := "Lifetimes: access 1m30s, refresh 2h0m0s, code 30s"; !strings.Contains(stdout.String(), want) {
		t.Errorf("banner lacks %q:\n%s", want, stdout)
	}
	_, _, body := call(t, "POST", base+"/login", "application/json", "", `{"username": "user1", "password": "password1"}`)
	var tok struct {
		tokenJSON
		ExpiresIn int `json:"expires_in"`
	}
	if err := json.Unmarshal([]byte(body), &tok); err != nil || tok.ExpiresIn != 90 {
		t.Fatalf("POST /login: expires_in %d, want 90 (%s)", tok.ExpiresIn, body)
	}
	rs := regexp.MustCompile(`(?m)^  demo-resource .* secret=(okcs_\S+)`).FindStringSubmatch(stdout.String())
	if rs == nil {
		t.Fatalf("no demo-resource secret in the banner:\n%s", stdout)
	}
	for raw, want := range map[string]float64{tok.AccessToken: 90, tok.RefreshToken: 7200} {
		status, _, in := send(t, "POST", base+"/oauth/introspect", basic("demo-resource", rs[1]), "", url.Values{"token": {raw}})
		exp, _ := in["exp"].(float64)
		iat, _ := in["iat"].(float64)
		if status != 200 || in["active"] != true || exp-iat != want {
			t.Errorf("introspection: %d %v; want exp - iat = %v", status, in, want)
		}
	}
}

// TestTuningCodeTTL checks that -code-ttl's value reaches the Provider (a
// code's lifetime shows nowhere a client can read it).
func TestTuningCodeTTL(t *testing.T) {
	var got grant.Config
	_, err := newApp(t.Context(), options{
		Issuer: "http://127.0.0.1:5000",
		Tuning: tuning{AccessTTL: time.Minute, RefreshTTL: time.Hour, CodeTTL: 30 * time.Second},
		tune:   func(c *grant.Config) { got = *c },
	})
	if err != nil {
		t.Fatal(err)
	}
	if got.CodeTTL != 30*time.Second || got.AccessTokenTTL != time.Minute || got.RefreshTokenTTL != time.Hour {
		t.Errorf("Config lifetimes: code %v, access %v, refresh %v", got.CodeTTL, got.AccessTokenTTL, got.RefreshTokenTTL)
	}
}

// TestTuningCleanup checks that -cleanup reaches a SQLite store: its
// cleanup, at the default of 5 minutes, would not run during the test,
// while every 200 ms it shows in the metrics at once.
func TestTuningCleanup(t *testing.T) {
	maddr := freeAddr(t)
	_, stdout := startExample(t, "-store", "sqlite:"+filepath.Join(t.TempDir(), "oauthkit.db"), "-cleanup", "200ms", "-metrics", maddr)
	if want := "cleaned up (sqlite, postgres): every 200ms"; !strings.Contains(stdout.String(), want) {
		t.Errorf("banner lacks %q:\n%s", want, stdout)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	for {
		_, _, text := call(t, "GET", "http://"+maddr+"/metrics", "", "", "")
		if n, _ := sample(text, `oauthkit_store_call_duration_seconds_count{op="Clean",result="ok"}`); n >= 1 {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatal("no cleanup of the SQLite store within 10 s with -cleanup 200ms")
		case <-time.After(50 * time.Millisecond):
		}
	}
}
