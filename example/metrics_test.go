package main

import (
	"encoding/json"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// TestMetrics runs the example with -metrics, issues a token, calls a
// protected route with it and with a bad one, and scrapes /metrics: each
// step must be counted there, and nothing secret shown.
func TestMetrics(t *testing.T) {
	maddr := freeAddr(t)
	base, stdout := startExample(t, "-metrics", maddr)
	if want := "Metrics: http://" + maddr + "/metrics"; !strings.Contains(stdout.String(), want) {
		t.Errorf("banner lacks %q:\n%s", want, stdout)
	}
	status, _, body := call(t, "POST", base+"/login", "application/json", "", `{"username": "user1", "password": "password1"}`)
	var tok tokenJSON
	if err := json.Unmarshal([]byte(body), &tok); err != nil || status != 200 {
		t.Fatalf("POST /login: %d %s", status, body)
	}
	if status, _, _ := call(t, "GET", base+"/api/data", "", "Bearer "+tok.AccessToken, ""); status != 200 {
		t.Fatalf("GET /api/data: %d", status)
	}
	if status, _, _ := call(t, "GET", base+"/api/data", "", "Bearer okat_"+strings.Repeat("A", 43), ""); status != 401 {
		t.Fatalf("GET /api/data with a bad token: %d", status)
	}
	if status, _, _ := call(t, "GET", base+"/metrics", "", "", ""); status != 404 {
		t.Errorf("GET /metrics on the API's listener: %d, want 404 (metrics have their own)", status)
	}

	status, hdr, text := call(t, "GET", "http://"+maddr+"/metrics", "", "", "")
	if status != 200 || !strings.HasPrefix(hdr.Get("Content-Type"), "text/plain") {
		t.Fatalf("GET /metrics: %d %s", status, hdr.Get("Content-Type"))
	}
	for _, c := range []struct {
		series string
		min    float64
	}{
		{`oauthkit_provider_issued_total{grant_type="password"}`, 1},
		{`oauthkit_guard_validation_duration_seconds_count{result="ok"}`, 1},
		{`oauthkit_guard_validation_duration_seconds_count{result="invalid"}`, 1},
		{`oauthkit_guard_refused_total{error="invalid_token",status="401"}`, 1},
		{`oauthkit_store_call_duration_seconds_count{op="Authenticate",result="ok"}`, 1},
		{`oauthkit_store_call_duration_seconds_count{op="CreateToken",result="ok"}`, 2},
		{`oauthkit_store_call_duration_seconds_count{op="Token",result="ok"}`, 1},
		{`oauthkit_store_call_duration_seconds_count{op="Token",result="not_found"}`, 1},
	} {
		v, ok := sample(text, c.series)
		if !ok || v < c.min {
			t.Errorf("%s = %v (present %v), want at least %v", c.series, v, ok, c.min)
		}
	}
	for _, secret := range []string{tok.AccessToken, tok.RefreshToken, tok.AccessToken[5:], "password1", "user1", "oauthkit-login", "okcs_"} {
		if strings.Contains(text, secret) {
			t.Errorf("the metrics show %q", secret)
		}
	}
}

// sample returns the value of the series (name and labels, exactly as
// written) in the Prometheus text.
func sample(text, series string) (float64, bool) {
	m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(series) + ` (\S+)$`).FindStringSubmatch(text)
	if m == nil {
		return 0, false
	}
	v, err := strconv.ParseFloat(m[1], 64)
	return v, err == nil
}

// TestMetricsOff checks that without -metrics nothing listens for them
// and the banner says nothing of them.
func TestMetricsOff(t *testing.T) {
	base, stdout := startExample(t)
	if strings.Contains(stdout.String(), "Metrics:") {
		t.Errorf("banner mentions metrics without -metrics:\n%s", stdout)
	}
	if status, _, _ := call(t, "GET", base+"/metrics", "", "", ""); status != 404 {
		t.Errorf("GET /metrics: %d, want 404", status)
	}
}
