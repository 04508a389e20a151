package redis_test

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/oauthkit/oauthkit/store"
	"github.com/oauthkit/oauthkit/store/redis"
	"github.com/oauthkit/oauthkit/store/storetest"
)

// roundTrips is a go-redis hook that counts the client's calls: a command
// or a pipeline (on a cluster, one per node, in parallel) is one wait for
// the network.
type roundTrips struct{ n atomic.Int64 }

func (r *roundTrips) DialHook(next goredis.DialHook) goredis.DialHook { return next }

func (r *roundTrips) ProcessHook(next goredis.ProcessHook) goredis.ProcessHook {
	return func(ctx context.Context, cmd goredis.Cmder) error {
		r.n.Add(1)
		return next(ctx, cmd)
	}
}

func (r *roundTrips) ProcessPipelineHook(next goredis.ProcessPipelineHook) goredis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []goredis.Cmder) error {
		r.n.Add(1)
		return next(ctx, cmds)
	}
}

// hooked is a client that roundTrips can be added to.
type hooked interface {
	goredis.UniversalClient
	AddHook(goredis.Hook)
}

// TestRoundTrips counts the round trips of each token operation on one
// server and on the cluster: Token (the validation path), ConsumeToken,
// RevokeToken and Ping are one on both; on the cluster CreateToken is two
// (the tokens, then their family and client indexes in parallel),
// Exchange three (the consumption, then CreateToken's two), and
// RevokeFamily and each batch of RevokeClient three (the mark or the
// index; the tokens, in parallel; the index and the announcement).
func TestRoundTrips(t *testing.T) {
	single := goredis.NewClient(&goredis.Options{Addr: testClient(t).Options().Addr})
	t.Cleanup(func() { single.Close() })
	for _, tc := range []struct {
		name     string
		rdb      hooked
		prefix   func() string
		create   int64 // CreateToken's round trips
		revoke   int64 // RevokeFamily's and RevokeClient's
		exchange int64 // Exchange's
	}{
		{"one server", single, func() string { return newPrefix(t, testClient(t)) }, 1, 1, 1},
		{"cluster", clusterClient(t, "", nil), func() string { return newClusterPrefix(t, clusterClient(t, "", nil)) }, 2, 3, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := t.Context()
			rt := &roundTrips{}
			tc.rdb.AddHook(rt)
			s, err := redis.New(ctx, tc.rdb, redis.WithPrefix(tc.prefix()), quiet)
			if err != nil {
				t.Fatal(err)
			}
			fam := "rt-family"
			mk := func(i int, fam string) store.Token {
				return store.Token{Hash: store.HashSecret(fmt.Sprint("rt", i, fam)), Kind: store.KindRefresh, Family: fam, ClientID: "c", ExpiresAt: time.Now().Add(time.Hour)}
			}
			var counts []string
			count := func(op string, want int64, fn func() error) {
				t.Helper()
				before := rt.n.Load()
				if err := fn(); err != nil {
					t.Fatalf("%s: %v", op, err)
				}
				n := rt.n.Load() - before
				counts = append(counts, fmt.Sprintf("%s %d", op, n))
				if n != want {
					t.Errorf("%s: %d round trips, want %d", op, n, want)
				}
			}
			a, b, lone := mk(1, fam), mk(2, fam), mk(3, "")
			count("CreateToken(family)", tc.create, func() error { return s.CreateToken(ctx, &a) })
			count("CreateToken(lone)", tc.create, func() error { return s.CreateToken(ctx, &lone) })
			if err := s.CreateToken(ctx, &b); err != nil {
				t.Fatal(err)
			}
			count("Token", 1, func() error { _, err := s.Token(ctx, a.Hash); return err })
			count("ConsumeToken", 1, func() error { _, err := s.ConsumeToken(ctx, a.Hash); return err })
			count("RevokeToken", 1, func() error { return s.RevokeToken(ctx, lone.Hash) })
			next, next2 := mk(4, fam), mk(5, fam)
			count("Exchange(2 new)", tc.exchange, func() error { _, err := s.Exchange(ctx, b.Hash, &next, &next2); return err })
			count("RevokeFamily(4 tokens)", tc.revoke, func() error { return s.RevokeFamily(ctx, fam) })
			count("RevokeClient(3 indexed)", tc.revoke, func() error { return s.RevokeClient(ctx, "c") })
			count("Ping", 1, func() error { return s.Ping(ctx) })
			t.Logf("round trips: %s", strings.Join(counts, ", "))
		})
	}
}

// BenchmarkClusterStore is BenchmarkStore on the test cluster (three
// masters on this machine).
func BenchmarkClusterStore(b *testing.B) {
	s, _ := newClusterStore(b, clusterClient(b, "", nil))
	storetest.Bench(b, s)
}
