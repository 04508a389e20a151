package redis_test

import (
	"io"
	"os"
	"strings"
	"syscall"
	"testing"

	"github.com/oauthkit/oauthkit/store/redis"
)

// TestOpenQuiet: a refused connection is Open's one error; go-redis's own
// log lines (its package logger writes to file descriptor 2) are not
// printed.
func TestOpenQuiet(t *testing.T) {
	got := captureFD2(t, func() {
		_, err := redis.Open(t.Context(), "redis://127.0.0.1:1/0")
		if err == nil || !strings.Contains(err.Error(), "connection refused") {
			t.Errorf("Open of a closed port: %v", err)
		}
	})
	if got != "" {
		t.Errorf("printed to stderr:\n%s", got)
	}
}

// captureFD2 runs f with file descriptor 2 pointing into a pipe, and
// returns what was written to it.
func captureFD2(t *testing.T, f func()) string {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	saved, err := syscall.Dup(2)
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Dup3(int(w.Fd()), 2, 0); err != nil {
		t.Fatal(err)
	}
	done := make(chan string)
	go func() {
		b, _ := io.ReadAll(r)
		done <- string(b)
	}()
	f()
	_ = syscall.Dup3(saved, 2, 0)
	syscall.Close(saved)
	w.Close()
	return <-done
}
