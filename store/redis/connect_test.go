package redis_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/oauthkit/oauthkit/internal/testservices"
	"github.com/oauthkit/oauthkit/store/redis"
)

// TestOpenTimesOut: a server that accepts the connection and never answers
// makes Open fail within its connect timeout, with a message that says so.
func TestOpenTimesOut(t *testing.T) {
	addr := testservices.Blackhole(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second) // a bound for the test, not the one tested
	defer cancel()
	start := time.Now()
	s, err := redis.Open(ctx, "redis://:hunter2@"+addr+"/0", redis.WithConnectTimeout(300*time.Millisecond))
	if err == nil {
		s.Close()
		t.Fatal("opened")
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("Open took %v", d)
	}
	if msg := err.Error(); !strings.HasPrefix(msg, "redis: ") || !strings.Contains(msg, "no answer from "+addr+" within 300ms") || strings.Contains(msg, "hunter2") {
		t.Errorf("error %q", msg)
	}
}
