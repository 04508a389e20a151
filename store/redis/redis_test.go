package redis_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/oauthkit/oauthkit/internal/sharedtest"
	"github.com/oauthkit/oauthkit/internal/testservices"
	"github.com/oauthkit/oauthkit/store"
	"github.com/oauthkit/oauthkit/store/redis"
	"github.com/oauthkit/oauthkit/store/storetest"
)

func TestMain(m *testing.M) { testservices.Main(m) }

// quiet drops the store's log lines: the test servers keep nothing on
// disk, which New warns of (TestDurabilityCheck tests the warning).
var quiet = redis.WithLogger(slog.New(slog.DiscardHandler))

// testClient connects to the test server (testservices.Redis), or skips.
func testClient(t testing.TB) *goredis.Client {
	addr := testservices.Redis(t)
	rdb := goredis.NewClient(&goredis.Options{Addr: addr})
	t.Cleanup(func() { rdb.Close() })
	return rdb
}

// newPrefix returns a fresh key prefix whose keys are deleted when the test
// ends.
func newPrefix(t testing.TB, rdb *goredis.Client) string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	prefix := "oauthkit-test-" + hex.EncodeToString(b) + ":"
	t.Cleanup(func() {
		ctx := context.WithoutCancel(t.Context())
		keys, err := rdb.Keys(ctx, prefix+"*").Result()
		if err == nil && len(keys) > 0 {
			err = rdb.Del(ctx, keys...).Err()
		}
		if err != nil {
			t.Errorf("delete test keys: %v", err)
		}
	})
	return prefix
}

func newStore(t testing.TB, rdb *goredis.Client) (*redis.Store, string) {
	prefix := newPrefix(t, rdb)
	s, err := redis.New(t.Context(), rdb, redis.WithPrefix(prefix), quiet)
	if err != nil {
		t.Fatal(err)
	}
	return s, prefix
}

// dumpable lets the suite see every key under the store's prefix.
type dumpable struct {
	*redis.Store
	rdb    *goredis.Client
	prefix string
}

// Dump returns every key under the prefix with its value.
func (d dumpable) Dump(ctx context.Context) ([]byte, error) {
	keys, err := d.rdb.Keys(ctx, d.prefix+"*").Result()
	if err != nil {
		return nil, err
	}
	slices.Sort(keys)
	var out []byte
	for _, k := range keys {
		var v any
		switch d.rdb.Type(ctx, k).Val() {
		case "hash":
			v, err = d.rdb.HGetAll(ctx, k).Result()
		case "zset":
			v, err = d.rdb.ZRangeWithScores(ctx, k, 0, -1).Result()
		case "set":
			v, err = d.rdb.SMembers(ctx, k).Result()
		default:
			v, err = d.rdb.Get(ctx, k).Result()
		}
		if err != nil && !errors.Is(err, goredis.Nil) {
			return nil, err
		}
		out = fmt.Appendf(out, "%s %v\n", k, v)
	}
	return out, nil
}

func TestConformance(t *testing.T) {
	rdb := testClient(t)
	storetest.Run(t, func(t *testing.T) storetest.Store {
		s, prefix := newStore(t, rdb)
		return dumpable{s, rdb, prefix}
	})
}

// TestExpiry checks that Redis drops a token with its TTL, and that a
// family's revocation mark outlives its shorter tokens but not its longest.
func TestExpiry(t *testing.T) {
	ctx := t.Context()
	rdb := testClient(t)
	s, prefix := newStore(t, rdb)
	now := time.Now()
	short := store.Token{Hash: store.HashSecret("short"), Family: "f", ExpiresAt: now.Add(200 * time.Millisecond)}
	long := store.Token{Hash: store.HashSecret("long"), Family: "f", ExpiresAt: now.Add(time.Hour)}
	for _, tok := range []*store.Token{&short, &long} {
		if err := s.CreateToken(ctx, tok); err != nil {
			t.Fatal(err)
		}
	}
	ttl := rdb.PTTL(ctx, prefix+"family:f").Val()
	if ttl < 59*time.Minute {
		t.Errorf("family key TTL = %v, want the longest token's (1h)", ttl)
	}
	time.Sleep(300 * time.Millisecond)
	if n := rdb.Exists(ctx, prefix+"token:"+hex.EncodeToString(short.Hash[:])).Val(); n != 0 {
		t.Error("expired token key still exists")
	}
	if err := s.RevokeFamily(ctx, "f"); err != nil {
		t.Fatal(err)
	}
	late := store.Token{Hash: store.HashSecret("late"), Family: "f", ExpiresAt: now.Add(time.Hour)}
	if err := s.CreateToken(ctx, &late); !errors.Is(err, store.ErrRevoked) {
		t.Errorf("CreateToken after RevokeFamily = %v, want ErrRevoked", err)
	}
}

// TestRevokeClientIndex checks the per-client index: it lives as long as the
// client's longest token, drops expired entries, and RevokeClient empties it
// in several batches, leaving other clients' tokens alone.
func TestRevokeClientIndex(t *testing.T) {
	ctx := t.Context()
	rdb := testClient(t)
	s, prefix := newStore(t, rdb)
	now := time.Now()
	index := prefix + "client-tokens:c"
	short := store.Token{Hash: store.HashSecret("short"), ClientID: "c", ExpiresAt: now.Add(200 * time.Millisecond)}
	if err := s.CreateToken(ctx, &short); err != nil {
		t.Fatal(err)
	}
	const n = 1200 // more than two batches
	toks := make([]store.Token, n)
	for i := range toks {
		toks[i] = store.Token{Hash: store.HashSecret(fmt.Sprint("tok", i)), Kind: store.KindAccess, ClientID: "c", ExpiresAt: now.Add(time.Hour)}
		if i%3 == 0 {
			toks[i].Family = fmt.Sprint("f", i)
		}
	}
	time.Sleep(300 * time.Millisecond) // short expires: the next create prunes it
	for i := range toks {
		if err := s.CreateToken(ctx, &toks[i]); err != nil {
			t.Fatal(err)
		}
	}
	other := store.Token{Hash: store.HashSecret("other"), Kind: store.KindAccess, ClientID: "d", ExpiresAt: now.Add(time.Hour)}
	if err := s.CreateToken(ctx, &other); err != nil {
		t.Fatal(err)
	}
	if ttl := rdb.PTTL(ctx, index).Val(); ttl < 59*time.Minute {
		t.Errorf("client index TTL = %v, want the longest token's (1h)", ttl)
	}
	if got := rdb.ZCard(ctx, index).Val(); got != n {
		t.Errorf("client index holds %d tokens, want %d (the expired one pruned)", got, n)
	}
	if err := s.RevokeClient(ctx, "c"); err != nil {
		t.Fatal(err)
	}
	for i, tok := range toks {
		if _, err := s.Token(ctx, tok.Hash); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("token %d after RevokeClient: err = %v, want ErrNotFound", i, err)
		}
	}
	if rdb.Exists(ctx, index).Val() != 0 {
		t.Error("client index still exists after RevokeClient")
	}
	if _, err := s.Token(ctx, other.Hash); err != nil {
		t.Errorf("another client's token after RevokeClient: %v", err)
	}
}

// TestOpen connects through a URL, as the example's -store flag does.
func TestOpen(t *testing.T) {
	rdb := testClient(t)
	prefix := newPrefix(t, rdb)
	s, err := redis.Open(t.Context(), "redis://"+rdb.Options().Addr+"/0", redis.WithPrefix(prefix), quiet)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Client(t.Context(), "none"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Client = %v, want ErrNotFound", err)
	}
}

func BenchmarkStore(b *testing.B) {
	s, _ := newStore(b, testClient(b))
	storetest.Bench(b, s)
}

// TestOldRecords reads a token and a client stored by a version of this
// package from before audience, DPoP, nonce, auth_time and client metadata:
// their hashes lack those fields, and read back with them empty.
func TestOldRecords(t *testing.T) {
	ctx := t.Context()
	rdb := testClient(t)
	s, prefix := newStore(t, rdb)
	now := time.Now()
	h := store.HashSecret("old")
	key := prefix + "token:" + hex.EncodeToString(h[:])
	err := rdb.HSet(ctx, key, "kind", 3, "family", "f", "client_id", "c1", "subject", "user-1", "username", "alice",
		"scopes", `["read"]`, "issued_at", now.UnixMicro(), "expires_at", now.Add(time.Hour).UnixMicro(),
		"redirect_uri", "", "code_challenge", "", "uses", 0).Err()
	if err != nil {
		t.Fatal(err)
	}
	rdb.PExpireAt(ctx, key, now.Add(time.Hour))
	err = rdb.HSet(ctx, prefix+"client:c1", "secret_hash", "", "name", "Old", "redirect_uris", `["https://app.example/cb"]`,
		"grant_types", `["authorization_code"]`, "scopes", `["read"]`, "auth_method", "none", "first_party", "0",
		"created_at", now.UnixMicro()).Err()
	if err != nil {
		t.Fatal(err)
	}
	rdb.SAdd(ctx, prefix+"clients", "c1")
	tok, err := s.Token(ctx, h)
	if err != nil || tok.Subject != "user-1" || len(tok.Audience) != 0 || tok.JKT != "" || tok.Nonce != "" || !tok.AuthTime.IsZero() {
		t.Errorf("old token = %+v, %v", tok, err)
	}
	if tok, err := s.ConsumeToken(ctx, h); err != nil || tok.Family != "f" || !tok.AuthTime.IsZero() {
		t.Errorf("ConsumeToken(old token) = %+v, %v", tok, err)
	}
	c, err := s.Client(ctx, "c1")
	if err != nil || c.Name != "Old" || !c.Public() || c.JWKS != nil || c.Contacts != nil {
		t.Fatalf("old client = %+v, %v", c, err)
	}
	c.SoftwareID = "sw"
	if err := s.UpdateClient(ctx, c); err != nil {
		t.Fatal(err)
	}
	if c, err := s.Client(ctx, "c1"); err != nil || c.SoftwareID != "sw" || !sameMicros(c.CreatedAt, now) {
		t.Errorf("old client after UpdateClient = %+v, %v", c, err)
	}
}

func sameMicros(a, b time.Time) bool { return a.UnixMicro() == b.UnixMicro() }

// TestSharedThrottle: two Providers, each with its own connection to one
// server and prefix, share the throttling counts.
func TestSharedThrottle(t *testing.T) {
	rdb := testClient(t)
	prefix := newPrefix(t, rdb)
	open := func() *redis.Store {
		other := goredis.NewClient(&goredis.Options{Addr: testservices.Redis(t)})
		t.Cleanup(func() { other.Close() })
		s, err := redis.New(t.Context(), other, redis.WithPrefix(prefix), quiet)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	sharedtest.Throttle(t, open(), open())
}

// TestSharedAssertionReplay: a client assertion used at one instance is
// refused at another sharing Redis.
func TestSharedAssertionReplay(t *testing.T) {
	rdb := testClient(t)
	prefix := newPrefix(t, rdb)
	open := func() *redis.Store {
		other := goredis.NewClient(&goredis.Options{Addr: testservices.Redis(t)})
		t.Cleanup(func() { other.Close() })
		s, err := redis.New(t.Context(), other, redis.WithPrefix(prefix), quiet)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	sharedtest.AssertionReplay(t, open(), open())
}

// TestSyntaxBeforeTheStore: malformed client IDs and usernames never reach
// Redis.
func TestSyntaxBeforeTheStore(t *testing.T) {
	s, _ := newStore(t, testClient(t))
	sharedtest.Syntax(t, s)
}

// TestSharedDevices: the device grant over two Providers, each with its
// own connection to one Redis.
func TestSharedDevices(t *testing.T) {
	rdb := testClient(t)
	prefix := newPrefix(t, rdb)
	open := func() *redis.Store {
		other := goredis.NewClient(&goredis.Options{Addr: testservices.Redis(t)})
		t.Cleanup(func() { other.Close() })
		s, err := redis.New(t.Context(), other, redis.WithPrefix(prefix), quiet)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	sharedtest.Devices(t, open(), open())
}
