package memory

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/oauthkit/oauthkit/store"
)

// TestSweepReleasesEverything checks that expired tokens leave the store
// entirely — slots, interned metas, families — through writes alone, and
// that slots are reused.
func TestSweepReleasesEverything(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	s := New(WithClock(func() time.Time { return now }))
	ctx := context.Background()
	const n = 2000
	for i := range n {
		tok := &store.Token{
			Hash: store.HashSecret(fmt.Sprint("old", i)), Kind: store.KindRefresh, Family: fmt.Sprint("fam", i%100),
			ClientID: "c", Subject: fmt.Sprint(i % 10), Scopes: []string{"read"},
			IssuedAt: now, ExpiresAt: now.Add(time.Minute), CodeChallenge: fmt.Sprint("challenge", i),
		}
		if err := s.CreateToken(ctx, tok); err != nil {
			t.Fatal(err)
		}
	}
	if s.Len() != n || len(s.families) != 100 {
		t.Fatalf("Len %d, families %d", s.Len(), len(s.families))
	}
	slotsBefore := 0
	for i := range s.shards {
		slotsBefore += len(s.shards[i].slots)
	}
	now = now.Add(2 * time.Minute)
	// Each write sweeps a few expired entries of its shard.
	for i := range 4 * n {
		tok := &store.Token{Hash: store.HashSecret(fmt.Sprint("new", i)), Kind: store.KindAccess, ClientID: "c",
			IssuedAt: now, ExpiresAt: now.Add(time.Hour)}
		if err := s.CreateToken(ctx, tok); err != nil {
			t.Fatal(err)
		}
	}
	if got := s.Len(); got != 4*n {
		t.Fatalf("Len %d after sweeping, want %d", got, 4*n)
	}
	if len(s.families) != 0 {
		t.Fatalf("%d families kept after all their tokens expired", len(s.families))
	}
	metas, slots := 0, 0
	for i := range s.shards {
		sh := &s.shards[i]
		metas += len(sh.byKey)
		slots += len(sh.slots)
	}
	// One meta per shard for the new tokens (same client, no user, no scopes).
	if metas > shardCount {
		t.Fatalf("%d interned metas kept, want at most %d", metas, shardCount)
	}
	if slots > 4*n+slotsBefore/2 {
		t.Fatalf("%d slots for %d tokens: expired slots not reused", slots, 4*n)
	}
	if _, err := s.Token(ctx, store.HashSecret("old1")); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("expired token: %v", err)
	}
}

// TestSharedMetaIsolation checks that tokens sharing an interned meta do not
// see each other's changes, and that stored scopes are copies.
func TestSharedMetaIsolation(t *testing.T) {
	s := New()
	ctx := context.Background()
	scopes := []string{"read", "write"}
	exp := time.Now().Add(time.Hour)
	for i := range 2 {
		if err := s.CreateToken(ctx, &store.Token{Hash: store.HashSecret(fmt.Sprint(i)), Kind: store.KindAccess, ClientID: "c", Scopes: scopes, ExpiresAt: exp}); err != nil {
			t.Fatal(err)
		}
	}
	scopes[0] = "admin"
	if _, err := s.ConsumeToken(ctx, store.HashSecret("0")); err != nil {
		t.Fatal(err)
	}
	tok, err := s.Token(ctx, store.HashSecret("1"))
	if err != nil || tok.Scopes[0] != "read" {
		t.Fatalf("second token: %+v, %v", tok, err)
	}
	if !tok.ConsumedAt.IsZero() {
		t.Fatal("consuming one token marked its meta-sharing sibling")
	}
}
