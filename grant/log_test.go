package grant

import (
	"bytes"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
)

// countingWriter counts the bytes written to it and keeps the last write.
type countingWriter struct {
	mu   sync.Mutex
	n    int
	last []byte
}

func (c *countingWriter) Write(b []byte) (int, error) {
	c.mu.Lock()
	c.n += len(b)
	c.last = append(c.last[:0], b...)
	c.mu.Unlock()
	return len(b), nil
}

// TestRefusalLogsBounded: thousands of throttled requests write a few
// kilobytes of log, not one line each (issue 9, item 5), and a refused
// request logs only a short escaped prefix of what the client sent.
func TestRefusalLogsBounded(t *testing.T) {
	out := &countingWriter{}
	f := newFixture(t, func(c *Config) {
		c.ClientAddr = testAddr
		c.Logger = slog.New(slog.NewTextHandler(out, &slog.HandlerOptions{Level: slog.LevelDebug}))
	})
	h := f.p.LoginHandler()
	const n = 5000
	for range n {
		loginRequest(h, "192.0.2.99", "user1", "guess")
	}
	const bound = 16 << 10
	if out.n > bound {
		t.Fatalf("%d throttled logins wrote %d bytes of log, bound %d", n, out.n, bound)
	}
	t.Logf("%d refused logins: %d bytes of log", n, out.n)

	// A long, hostile client_id is cut short and escaped.
	long := "evil\x00\n" + strings.Repeat("A", 10_000)
	tok := f.p.TokenHandler()
	r := httptest.NewRequest("POST", "/oauth/token", strings.NewReader(url.Values{"grant_type": {"client_credentials"}, "client_id": {long}, "client_secret": {"x"}}.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	tok.ServeHTTP(httptest.NewRecorder(), r)
	line := out.last
	if len(line) > 600 || bytes.Contains(line, []byte("evil\x00")) || bytes.Count(line, []byte("\n")) != 1 || !bytes.Contains(line, []byte(`evil\x00\n`)) {
		t.Fatalf("refusal log line of %d bytes: %.300q", len(line), line)
	}
	if e := lastEvent(f); len(e.ClientID) > 200 || strings.ContainsAny(e.ClientID, "\x00\n") {
		t.Fatalf("refusal event carries %d bytes of client_id: %.80q", len(e.ClientID), e.ClientID)
	}
}

// lastEvent drains the fixture's events and returns the last.
func lastEvent(f *fixture) Event {
	var e Event
	for {
		select {
		case e = <-f.events:
		default:
			return e
		}
	}
}

// TestIssuedTokensLogged: every token response is logged at Info, with the
// client, subject and scope but no token value.
func TestIssuedTokensLogged(t *testing.T) {
	out := &countingWriter{}
	f := newFixture(t, func(c *Config) { c.Logger = slog.New(slog.NewTextHandler(out, nil)) })
	r := f.post("/oauth/token", url.Values{"grant_type": {"client_credentials"}}, svcClient, f.secrets[svcClient])
	if r.status != http.StatusOK {
		t.Fatal(r.raw)
	}
	line := string(out.last)
	if !strings.Contains(line, "level=INFO") || !strings.Contains(line, "token issued") || !strings.Contains(line, "client_id="+svcClient) ||
		strings.Contains(line, r.str("access_token")) || strings.Contains(line, f.secrets[svcClient]) {
		t.Fatalf("issuance log line: %s", line)
	}
}
