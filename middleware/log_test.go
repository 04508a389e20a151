package middleware

import (
	"bytes"
	"log/slog"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// logBuffer keeps what a slog handler writes.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string { l.mu.Lock(); defer l.mu.Unlock(); return l.b.String() }

// TestGuardLogsRefusals: 401s are logged at Debug, 403s at Info, without
// the token; a flood of refusals writes a bounded number of bytes.
func TestGuardLogsRefusals(t *testing.T) {
	out := &logBuffer{}
	g, err := New(testTokens, Options{Logger: slog.New(slog.NewTextHandler(out, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	if err != nil {
		t.Fatal(err)
	}
	h := g.Require("write")(okHandler)
	send := func(token, path string) {
		r := httptest.NewRequest("GET", path, nil)
		r.Header.Set("Authorization", "Bearer "+token)
		h.ServeHTTP(httptest.NewRecorder(), r)
	}
	send("okat_secret-token-value", "/api")
	send("read", "/api")
	logs := out.String()
	if !strings.Contains(logs, "level=DEBUG") || !strings.Contains(logs, "status=401") || !strings.Contains(logs, "error=invalid_token") {
		t.Errorf("no Debug record of the 401: %s", logs)
	}
	if !strings.Contains(logs, "level=INFO") || !strings.Contains(logs, "status=403") || !strings.Contains(logs, "scope=write") {
		t.Errorf("no Info record of the 403: %s", logs)
	}
	if strings.Contains(logs, "secret-token-value") {
		t.Fatalf("a token value reached the log: %s", logs)
	}
	const n = 5000
	long := "/" + strings.Repeat("p", 4000)
	for range n {
		send("okat_guess", long)
	}
	if size := len(out.String()); size > 16<<10 {
		t.Fatalf("%d refused requests wrote %d bytes of log", n, size)
	}
}
