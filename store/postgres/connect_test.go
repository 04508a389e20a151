package postgres_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/oauthkit/oauthkit/internal/testservices"
	"github.com/oauthkit/oauthkit/store/postgres"
)

// TestOpenTimesOut: a server that accepts the connection and never answers
// makes Open fail within its connect timeout (WithConnectTimeout, or the
// DSN's connect_timeout, which wins), with a message that says so and
// shows no password; without one, Open would wait for ever.
func TestOpenTimesOut(t *testing.T) {
	addr := testservices.Blackhole(t)
	for name, c := range map[string]struct {
		dsn  string
		opts []postgres.Option
	}{
		"option": {"postgres://u:hunter2@" + addr + "/db", []postgres.Option{postgres.WithConnectTimeout(300 * time.Millisecond)}},
		"dsn":    {"postgres://u:hunter2@" + addr + "/db?connect_timeout=1", []postgres.Option{postgres.WithConnectTimeout(time.Hour)}},
	} {
		t.Run(name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second) // a bound for the test, not the one tested
			defer cancel()
			start := time.Now()
			s, err := postgres.Open(ctx, c.dsn, c.opts...)
			if err == nil {
				s.Close()
				t.Fatal("opened")
			}
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("Open took %v", d)
			}
			if msg := err.Error(); !strings.HasPrefix(msg, "postgres: ") || !strings.Contains(msg, "no answer from the server within") || strings.Contains(msg, "hunter2") {
				t.Errorf("error %q", msg)
			}
		})
	}
}
