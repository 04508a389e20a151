package testservices

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"
)

func TestProbeRedis(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	if err := probeRedis(ctx, Blackhole(t)); err == nil {
		t.Fatal("a server that never answers passed the probe")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		c, err := l.Accept()
		if err == nil {
			c.Write([]byte("-NOAUTH Authentication required.\r\n"))
			c.Close()
		}
	}()
	if err := probeRedis(context.Background(), l.Addr().String()); err == nil || !strings.Contains(err.Error(), "NOAUTH") {
		t.Fatalf("a server wanting a password: %v", err)
	}
}

func TestReportOnlyAfterSkip(t *testing.T) {
	if line := report(); line != "" {
		t.Fatalf("report before any skip: %q", line)
	}
	s := &service{name: "X", env: "X_ENV", def: "127.0.0.1:1", probe: probeRedis}
	t.Run("skips", func(t *testing.T) {
		s.find(t)
		t.Fatal("not skipped")
	})
	if !s.skipped || !strings.Contains(s.why, "X_ENV is unset") {
		t.Fatalf("skip not recorded: %+v", s)
	}
}
