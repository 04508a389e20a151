package redis_test

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/oauthkit/oauthkit/internal/testservices"
	"github.com/oauthkit/oauthkit/store"
	"github.com/oauthkit/oauthkit/store/redis"
)

// logBuffer is a slog handler's output, safe for concurrent use.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// ownClient connects to a server of the test's own.
func ownClient(t *testing.T, r *testservices.RedisServer) *goredis.Client {
	rdb := goredis.NewClient(&goredis.Options{Addr: r.Addr, MaxRetries: -1})
	t.Cleanup(func() { rdb.Close() })
	return rdb
}

// TestDurabilityCheck: New reads the server's persistence settings and
// warns (the default) or refuses (RequireAOF) when they would lose what
// the store acknowledges: no AOF, appendfsync no, eviction, or settings it
// cannot read. SkipDurabilityCheck reads nothing.
func TestDurabilityCheck(t *testing.T) {
	ctx := t.Context()
	r := testservices.StartRedis(t) // RDB off, AOF off: a restart keeps nothing
	rdb := ownClient(t, r)
	open := func(d redis.Durability) (string, error) {
		var log logBuffer
		s, err := redis.New(ctx, rdb, redis.WithDurability(d), redis.WithLogger(slog.New(slog.NewTextHandler(&log, nil))))
		if err == nil {
			s.Close()
		}
		return log.String(), err
	}
	set := func(kv ...string) {
		t.Helper()
		for i := 0; i < len(kv); i += 2 {
			if err := rdb.ConfigSet(ctx, kv[i], kv[i+1]).Err(); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, tc := range []struct {
		name     string
		settings []string
		problem  string // "" for none
	}{
		{"no AOF", nil, "appendonly is no"},
		{"AOF without fsync", []string{"appendonly", "yes", "appendfsync", "no"}, "appendfsync is no"},
		{"AOF everysec", []string{"appendfsync", "everysec"}, ""},
		{"AOF always", []string{"appendfsync", "always"}, ""},
		{"eviction", []string{"maxmemory", "1gb", "maxmemory-policy", "volatile-lru"}, "maxmemory-policy is volatile-lru"},
		{"a limit without eviction", []string{"maxmemory-policy", "noeviction"}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			set(tc.settings...)
			log, err := open(redis.WarnDurability)
			if err != nil {
				t.Fatal(err)
			}
			if tc.problem == "" && log != "" || tc.problem != "" && !strings.Contains(log, "level=WARN") || !strings.Contains(log, tc.problem) {
				t.Errorf("warnings %q, want %q", log, tc.problem)
			}
			_, err = open(redis.RequireAOF)
			if tc.problem == "" && err != nil || tc.problem != "" && (err == nil || !strings.Contains(err.Error(), tc.problem)) {
				t.Errorf("RequireAOF: %v, want %q", err, tc.problem)
			}
			if log, err := open(redis.SkipDurabilityCheck); err != nil || log != "" {
				t.Errorf("SkipDurabilityCheck: %v %q", err, log)
			}
		})
	}
	t.Run("CONFIG refused", func(t *testing.T) {
		r := testservices.StartRedis(t, "--rename-command", "CONFIG", "")
		rdb := ownClient(t, r)
		var log logBuffer
		s, err := redis.New(ctx, rdb, redis.WithLogger(slog.New(slog.NewTextHandler(&log, nil))))
		if err != nil {
			t.Fatal(err)
		}
		s.Close()
		if !strings.Contains(log.String(), "cannot read the server's persistence settings") {
			t.Errorf("warnings %q", log.String())
		}
		if _, err := redis.New(ctx, rdb, redis.WithDurability(redis.RequireAOF)); err == nil || !strings.Contains(err.Error(), "cannot read") {
			t.Errorf("RequireAOF: %v", err)
		}
	})
	t.Run("cluster", func(t *testing.T) {
		_, err := redis.New(ctx, clusterClient(t, "", nil), redis.WithDurability(redis.RequireAOF))
		if err == nil || strings.Count(err.Error(), "appendonly is no") != 1 || strings.Count(err.Error(), "127.0.0.1:") != 3 {
			t.Errorf("RequireAOF on the test cluster (no AOF on its 3 masters): %v", err)
		}
	})
}

// crashFixture is what a test stores before a crash: live tokens, tokens
// revoked alone, whole revoked families, and refresh tokens consumed by
// their rotation.
type crashFixture struct {
	live, revoked, consumed []store.Token
	revokedFamilies         []string
}

// fill stores n families of a refresh and an access token each, and then
// revokes a third of the families, revokes another third's access tokens
// alone, and consumes the last third's refresh tokens.
func fill(t *testing.T, s *redis.Store, n int) crashFixture {
	ctx := t.Context()
	var f crashFixture
	for i := range n {
		fam := fmt.Sprintf("crash-%d", i)
		rt := store.Token{Hash: store.HashSecret("rt-" + fam), Kind: store.KindRefresh, Family: fam, ClientID: "c", ExpiresAt: time.Now().Add(time.Hour)}
		at := store.Token{Hash: store.HashSecret("at-" + fam), Kind: store.KindAccess, Family: fam, ClientID: "c", ExpiresAt: time.Now().Add(time.Hour)}
		for _, tok := range []*store.Token{&rt, &at} {
			if err := s.CreateToken(ctx, tok); err != nil {
				t.Fatal(err)
			}
		}
		switch i % 3 {
		case 0:
			if err := s.RevokeFamily(ctx, fam); err != nil {
				t.Fatal(err)
			}
			f.revoked = append(f.revoked, rt, at)
			f.revokedFamilies = append(f.revokedFamilies, fam)
		case 1:
			if err := s.RevokeToken(ctx, at.Hash); err != nil {
				t.Fatal(err)
			}
			f.revoked = append(f.revoked, at)
			f.live = append(f.live, rt)
		case 2:
			if _, err := s.ConsumeToken(ctx, rt.Hash); err != nil {
				t.Fatal(err)
			}
			f.consumed = append(f.consumed, rt)
			f.live = append(f.live, at)
		}
	}
	return f
}

// check counts what the crash undid: revoked tokens found again, consumed
// ones usable again, live ones lost, revoked families open again.
func (f crashFixture) check(t *testing.T, s *redis.Store) (revived, lost int) {
	ctx := t.Context()
	for _, tok := range f.revoked {
		if _, err := s.Token(ctx, tok.Hash); err == nil {
			revived++
		}
	}
	for _, tok := range f.consumed {
		if _, err := s.ConsumeToken(ctx, tok.Hash); err == nil {
			revived++
		}
	}
	for _, fam := range f.revokedFamilies {
		tok := store.Token{Hash: store.HashSecret("new-" + fam), Kind: store.KindAccess, Family: fam, ClientID: "c", ExpiresAt: time.Now().Add(time.Hour)}
		if err := s.CreateToken(ctx, &tok); !errors.Is(err, store.ErrRevoked) {
			revived++
		}
	}
	for _, tok := range f.live {
		if _, err := s.Token(ctx, tok.Hash); err != nil {
			lost++
		}
	}
	return revived, lost
}

// TestRevocationSurvivesCrash: on a server with the append-only file
// (appendfsync always), what the store acknowledged before the server was
// killed (SIGKILL) holds after it restarts on the same files: no revoked
// token or family valid again, no consumed refresh token usable again, no
// live token lost; and the readiness check sees nothing lost.
func TestRevocationSurvivesCrash(t *testing.T) {
	r := testservices.StartRedis(t, "--appendonly", "yes", "--appendfsync", "always")
	rdb := ownClient(t, r)
	s, err := redis.New(t.Context(), rdb, redis.WithDurability(redis.RequireAOF))
	if err != nil {
		t.Fatal(err)
	}
	f := fill(t, s, 60)
	r.Kill(t) // right after the last acknowledgement
	r.Restart(t)
	if err := s.Ping(t.Context()); err != nil {
		t.Errorf("Ping after the restart: %v", err)
	}
	revived, lost := f.check(t, s)
	if revived > 0 || lost > 0 {
		t.Errorf("after SIGKILL and restart: %d revocations undone, %d live tokens lost", revived, lost)
	}
}

// TestSnapshotRevivesRevoked is the failure the persistence check and the
// readiness counter are for: a server with RDB snapshots only, restarted
// after a crash from a snapshot taken before the revocations, brings the
// revoked tokens back. New warns of it (RequireAOF refuses it), and Ping
// (health checks) reports store.ErrReset from then on. A server restarted
// empty is caught the same way.
func TestSnapshotRevivesRevoked(t *testing.T) {
	ctx := t.Context()
	r := testservices.StartRedis(t, "--save", "3600 1")
	rdb := ownClient(t, r)
	if _, err := redis.New(ctx, rdb, redis.WithDurability(redis.RequireAOF)); err == nil {
		t.Fatal("RequireAOF accepted a server without the append-only file")
	}
	s, err := redis.New(ctx, rdb, quiet)
	if err != nil {
		t.Fatal(err)
	}
	// The tokens, then the snapshot, then the revocations.
	fam := "snap"
	at := store.Token{Hash: store.HashSecret("at-snap"), Kind: store.KindAccess, Family: fam, ClientID: "c", ExpiresAt: time.Now().Add(time.Hour)}
	rt := store.Token{Hash: store.HashSecret("rt-snap"), Kind: store.KindRefresh, Family: fam, ClientID: "c", ExpiresAt: time.Now().Add(time.Hour)}
	for _, tok := range []*store.Token{&at, &rt} {
		if err := s.CreateToken(ctx, tok); err != nil {
			t.Fatal(err)
		}
	}
	if err := rdb.Save(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	if err := s.RevokeFamily(ctx, fam); err != nil {
		t.Fatal(err)
	}
	if err := s.Ping(ctx); err != nil { // a health check
		t.Fatal(err)
	}
	r.Kill(t)
	r.Restart(t)
	if _, err := s.Token(ctx, at.Hash); err != nil {
		t.Fatalf("the snapshot did not bring the revoked token back (%v): the test shows nothing", err)
	}
	err = s.Ping(ctx)
	if !errors.Is(err, store.ErrReset) {
		t.Fatalf("Ping after the rollback: %v, want store.ErrReset", err)
	}
	if err := s.Ping(ctx); !errors.Is(err, store.ErrReset) {
		t.Errorf("second Ping after the rollback: %v, want store.ErrReset again", err)
	}
	t.Logf("Ping: %v", err)

	// Restarted empty: a new store, a crash, the files gone.
	s2, err := redis.New(ctx, rdb, quiet)
	if err != nil {
		t.Fatal(err)
	}
	r.Kill(t)
	if err := os.Remove(filepath.Join(r.Dir, "dump.rdb")); err != nil {
		t.Fatal(err)
	}
	r.Restart(t)
	if err := s2.Ping(ctx); !errors.Is(err, store.ErrReset) {
		t.Errorf("Ping after a restart empty: %v, want store.ErrReset", err)
	}
}

// TestReadinessReset: the store's keys gone (FLUSHDB, or a server
// restarted empty), Ping reports store.ErrReset, and keeps doing so, while
// a store opened afterwards is healthy.
func TestReadinessReset(t *testing.T) {
	ctx := t.Context()
	rdb := testClient(t)
	s, prefix := newStore(t, rdb)
	if err := s.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	if err := rdb.Del(ctx, prefix+"ready").Err(); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := s.Ping(ctx); !errors.Is(err, store.ErrReset) {
			t.Errorf("Ping after the reset: %v, want store.ErrReset", err)
		}
	}
	again, err := redis.New(ctx, rdb, redis.WithPrefix(prefix), quiet)
	if err != nil {
		t.Fatal(err)
	}
	if err := again.Ping(ctx); err != nil {
		t.Errorf("a store opened after the reset: %v", err)
	}
}
