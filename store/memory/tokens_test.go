package memory

import (
	"context"
	"errors"
	"fmt"
	"slices"
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
		metas += len(sh.byHash)
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

// TestMetaKeyLists checks that tokens whose scope or audience lists differ
// only in how their elements are cut never share an interned meta.
func TestMetaKeyLists(t *testing.T) {
	s := New()
	ctx := context.Background()
	exp := time.Now().Add(time.Hour)
	toks := []store.Token{
		{Scopes: []string{"a", "b"}, Audience: []string{"https://a.example/", "x"}},
		{Scopes: []string{"other"}},
		{Scopes: []string{"a\x00b"}, Audience: []string{"https://a.example/", "x"}},
		{Scopes: []string{"a", "b"}, Audience: []string{"https://a.example/\x00x"}},
		{Scopes: []string{"1:a"}},
		{Scopes: []string{"1:a", ""}},
	}
	n := 0
	for i := range toks {
		// All in shard 0: metas are interned per shard.
		for ; s.shard(store.HashSecret(fmt.Sprint(n))) != &s.shards[0]; n++ {
		}
		toks[i].Hash = store.HashSecret(fmt.Sprint(n))
		n++
		toks[i].Kind, toks[i].ClientID, toks[i].ExpiresAt = store.KindAccess, "c", exp
		if err := s.CreateToken(ctx, &toks[i]); err != nil {
			t.Fatal(err)
		}
	}
	for i, want := range toks {
		got, err := s.Token(ctx, want.Hash)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got.Scopes, want.Scopes) || !slices.Equal(got.Audience, want.Audience) {
			t.Errorf("token %d: scopes %q audience %q, want %q %q", i, got.Scopes, got.Audience, want.Scopes, want.Audience)
		}
	}
}

// TestMetaHashCollision makes a token's meta hash collide with another
// meta's: the token gets a meta of its own, and sweeping it leaves the other
// meta's index entry alone.
func TestMetaHashCollision(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	s := New(WithClock(func() time.Time { return now }))
	ctx := context.Background()
	sh := &s.shards[0]
	n := 0
	hashInShard0 := func() store.Hash {
		for ; s.shard(store.HashSecret(fmt.Sprint(n))) != sh; n++ {
		}
		n++
		return store.HashSecret(fmt.Sprint(n - 1))
	}
	a := store.Token{Hash: hashInShard0(), Kind: store.KindAccess, ClientID: "a", Audience: []string{"https://a.example/"},
		ExpiresAt: now.Add(time.Hour)}
	b := store.Token{Hash: hashInShard0(), Kind: store.KindAccess, ClientID: "b", JKT: "jkt-b", AuthTime: now,
		ExpiresAt: now.Add(time.Minute)}
	if err := s.CreateToken(ctx, &a); err != nil {
		t.Fatal(err)
	}
	ia := sh.slots[sh.index[a.Hash]].meta
	hb := (&meta{clientID: b.ClientID, jkt: b.JKT, authTime: nanos(b.AuthTime)}).hash(sh.seed)
	sh.byHash[hb] = ia // as if b's fields hashed like a's
	sh.last = ^uint32(0)
	if err := s.CreateToken(ctx, &b); err != nil {
		t.Fatal(err)
	}
	if sh.slots[sh.index[b.Hash]].meta == ia {
		t.Fatal("a colliding token shares the other meta")
	}
	for _, want := range []store.Token{a, b} {
		got, err := s.Token(ctx, want.Hash)
		if err != nil || got.ClientID != want.ClientID || got.JKT != want.JKT || !slices.Equal(got.Audience, want.Audience) ||
			!got.AuthTime.Equal(want.AuthTime) {
			t.Errorf("Token(%s) = %+v, %v", want.ClientID, got, err)
		}
	}
	now = now.Add(2 * time.Minute) // b expires; the next write sweeps it
	c := store.Token{Hash: hashInShard0(), Kind: store.KindAccess, ClientID: "c", ExpiresAt: now.Add(time.Hour)}
	if err := s.CreateToken(ctx, &c); err != nil {
		t.Fatal(err)
	}
	if _, ok := sh.index[b.Hash]; ok {
		t.Fatal("b was not swept")
	}
	if i, ok := sh.byHash[hb]; !ok || i != ia {
		t.Errorf("sweeping the colliding token dropped the other meta's entry")
	}
	if got, err := s.Token(ctx, a.Hash); err != nil || got.ClientID != "a" {
		t.Errorf("Token(a) after the sweep = %+v, %v", got, err)
	}
}
