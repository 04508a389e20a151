package middleware_test

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/oauthkit/oauthkit/middleware"
)

// quiet discards the validator's log.
func quiet(c *middleware.JWKSConfig) { c.Logger = slog.New(slog.DiscardHandler) }

// gatedJWKS serves keys, holding each request until release is closed,
// and reports on arrived when one comes in.
type gatedJWKS struct {
	srv     *httptest.Server
	arrived chan struct{}
	release chan struct{}
	fetches atomic.Int32
}

func newGatedJWKS(t *testing.T, keys ...testKey) *gatedJWKS {
	g := &gatedJWKS{arrived: make(chan struct{}, 100), release: make(chan struct{})}
	set := jose.JSONWebKeySet{}
	for _, k := range keys {
		set.Keys = append(set.Keys, k.jwk())
	}
	g.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		g.fetches.Add(1)
		g.arrived <- struct{}{}
		select {
		case <-g.release:
		case <-r.Context().Done():
			return
		}
		_ = json.NewEncoder(w).Encode(set)
	}))
	t.Cleanup(g.srv.Close)
	return g
}

// TestJWKSFetchOutlivesCanceledRequest: the request that triggers a key set
// fetch may be cancelled (the client went away); the fetch goes on, on its
// own context, and the next request finds the keys. Before, the cancelled
// fetch counted as the last attempt and every request for the next
// MinRefreshInterval got 500.
func TestJWKSFetchOutlivesCanceledRequest(t *testing.T) {
	k := newTestKey(t, "k1", jose.EdDSA)
	g := newGatedJWKS(t, k)
	clk := &tclock{t: t0.Add(time.Minute)}
	v := newJWKSValidator(t, &jwksServer{srv: g.srv}, clk, quiet)
	tok := sign(t, k, goodClaims(), nil)

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := v.ValidateToken(ctx, tok)
		done <- err
	}()
	<-g.arrived
	cancel()
	// The cancelled request returns at once, while the fetch is held.
	if err := <-done; err == nil || errors.Is(err, middleware.ErrInvalidToken) {
		t.Fatalf("cancelled request: %v, want a validator failure", err)
	}
	close(g.release)
	if _, err := v.ValidateToken(context.Background(), tok); err != nil {
		t.Fatalf("the next request: %v", err)
	}
	if n := g.fetches.Load(); n != 1 {
		t.Errorf("%d fetches, want 1", n)
	}
}

// TestJWKSConcurrentFetchesCollapsed: 50 requests with a kid the validator
// has not seen make one fetch between them, and all succeed.
func TestJWKSConcurrentFetchesCollapsed(t *testing.T) {
	k := newTestKey(t, "k1", jose.EdDSA)
	g := newGatedJWKS(t, k)
	clk := &tclock{t: t0.Add(time.Minute)}
	v := newJWKSValidator(t, &jwksServer{srv: g.srv}, clk, func(c *middleware.JWKSConfig) { c.CacheSize = -1 })
	tok := sign(t, k, goodClaims(), nil)
	var started, wg sync.WaitGroup
	errs := make(chan error, 50)
	for range 50 {
		started.Add(1)
		wg.Add(1)
		go func() {
			defer wg.Done()
			started.Done()
			_, err := v.ValidateToken(context.Background(), tok)
			errs <- err
		}()
	}
	started.Wait()
	<-g.arrived
	close(g.release)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("a request failed: %v", err)
		}
	}
	if n := g.fetches.Load(); n != 1 {
		t.Errorf("%d fetches for 50 concurrent requests, want 1", n)
	}
}

// TestJWKSFailedFetchBacksOff: after a failed fetch the validator waits a
// short, growing, bounded backoff — not MinRefreshInterval — so that a
// server that recovers is used within about a second; and a server that
// stays down is not hammered.
func TestJWKSFailedFetchBacksOff(t *testing.T) {
	k := newTestKey(t, "k1", jose.EdDSA)
	s := newJWKSServer(t, k)
	s.fail.Store(true)
	start := t0.Add(time.Minute)
	clk := &tclock{t: start}
	v := newJWKSValidator(t, s, clk, quiet)
	tok := sign(t, k, goodClaims(), nil)
	ctx := context.Background()
	fail := func(when time.Duration, fetches int32) {
		t.Helper()
		clk.Set(start.Add(when))
		if _, err := v.ValidateToken(ctx, tok); err == nil || errors.Is(err, middleware.ErrInvalidToken) {
			t.Fatalf("at %v: %v, want a validator failure", when, err)
		}
		if n := s.fetches.Load(); n != fetches {
			t.Fatalf("at %v: %d fetches, want %d", when, n, fetches)
		}
	}
	fail(0, 1)                     // fails, backs off 1 s
	fail(500*time.Millisecond, 1)  // within the backoff: no fetch
	fail(time.Second, 2)           // fails again, backs off 2 s
	fail(2500*time.Millisecond, 2) // within it
	fail(3*time.Second, 3)         // fails, backs off 4 s
	s.fail.Store(false)
	clk.Set(start.Add(7 * time.Second)) // the backoff, far less than MinRefreshInterval (30 s)
	if _, err := v.ValidateToken(ctx, tok); err != nil {
		t.Fatalf("after the backoff, with the server back: %v", err)
	}
	if n := s.fetches.Load(); n != 4 {
		t.Errorf("%d fetches, want 4", n)
	}
}

// TestJWKSBackoffBounded: however long the server stays down, the wait
// between attempts never exceeds MinRefreshInterval.
func TestJWKSBackoffBounded(t *testing.T) {
	k := newTestKey(t, "k1", jose.EdDSA)
	s := newJWKSServer(t, k)
	s.fail.Store(true)
	now := t0.Add(time.Minute)
	clk := &tclock{t: now}
	v := newJWKSValidator(t, s, clk, quiet, func(c *middleware.JWKSConfig) { c.MinRefreshInterval = 10 * time.Second })
	tok := sign(t, k, goodClaims(), nil)
	for i := range 20 {
		before := s.fetches.Load()
		_, _ = v.ValidateToken(context.Background(), tok)
		if s.fetches.Load() != before+1 {
			t.Fatalf("attempt %d: no fetch %v after the previous one", i, 10*time.Second)
		}
		now = now.Add(10 * time.Second)
		clk.Set(now)
	}
}

// TestJWKSFetchTimeout: a key set server that never answers costs a
// request at most FetchTimeout, whatever the HTTP client's own timeout.
func TestJWKSFetchTimeout(t *testing.T) {
	hang := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-hang:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(func() { close(hang); srv.Close() })
	k := newTestKey(t, "k1", jose.EdDSA)
	clk := &tclock{t: t0.Add(time.Minute)}
	v := newJWKSValidator(t, &jwksServer{srv: srv}, clk, quiet, func(c *middleware.JWKSConfig) {
		c.HTTPClient = &http.Client{} // no timeout of its own
		c.FetchTimeout = 50 * time.Millisecond
	})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	_, err := v.ValidateToken(ctx, sign(t, k, goodClaims(), nil))
	if err == nil || errors.Is(err, middleware.ErrInvalidToken) || ctx.Err() != nil {
		t.Fatalf("err = %v, ctx.Err() = %v; want a validator failure well before the request's own deadline", err, ctx.Err())
	}
}
