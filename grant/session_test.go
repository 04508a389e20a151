package grant

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/oauthkit/oauthkit/store/memory"
)

func sessionProvider(t *testing.T, key []byte, now func() time.Time) *Provider {
	t.Helper()
	st := memory.New()
	p, err := NewProvider(Config{Issuer: "https://as.example.com", Clients: st, Tokens: st, Secret: key, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestSessionCookie: a session signed by one instance is read by another
// with the same key, and by nobody else; tampering and expiry void it.
func TestSessionCookie(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	clock := func() time.Time { return now }
	key := bytes.Repeat([]byte{7}, 32)
	a, b := sessionProvider(t, key, clock), sessionProvider(t, key, clock)
	other := sessionProvider(t, bytes.Repeat([]byte{8}, 32), clock)

	s, err := a.newSession()
	if err != nil {
		t.Fatal(err)
	}
	s.UserID, s.Username = "1", "user1"
	rec := httptest.NewRecorder()
	a.writeSession(rec, s)
	cookie := rec.Result().Cookies()[0]
	req := func(value string) *http.Request {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.AddCookie(&http.Cookie{Name: cookie.Name, Value: value})
		return r
	}
	got := b.readSession(req(cookie.Value))
	if got == nil || got.UserID != "1" || got.Nonce != s.Nonce || !b.checkCSRF(got, a.csrfToken(s)) {
		t.Fatalf("another instance with the same key read %+v", got)
	}
	if other.readSession(req(cookie.Value)) != nil {
		t.Fatal("an instance with another key accepted the session")
	}
	payload, sig, _ := strings.Cut(cookie.Value, ".")
	for _, bad := range []string{payload, payload + ".", "x" + cookie.Value, payload[1:] + "." + sig, strings.Repeat("a", 3000)} {
		if a.readSession(req(bad)) != nil {
			t.Errorf("accepted %q", bad)
		}
	}
	if a.checkCSRF(got, "") || a.checkCSRF(got, other.csrfToken(s)) || a.checkCSRF(nil, a.csrfToken(s)) {
		t.Fatal("a wrong CSRF token passed")
	}
	now = now.Add(a.cfg.SessionTTL)
	if a.readSession(req(cookie.Value)) != nil {
		t.Fatal("an expired session was accepted")
	}
}

func TestSecretTooShort(t *testing.T) {
	st := memory.New()
	if _, err := NewProvider(Config{Issuer: "https://as.example.com", Clients: st, Tokens: st, Secret: []byte("short")}); err == nil {
		t.Fatal("a 5-byte session key was accepted")
	}
}
