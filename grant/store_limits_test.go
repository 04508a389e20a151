package grant

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/oauthkit/oauthkit/internal/bulkhead"
	"github.com/oauthkit/oauthkit/internal/throttle"
	"github.com/oauthkit/oauthkit/store"
	"github.com/oauthkit/oauthkit/store/memory"
)

// remote is a memory store that does not say it is in process
// (store.Local), as a network store would not: the Provider guards it.
type remote struct {
	store.TokenStore
	store.ClientStore
	store.AttemptCounter
}

// TestStoreLimitsDefaults: 2 s and 256 calls per store by default;
// negative limits are refused.
func TestStoreLimitsDefaults(t *testing.T) {
	f := newFixture(t)
	if l := f.p.cfg.Store; l.Timeout != 2*time.Second || l.MaxInFlight != 256 {
		t.Errorf("defaults %+v, want 2s and 256", l)
	}
	for _, l := range []StoreLimits{{Timeout: -1}, {MaxInFlight: -1}} {
		cfg := Config{Issuer: "https://as.example", Clients: f.st, Tokens: f.st, Store: l}
		if _, err := NewProvider(cfg); err == nil {
			t.Errorf("Store %+v accepted", l)
		}
	}
}

// TestStoresGuarded: an in-process store (store.Local) is called directly,
// with no deadline of its own and no request budget; any other is guarded,
// its capabilities too (here the throttle's counter), and one object
// serving as several stores shares one bulkhead.
func TestStoresGuarded(t *testing.T) {
	f := newFixture(t)
	if _, ok := f.p.tokens.(*memory.Store); !ok || f.p.budget != 0 {
		t.Errorf("the memory store is guarded: %T, budget %v", f.p.tokens, f.p.budget)
	}
	if _, ok := f.p.cfg.Throttle.Counter.(*throttle.Table); !ok {
		t.Errorf("the in-process throttle table is wrapped: %T", f.p.cfg.Throttle.Counter)
	}
	g := newFixture(t, func(c *Config) {
		st := c.Tokens.(*memory.Store)
		r := &remote{st, st, throttle.NewTable(0)}
		c.Tokens, c.Clients = r, r
	})
	tokens, ok := g.p.tokens.(guardedTokens)
	if !ok || g.p.budget != 3*time.Second {
		t.Fatalf("a remote store: %T, budget %v; want it guarded, 3s", g.p.tokens, g.p.budget)
	}
	clients, ok := g.p.clients.(guardedClients)
	counter, ok2 := g.p.cfg.Throttle.Counter.(guardedCounter)
	if !ok || !ok2 || clients.b != tokens.b || counter.b != tokens.b {
		t.Errorf("one remote object as tokens, clients and counter: %T %T, want one bulkhead", g.p.clients, g.p.cfg.Throttle.Counter)
	}
	if g.p.exchanger != nil {
		t.Error("an Exchanger found on a store without one")
	}
	if r := g.passwordGrant(appClient, ""); r.status != 200 {
		t.Fatalf("through the guard: %d %s", r.status, r.raw)
	}
}

// TestUnavailableAnswers: a store call the bulkhead failed or refused is
// answered 503 temporarily_unavailable with Retry-After: 1, at every
// endpoint's error path, and logged by the bulkhead, not per request.
func TestUnavailableAnswers(t *testing.T) {
	for _, err := range []error{
		errors.Join(bulkhead.ErrUnavailable, context.DeadlineExceeded),
		bulkhead.ErrFull,
	} {
		e, known := asError(err)
		if !known || e.Status != http.StatusServiceUnavailable || e.Code != CodeTemporarilyUnavailable || e.retryAfter != time.Second {
			t.Errorf("asError(%v) = %+v, %v; want 503 temporarily_unavailable, Retry-After 1 s", err, e, known)
		}
	}
	if e, known := asError(errors.New("a bug")); known || e.Status != http.StatusInternalServerError {
		t.Errorf("an unknown error: %+v, %v; want 500, unknown", e, known)
	}
}
