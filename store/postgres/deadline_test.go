package postgres_test

import (
	"context"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/oauthkit/oauthkit/internal/faultproxy"
	"github.com/oauthkit/oauthkit/internal/testservices"
	"github.com/oauthkit/oauthkit/store"
	"github.com/oauthkit/oauthkit/store/postgres"
)

// TestCallDeadline: with the server silent, a call holds no longer than
// its context's deadline, whether it waits on the server or, behind it,
// for the pool's one connection.
func TestCallDeadline(t *testing.T) {
	dsn := testservices.Postgres(t)
	pool := testPool(t)
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	proxy, err := faultproxy.Start(u.Host)
	if err != nil {
		t.Fatal(err)
	}
	defer proxy.Close()
	u.Host = proxy.Addr()
	q := u.Query()
	q.Set("pool_max_conns", "1")
	u.RawQuery = q.Encode()
	s, err := postgres.Open(t.Context(), u.String(), postgres.WithSchema(newSchema(t, pool)), postgres.WithCleanupInterval(0))
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
	var wg sync.WaitGroup
	for i := range 3 {
		wg.Go(func() {
			ctx, cancel := context.WithTimeout(t.Context(), deadline)
			defer cancel()
			start := time.Now()
			_, err := s.ConsumeToken(ctx, h)
			took := time.Since(start)
			if err == nil || err == store.ErrNotFound {
				t.Errorf("call %d with the server silent: %v", i, err)
			}
			if took > deadline+300*time.Millisecond {
				t.Errorf("call %d with the server silent took %v, want about its %v deadline", i, took, deadline)
			}
		})
	}
	wg.Wait()
	proxy.Drop() // else closing the pool waits for its silent connections (15 s each)
}
