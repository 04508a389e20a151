package main

import (
	"bytes"
	"context"
	"errors"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/oauthkit/oauthkit/internal/testservices"
)

// TestBadStoreAddressFailsFast: -store naming a server that accepts
// connections and never answers fails within a few seconds (the stores'
// default connect timeout, 5 s), as does one that refuses them, or a SQLite
// file in a missing directory: exit status 1 and one plain line on stderr,
// ours, with no password and none of go-redis's own log lines before it.
func TestBadStoreAddressFailsFast(t *testing.T) {
	bin := exampleBinary(t)
	hole := testservices.Blackhole(t)
	for name, c := range map[string]struct{ spec, want string }{
		"postgres silent":  {"postgres://u:hunter2@" + hole + "/db", "postgres: no answer from the server within 5s"},
		"redis silent":     {"redis://:hunter2@" + hole + "/0", "redis: no answer from " + hole + " within 5s"},
		"redis refused":    {"redis://:hunter2@127.0.0.1:1/0", "connection refused"},
		"postgres refused": {"postgres://u:hunter2@127.0.0.1:1/db", "connection refused"},
		"sqlite no dir":    {"sqlite:" + filepath.Join(t.TempDir(), "missing", "oauthkit.db"), "missing does not exist"},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second) // a bound for the test only
			defer cancel()
			var stderr bytes.Buffer
			cmd := exec.CommandContext(ctx, bin, "-addr", "127.0.0.1:0", "-store", c.spec)
			cmd.Stderr = &stderr
			start := time.Now()
			err := cmd.Run()
			took := time.Since(start)
			var exit *exec.ExitError
			if !errors.As(err, &exit) || exit.ExitCode() != 1 {
				t.Fatalf("exit: %v; stderr:\n%s", err, stderr.String())
			}
			if took > 8*time.Second {
				t.Errorf("took %v", took)
			}
			lines := strings.Split(strings.TrimSpace(stderr.String()), "\n")
			if !strings.HasPrefix(lines[0], "example: ") || !strings.Contains(stderr.String(), c.want) || strings.Contains(stderr.String(), "hunter2") {
				t.Errorf("stderr:\n%s", stderr.String())
			}
			for _, l := range lines[1:] {
				if !strings.HasPrefix(l, "\t") { // pgx lists each address tried on a line of its own
					t.Errorf("stderr has more than our error:\n%s", stderr.String())
					break
				}
			}
		})
	}
}
