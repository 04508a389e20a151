package storetest

import (
	"context"
	"errors"
	"testing"

	"github.com/oauthkit/oauthkit/store"
)

// testPing checks store.Pinger, for a store that implements it: nil from a
// working store, the context's error once it is canceled.
func testPing(t *testing.T, s Store) {
	p, ok := s.(store.Pinger)
	if !ok {
		t.Skip("store does not implement store.Pinger")
	}
	if err := p.Ping(t.Context()); err != nil {
		t.Fatalf("Ping: %v", err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := p.Ping(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("Ping with a canceled context: %v, want context.Canceled", err)
	}
}
