package grant

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
)

func (f *fixture) login(body, ctype, addr string) response {
	f.t.Helper()
	return f.do("POST", "/login", ctype, body, func(r *http.Request) {
		if addr != "" {
			r.Header.Set("X-Test-Addr", addr)
		}
	})
}

// testAddr lets a test pose as several client addresses.
func testAddr(r *http.Request) string {
	if a := r.Header.Get("X-Test-Addr"); a != "" {
		return a
	}
	return remoteHost(r)
}

func TestLoginTutorialFlow(t *testing.T) {
	f := newFixture(t)
	good := `{"username": "user1", "password": "password1"}`
	for _, ct := range []string{"application/json", "application/json; charset=utf-8"} {
		r := f.login(good, ct, "")
		if r.status != 200 || !strings.HasPrefix(r.str("access_token"), PrefixAccessToken) || r.str("token_type") != "Bearer" {
			t.Fatalf("content type %q: %d %s", ct, r.status, r.raw)
		}
		if r.str("scope") != "read write" || r.str("refresh_token") == "" {
			t.Errorf("login token: %s", r.raw)
		}
		if s := f.api(r.str("access_token")); s != 200 {
			t.Fatalf("/api/data with the login token: %d", s)
		}
	}
	r := f.login(`{"username": "user1", "password": "nope"}`, "application/json", "")
	wantError(t, r, 401, CodeInvalidGrant)
	r2 := f.login(`{"username": "nobody", "password": "nope"}`, "application/json", "")
	if r2.status != r.status || r2.raw != r.raw {
		t.Errorf("unknown user answered differently from a wrong password: %s vs %s", r2.raw, r.raw)
	}
	for _, c := range []struct{ body, ctype string }{
		{`{"username": "user1"}`, "application/json"},
		{`not json`, "application/json"},
		{good, "multipart/form-data; boundary=x"},
		{`{"username": "` + strings.Repeat("a", maxLoginBytes) + `"}`, "application/json"},
	} {
		if r := f.login(c.body, c.ctype, ""); r.status < 400 || r.status >= 500 || r.str("error") != CodeInvalidRequest {
			t.Errorf("bad login %.40q: %d %s", c.body, r.status, r.raw)
		}
	}
	if r := f.do("GET", "/login", "", "", nil); r.status != 405 {
		t.Errorf("GET /login: %d", r.status)
	}
}

func TestLoginThrottled(t *testing.T) {
	f := newFixture(t, func(c *Config) { c.ClientAddr = testAddr })
	bad := `{"username": "user1", "password": "guess"}`
	good := `{"username": "user1", "password": "password1"}`
	for i := range pairAttempts.Burst {
		if r := f.login(bad, "application/json", "10.0.0.1"); r.status != 401 {
			t.Fatalf("failure %d: %d", i+1, r.status)
		}
	}
	// The attempts are used up: even the right password waits.
	r := f.login(good, "application/json", "10.0.0.1")
	wantError(t, r, 429, CodeSlowDown)
	if s, err := strconv.Atoi(r.header.Get("Retry-After")); err != nil || s < 1 {
		t.Fatalf("Retry-After %q", r.header.Get("Retry-After"))
	}
	// The user is not locked out from another address.
	if r := f.login(good, "application/json", "10.0.0.2"); r.status != 200 {
		t.Fatalf("user locked out from another address: %d %s", r.status, r.raw)
	}
	// The wait ends.
	f.clock.Advance(pairAttempts.Every)
	if r := f.login(good, "application/json", "10.0.0.1"); r.status != 200 {
		t.Fatalf("after the wait: %d %s", r.status, r.raw)
	}
	// The password grant is throttled by the same counts.
	for range pairAttempts.Burst + 1 {
		f.login(bad, "application/json", "10.0.0.3")
	}
	form := map[string][]string{"grant_type": {"password"}, "username": {"user1"}, "password": {"password1"}}
	r = f.do("POST", "/oauth/token", "application/x-www-form-urlencoded", encode(form), func(r *http.Request) {
		r.SetBasicAuth(appClient, f.secrets[appClient])
		r.Header.Set("X-Test-Addr", "10.0.0.3")
	})
	wantError(t, r, 429, CodeSlowDown)
}

func encode(m map[string][]string) string {
	var b strings.Builder
	for k, vs := range m {
		for _, v := range vs {
			if b.Len() > 0 {
				b.WriteByte('&')
			}
			b.WriteString(k + "=" + v)
		}
	}
	return b.String()
}
