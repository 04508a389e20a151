package redis_test

import (
	"context"
	"testing"
	"time"

	"github.com/oauthkit/oauthkit/internal/faultproxy"
	"github.com/oauthkit/oauthkit/internal/testservices"
	"github.com/oauthkit/oauthkit/store"
	"github.com/oauthkit/oauthkit/store/redis"
)

// TestCallDeadline: a server that stops answering holds a call of a store
// made by Open no longer than the call's deadline, not for go-redis's
// ReadTimeout (3 s): Open's client honours context deadlines.
func TestCallDeadline(t *testing.T) {
	proxy, err := faultproxy.Start(testservices.Redis(t))
	if err != nil {
		t.Fatal(err)
	}
	defer proxy.Close()
	s, err := redis.Open(t.Context(), "redis://"+proxy.Addr()+"/0", redis.WithPrefix(newPrefix(t, testClient(t))))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	h := store.HashSecret("okt_deadline")
	if _, err := s.Token(t.Context(), h); err != store.ErrNotFound {
		t.Fatalf("Token through the proxy: %v", err)
	}
	proxy.Blackhole()
	const deadline = 200 * time.Millisecond
	for _, call := range []struct {
		name string
		fn   func(ctx context.Context) error
	}{
		{"Token", func(ctx context.Context) error { _, err := s.Token(ctx, h); return err }},
		{"ConsumeToken", func(ctx context.Context) error { _, err := s.ConsumeToken(ctx, h); return err }},
	} {
		ctx, cancel := context.WithTimeout(t.Context(), deadline)
		start := time.Now()
		err := call.fn(ctx)
		took := time.Since(start)
		cancel()
		if err == nil || err == store.ErrNotFound {
			t.Fatalf("%s with the server silent: %v", call.name, err)
		}
		if took > deadline+300*time.Millisecond {
			t.Errorf("%s with the server silent took %v, want about its %v deadline", call.name, took, deadline)
		}
	}
}

// TestRefusedFast: a server that refuses connections is told at once, not
// after go-redis's default five dials 100 ms apart for each of the
// command's retries (1.7 s).
func TestRefusedFast(t *testing.T) {
	proxy, err := faultproxy.Start(testservices.Redis(t))
	if err != nil {
		t.Fatal(err)
	}
	defer proxy.Close()
	s, err := redis.Open(t.Context(), "redis://"+proxy.Addr()+"/0", redis.WithPrefix(newPrefix(t, testClient(t))))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	proxy.Refuse()
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
	defer cancel()
	start := time.Now()
	_, err = s.Token(ctx, store.HashSecret("okt_refused"))
	if took := time.Since(start); err == nil || took > 500*time.Millisecond {
		t.Fatalf("Token with the server refusing: %v after %v, want an error within 500ms", err, took)
	}
}
