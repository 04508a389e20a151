package judges

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// Script is a judge script running, for a test that must act while the
// script waits (a user approving the device the script polls for): it
// reads the script's standard output line by line.
type Script struct {
	t      testing.TB
	name   string
	lines  chan string
	done   chan struct{}
	err    error
	mu     sync.Mutex
	stderr strings.Builder
}

// Start starts the judge script as Run does, and returns at once. The
// script is killed when ctx ends or the test does; call Wait to see it
// end well.
func Start(ctx context.Context, t testing.TB, node, script string, env ...string) *Script {
	t.Helper()
	cmd := exec.CommandContext(ctx, node, filepath.Join(Dir(), script))
	cmd.Dir = Dir()
	cmd.Env = append(os.Environ(), env...)
	s := &Script{t: t, name: script, lines: make(chan string, 64), done: make(chan struct{})}
	cmd.Stderr = writerFunc(func(p []byte) (int, error) {
		s.mu.Lock()
		defer s.mu.Unlock()
		return s.stderr.Write(p)
	})
	out, err := cmd.StdoutPipe()
	if err == nil {
		err = cmd.Start()
	}
	if err != nil {
		t.Fatalf("judges: %s: %v", script, err)
	}
	go func() {
		sc := bufio.NewScanner(out)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			s.lines <- sc.Text()
		}
		close(s.lines)
		s.err = cmd.Wait()
		close(s.done)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		go func() {
			for range s.lines { // unread output would keep the reader waiting
			}
		}()
		<-s.done
	})
	return s
}

// Line returns the script's next line of output, failing the test if the
// script ends first or none comes within timeout.
func (s *Script) Line(timeout time.Duration) string {
	s.t.Helper()
	select {
	case l, ok := <-s.lines:
		if ok {
			return l
		}
		<-s.done
		s.t.Fatalf("judges: %s ended without the line expected (%v)\nstderr:\n%s", s.name, s.err, s.errText())
	case <-time.After(timeout):
		s.t.Fatalf("judges: %s printed nothing for %v\nstderr:\n%s", s.name, timeout, s.errText())
	}
	return ""
}

// Wait waits for the script to end, and fails the test unless it ended
// well, with nothing left unread.
func (s *Script) Wait() {
	s.t.Helper()
	var rest []string
	for l := range s.lines {
		rest = append(rest, l)
	}
	<-s.done
	if s.err != nil || len(rest) > 0 {
		s.t.Fatalf("judges: %s: %v\nunread output:\n%s\nstderr:\n%s", s.name, s.err, strings.Join(rest, "\n"), s.errText())
	}
}

func (s *Script) errText() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stderr.String()
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }
