package sqlite_test

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/oauthkit/oauthkit/store"
	"github.com/oauthkit/oauthkit/store/sqlite"
	"github.com/oauthkit/oauthkit/store/storetest"
)

// dumpable lets the suite see the database file, its WAL and every row.
type dumpable struct {
	*sqlite.Store
	path string
}

// Dump returns the raw bytes of the database file and its write-ahead log,
// then every row of every table as text.
func (d dumpable) Dump(ctx context.Context) ([]byte, error) {
	var out []byte
	for _, p := range []string{d.path, d.path + "-wal"} {
		b, err := os.ReadFile(p)
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			return nil, err
		}
		out = append(out, b...)
	}
	db, err := sql.Open("sqlite", "file:"+d.path+"?mode=ro")
	if err != nil {
		return nil, err
	}
	defer db.Close()
	for _, table := range []string{"oauthkit_clients", "oauthkit_families", "oauthkit_tokens"} {
		rows, err := db.QueryContext(ctx, "SELECT * FROM "+table)
		if err != nil {
			return nil, err
		}
		cols, _ := rows.Columns()
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		for rows.Next() {
			if err := rows.Scan(ptrs...); err != nil {
				rows.Close()
				return nil, err
			}
			out = fmt.Appendf(out, "%s %s\n", table, vals)
		}
		rows.Close()
	}
	return out, nil
}

func newStore(t testing.TB) (*sqlite.Store, string) {
	path := filepath.Join(t.TempDir(), "oauthkit.db")
	s, err := sqlite.Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	})
	return s, path
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) storetest.Store {
		s, path := newStore(t)
		return dumpable{s, path}
	})
}

// TestReopen checks that tokens, consumption, revocation and clients survive
// closing and opening the file again, and that migrating twice is harmless.
func TestReopen(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "oauthkit.db")
	s, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	live := store.Token{Hash: store.HashSecret("live"), Kind: store.KindAccess, Family: "f1", ExpiresAt: now.Add(time.Hour)}
	used := store.Token{Hash: store.HashSecret("used"), Kind: store.KindCode, Family: "f1", ExpiresAt: now.Add(time.Hour)}
	gone := store.Token{Hash: store.HashSecret("gone"), Kind: store.KindRefresh, Family: "f2", ExpiresAt: now.Add(time.Hour)}
	for _, tok := range []*store.Token{&live, &used, &gone} {
		if err := s.CreateToken(ctx, tok); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.ConsumeToken(ctx, used.Hash); err != nil {
		t.Fatal(err)
	}
	if err := s.RevokeFamily(ctx, "f2"); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateClient(ctx, &store.Client{ID: "c1", AuthMethod: store.AuthNone}); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s, err = sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Token(ctx, live.Hash); err != nil {
		t.Errorf("live token after reopen: %v", err)
	}
	if _, err := s.ConsumeToken(ctx, used.Hash); !errors.Is(err, store.ErrConsumed) {
		t.Errorf("consumed code after reopen: %v, want ErrConsumed", err)
	}
	again := store.Token{Hash: store.HashSecret("again"), Family: "f2", ExpiresAt: now.Add(time.Hour)}
	if err := s.CreateToken(ctx, &again); !errors.Is(err, store.ErrRevoked) {
		t.Errorf("revoked family after reopen: %v, want ErrRevoked", err)
	}
	if _, err := s.Client(ctx, "c1"); err != nil {
		t.Errorf("client after reopen: %v", err)
	}
}

// TestClean checks that the cleanup deletes expired tokens and families, and
// only those, using a clock moved forward instead of sleeping.
func TestClean(t *testing.T) {
	ctx := t.Context()
	now := time.Now()
	clock := func() time.Time { return now }
	path := filepath.Join(t.TempDir(), "oauthkit.db")
	s, err := sqlite.Open(ctx, path, sqlite.WithClock(func() time.Time { return clock() }), sqlite.WithCleanupInterval(0))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	short := store.Token{Hash: store.HashSecret("short"), Family: "f1", ExpiresAt: now.Add(time.Minute)}
	long := store.Token{Hash: store.HashSecret("long"), Family: "f2", ExpiresAt: now.Add(time.Hour)}
	for _, tok := range []*store.Token{&short, &long} {
		if err := s.CreateToken(ctx, tok); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.RevokeFamily(ctx, "f1"); err != nil {
		t.Fatal(err)
	}
	clock = func() time.Time { return now.Add(2 * time.Minute) }
	if err := s.Clean(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Token(ctx, long.Hash); err != nil {
		t.Errorf("unexpired token after Clean: %v", err)
	}
	// f1's revocation marker went with its last token, so the name is free.
	reuse := store.Token{Hash: store.HashSecret("reuse"), Family: "f1", ExpiresAt: now.Add(time.Hour)}
	if err := s.CreateToken(ctx, &reuse); err != nil {
		t.Errorf("CreateToken in a family cleaned after expiry: %v", err)
	}
	dump, err := dumpable{s, path}.Dump(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(dump, []byte(fmt.Sprintf("%v", short.Hash[:]))) {
		t.Error("expired token row still stored after Clean")
	}
}

func BenchmarkStore(b *testing.B) {
	s, _ := newStore(b)
	storetest.Bench(b, s)
}

// TestMigrateClientIndex opens a database at schema version 1, from before
// RevokeClient, and checks that opening it adds the index on client_id and
// that its tokens can be revoked by client.
func TestMigrateClientIndex(t *testing.T) {
	ctx := t.Context()
	s, path := newStore(t)
	tok := store.Token{Hash: store.HashSecret("v1"), Kind: store.KindAccess, Family: "f", ClientID: "c1", ExpiresAt: time.Now().Add(time.Hour)}
	if err := s.CreateToken(ctx, &tok); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	indexed := func() bool {
		var n int
		err := db.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name = 'oauthkit_tokens_client_id'`).Scan(&n)
		if err != nil {
			t.Fatal(err)
		}
		return n == 1
	}
	if !indexed() {
		t.Fatal("no index on oauthkit_tokens.client_id after Open")
	}
	if _, err := db.ExecContext(ctx, `DROP INDEX oauthkit_tokens_client_id; UPDATE oauthkit_schema SET version = 1`); err != nil {
		t.Fatal(err)
	}
	s2, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatalf("Open of a version 1 database: %v", err)
	}
	defer s2.Close()
	if !indexed() {
		t.Error("migrating from version 1 did not add the index on client_id")
	}
	var version int
	if err := db.QueryRowContext(ctx, `SELECT version FROM oauthkit_schema`).Scan(&version); err != nil || version != 2 {
		t.Errorf("schema version after migration = %d (%v), want 2", version, err)
	}
	if err := s2.RevokeClient(ctx, "c1"); err != nil {
		t.Fatal(err)
	}
	if _, err := s2.Token(ctx, tok.Hash); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("token of a revoked client after migration: err = %v, want ErrNotFound", err)
	}
}
