package grant_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/oauthkit/oauthkit/grant"
	"github.com/oauthkit/oauthkit/store"
)

// TestDevicePage: the code entry page, prefilled from ?user_code=, with the
// headers of the other pages; the consent page names the client, the
// scopes and the code, so that the user can check it is the one their
// device shows (RFC 8628 §3.3.1, §5.4).
func TestDevicePage(t *testing.T) {
	e := newDevEnv(t, grant.DeviceOptions{AuthorizeOptions: grant.AuthorizeOptions{
		ScopeDescriptions: map[string]string{"read": "read your data"},
	}})
	a := e.deviceAuth(devTV, "read")
	c := e.browser()
	p := e.get(c, a.str("verification_uri_complete"))
	if p.status != http.StatusOK || formFields(p.body).Get("user_code") != a.str("user_code") {
		t.Fatalf("the prefilled entry page: %d %v", p.status, formFields(p.body))
	}
	csp := p.header.Get("Content-Security-Policy")
	for _, want := range []string{"default-src 'none'", "form-action 'self'", "frame-ancestors 'none'", "style-src 'sha256-"} {
		if !strings.Contains(csp, want) {
			t.Errorf("CSP %q lacks %q", csp, want)
		}
	}
	for k, want := range map[string]string{"X-Frame-Options": "DENY", "Cache-Control": "no-store", "Referrer-Policy": "no-referrer"} {
		if got := p.header.Get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	if strings.Contains(p.body, "<script") || !strings.Contains(p.body, `<label for="user_code">`) {
		t.Errorf("entry page: %.500s", p.body)
	}
	// A prefilled value is shown as it was given, escaped.
	if q := e.get(c, e.srv.URL+"/device?user_code="+url.QueryEscape(`"><b>x`)); strings.Contains(q.body, "<b>x") {
		t.Errorf("the prefilled value is not escaped: %.400s", q.body)
	}
	p = e.login(c, e.submit(c, p, nil))
	for _, want := range []string{"Living-room TV", "read your data", a.str("user_code"), "user1", `value="allow"`, `value="deny"`, `href="?user_code="`} {
		if !strings.Contains(p.body, want) {
			t.Errorf("consent page lacks %q: %.800s", want, p.body)
		}
	}
	if strings.Contains(p.body, "sent back to") {
		t.Errorf("the consent page of a device speaks of a redirect: %.800s", p.body)
	}
	// Another device's link, opened in the same browser, starts again at
	// the entry page, with its own code.
	b := e.deviceAuth(devTV, "read")
	if q := e.get(c, b.str("verification_uri_complete")); formFields(q.body).Get("user_code") != b.str("user_code") {
		t.Errorf("a second link in the same session: %d %v", q.status, formFields(q.body))
	}
}

// TestDeviceCodeTyped: the code is read whatever the case, dashes or
// spaces (RFC 8628 §6.1); garbage is refused before any lookup.
func TestDeviceCodeTyped(t *testing.T) {
	e := newDevEnv(t, grant.DeviceOptions{})
	for _, typed := range []func(string) string{
		strings.ToLower,
		func(s string) string { return strings.ReplaceAll(s, "-", "") },
		func(s string) string { return " " + strings.ReplaceAll(strings.ToLower(s), "-", " ") + " " },
	} {
		a := e.deviceAuth(devTV, "")
		if p := e.enterCode(e.browser(), typed(a.str("user_code"))); !strings.Contains(p.body, `name="password"`) {
			t.Errorf("%q: %d %.300s", typed(a.str("user_code")), p.status, p.body)
		}
	}
	for _, bad := range []string{"", "ABC", strings.Repeat("B", 100), "WDJB-MJHT-BCDF"} {
		p := e.enterCode(e.browser(), bad)
		if p.status != http.StatusBadRequest || !strings.Contains(p.body, `name="user_code"`) {
			t.Errorf("%q: %d %.300s", bad, p.status, p.body)
		}
	}
}

// TestDeviceCodeEntryThrottled is RFC 8628 §5.1: wrong codes from one
// address are limited (5 at once, then one a minute), the right code is
// refused too meanwhile (no free guess), and a right code entered between
// wrong ones does not reset the count.
func TestDeviceCodeEntryThrottled(t *testing.T) {
	e := newDevEnv(t, grant.DeviceOptions{})
	good := e.deviceAuth(devTV, "").str("user_code")
	c := e.browser()
	wrong := func() page { return e.enterCode(c, "BCDF-GHJK") }
	for i := range 4 {
		if p := wrong(); p.status != http.StatusBadRequest || !strings.Contains(p.body, "wrong") {
			t.Fatalf("wrong code %d: %d %.300s", i+1, p.status, p.body)
		}
	}
	if p := e.enterCode(e.browser(), good); !strings.Contains(p.body, `name="password"`) {
		t.Fatalf("the right code after four wrong ones: %d", p.status)
	}
	if p := wrong(); p.status != http.StatusBadRequest {
		t.Fatalf("the fifth wrong code: %d", p.status)
	}
	p := wrong()
	if p.status != http.StatusTooManyRequests || p.header.Get("Retry-After") == "" || !strings.Contains(p.body, "Too many") {
		t.Fatalf("the sixth wrong code: %d Retry-After %q %.300s", p.status, p.header.Get("Retry-After"), p.body)
	}
	if p := e.enterCode(e.browser(), good); p.status != http.StatusTooManyRequests {
		t.Fatalf("the right code while throttled: %d, want 429", p.status)
	}
	e.clk.Advance(time.Minute)
	if p := e.enterCode(e.browser(), good); !strings.Contains(p.body, `name="password"`) {
		t.Fatalf("a minute later: %d", p.status)
	}
}

// TestDeviceCodeEntryThrottledGlobally: across addresses, wrong codes are
// limited too (Config.Device.WrongCodes), so that many addresses cannot
// search the code space either.
func TestDeviceCodeEntryThrottledGlobally(t *testing.T) {
	e := newDevEnv(t, grant.DeviceOptions{}, func(c *grant.Config) {
		c.Device.WrongCodes = store.Limit{Burst: 3, Every: 10 * time.Second}
		c.ClientAddr = func(r *http.Request) string { return r.Header.Get("X-Test-Addr") }
	})
	from := func(addr, code string) page {
		c := e.browser()
		p := e.get(c, e.srv.URL+"/device")
		form := formFields(p.body)
		form.Set("user_code", code)
		req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/device", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("X-Test-Addr", addr)
		return e.do(c, req)
	}
	for i := range 3 {
		if p := from("192.0.2."+string(rune('1'+i)), "BCDF-GHJK"); p.status != http.StatusBadRequest {
			t.Fatalf("wrong code from address %d: %d", i, p.status)
		}
	}
	good := e.deviceAuth(devTV, "").str("user_code")
	if p := from("198.51.100.7", good); p.status != http.StatusTooManyRequests {
		t.Fatalf("a fresh address once the global limit is spent: %d, want 429", p.status)
	}
	e.clk.Advance(10 * time.Second)
	if p := from("198.51.100.7", good); !strings.Contains(p.body, `name="password"`) {
		t.Fatalf("after the global wait: %d", p.status)
	}
}

// TestDeviceCodeUsedOnce: an answered code cannot be answered again, from
// another browser or the same one.
func TestDeviceCodeUsedOnce(t *testing.T) {
	e := newDevEnv(t, grant.DeviceOptions{})
	a := e.deviceAuth(devTV, "read")
	c := e.browser()
	p := e.login(c, e.enterCode(c, a.str("user_code")))
	stale := p // the consent page, kept to post again
	if done := e.submit(c, p, url.Values{"consent": {"allow"}}); done.status != http.StatusOK {
		t.Fatalf("allow: %d", done.status)
	}
	if p := e.enterCode(e.browser(), a.str("user_code")); p.status != http.StatusBadRequest || !strings.Contains(p.body, "already") {
		t.Errorf("the code again: %d %.300s", p.status, p.body)
	}
	if p := e.submit(c, stale, url.Values{"consent": {"deny"}}); p.status == http.StatusOK && strings.Contains(p.body, "denied") {
		t.Errorf("a second answer was taken: %.300s", p.body)
	}
	if tok := e.poll(devTV, a.str("device_code")); tok.status != http.StatusOK {
		t.Errorf("the device after a second answer: %d %v, want the first answer's tokens", tok.status, tok.body)
	}
}

// TestDevicePageCSRF: every form of the page carries the session's CSRF
// token; a post without it, or with another session's, is refused.
func TestDevicePageCSRF(t *testing.T) {
	e := newDevEnv(t, grant.DeviceOptions{})
	a := e.deviceAuth(devTV, "read")
	victim, attacker := e.browser(), e.browser()
	entry := e.get(victim, e.srv.URL+"/device")
	theirs := formFields(e.get(attacker, e.srv.URL+"/device").body).Get("csrf_token")
	for name, extra := range map[string]url.Values{
		"no token":             {"csrf_token": {""}, "user_code": {a.str("user_code")}},
		"another session's":    {"csrf_token": {theirs}, "user_code": {a.str("user_code")}},
		"a forged consent":     {"csrf_token": {theirs}, "step": {"consent"}, "consent": {"allow"}},
		"a login with no form": {"csrf_token": {""}, "step": {"login"}, "username": {"user1"}, "password": {"password1"}},
	} {
		if p := e.submit(victim, entry, extra); p.status != http.StatusForbidden {
			t.Errorf("%s: %d, want 403", name, p.status)
		}
	}
	// Signed in, with a valid CSRF token, but no code entered in this
	// session: the consent form is refused.
	other := e.browser()
	signedIn := e.login(other, e.enterCode(other, e.deviceAuth(devTV, "").str("user_code")))
	e.submit(other, signedIn, url.Values{"consent": {"deny"}})
	if got := e.submit(other, signedIn, url.Values{"consent": {"allow"}}); got.status == http.StatusOK {
		t.Errorf("consent with no code pending in the session: %d %.300s", got.status, got.body)
	}
	p := e.login(victim, e.enterCode(victim, a.str("user_code")))
	if done := e.submit(victim, p, url.Values{"consent": {"allow"}}); done.status != http.StatusOK {
		t.Errorf("the victim's own consent: %d", done.status)
	}
}

// TestDeviceConsentAlwaysAsked: a device's consent page is never skipped,
// neither for a first-party client nor for remembered consent: a code sent
// by someone else would otherwise hand them the account (RFC 8628 §5.4).
func TestDeviceConsentAlwaysAsked(t *testing.T) {
	var asked, answered int
	e := newDevEnv(t, grant.DeviceOptions{AuthorizeOptions: grant.AuthorizeOptions{
		RememberedConsent: func(context.Context, grant.ConsentRequest) bool { asked++; return true },
		OnConsent:         func(context.Context, grant.ConsentRequest, bool) { answered++ },
	}})
	a := e.deviceAuth(devFirst, "")
	c := e.browser()
	p := e.login(c, e.enterCode(c, a.str("user_code")))
	if !strings.Contains(p.body, `value="allow"`) {
		t.Fatalf("first-party device client: no consent page: %d %.300s", p.status, p.body)
	}
	e.submit(c, p, url.Values{"consent": {"allow"}})
	if asked != 0 || answered != 1 {
		t.Fatalf("RememberedConsent called %d times, OnConsent %d; want 0 and 1", asked, answered)
	}
}

// TestDeviceHostSession: with AuthorizeOptions.Authenticate, the host's
// session replaces the login page.
func TestDeviceHostSession(t *testing.T) {
	e := newDevEnv(t, grant.DeviceOptions{AuthorizeOptions: grant.AuthorizeOptions{
		Authenticate: func(w http.ResponseWriter, r *http.Request) (*store.User, bool) {
			if c, err := r.Cookie("host"); err == nil && c.Value == "alice" {
				return &store.User{ID: "42", Username: "alice"}, true
			}
			http.Redirect(w, r, "/host-login", http.StatusFound)
			return nil, false
		},
	}})
	a := e.deviceAuth(devTV, "read")
	entry := func(c *http.Client) page { return e.get(c, a.str("verification_uri_complete")) }
	anon := e.browser()
	if p := e.submit(anon, entry(anon), nil); p.url.Path != "/host-login" {
		t.Fatalf("not signed in at the host: %d at %s, want the host's login", p.status, p.url)
	}
	b := e.browser()
	u, _ := url.Parse(e.srv.URL)
	b.Jar.SetCookies(u, []*http.Cookie{{Name: "host", Value: "alice"}})
	p := e.submit(b, entry(b), nil)
	if !strings.Contains(p.body, `value="allow"`) || !strings.Contains(p.body, "alice") {
		t.Fatalf("signed in at the host: %d %.300s", p.status, p.body)
	}
	e.submit(b, p, url.Values{"consent": {"allow"}})
	tok := e.poll(devTV, a.str("device_code"))
	ti, err := e.p.ValidateToken(context.Background(), tok.str("access_token"))
	if err != nil || ti.Subject != "42" {
		t.Fatalf("token: %v %v", ti, err)
	}
}

// TestDeviceLoginKeepsCode: a wrong password keeps the entered code, and
// the login is throttled as at the authorization endpoint.
func TestDeviceLoginKeepsCode(t *testing.T) {
	e := newDevEnv(t, grant.DeviceOptions{})
	a := e.deviceAuth(devTV, "read")
	c := e.browser()
	p := e.enterCode(c, a.str("user_code"))
	p = e.submit(c, p, url.Values{"username": {"user1"}, "password": {"wrong"}})
	if p.status != http.StatusUnauthorized || !strings.Contains(p.body, "incorrect") {
		t.Fatalf("wrong password: %d %.300s", p.status, p.body)
	}
	p = e.submit(c, p, url.Values{"username": {"user1"}, "password": {"password1"}})
	if !strings.Contains(p.body, a.str("user_code")) || !strings.Contains(p.body, `value="allow"`) {
		t.Fatalf("after a failed then a good login: %d %.300s", p.status, p.body)
	}
}

// TestDeviceAuthTime: the grant records when the user signed in, and the
// tokens carry it.
func TestDeviceAuthTime(t *testing.T) {
	e := newDevEnv(t, grant.DeviceOptions{})
	a := e.deviceAuth(devTV, "read")
	signedIn := e.clk.Now()
	c := e.browser()
	p := e.login(c, e.enterCode(c, a.str("user_code")))
	e.clk.Advance(time.Minute)
	e.submit(c, p, url.Values{"consent": {"allow"}})
	var got store.Token
	rec := e.poll(devTV, a.str("device_code"))
	got, err := e.st.Token(context.Background(), store.HashSecret(rec.str("access_token")))
	if err != nil || !got.AuthTime.Equal(signedIn.Truncate(time.Second)) || got.Subject != "1" {
		t.Fatalf("the token's auth_time %v (%v), want %v", got.AuthTime, err, signedIn)
	}
}
