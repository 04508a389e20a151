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

// oldDatabase creates a database at schema version v, as this package
// left it then, and returns its path and a connection to it.
func oldDatabase(t *testing.T, v int) (string, *sql.DB) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "oauthkit.db")
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	stmts := append([]string{`CREATE TABLE oauthkit_schema (version INTEGER NOT NULL)`}, sqlite.Migrations[:v]...)
	stmts = append(stmts, fmt.Sprintf(`INSERT INTO oauthkit_schema VALUES (%d)`, v))
	for _, q := range stmts {
		if _, err := db.ExecContext(t.Context(), q); err != nil {
			t.Fatalf("building a version %d database: %v", v, err)
		}
	}
	return path, db
}

// checkVersion fails the test unless the database is at the latest schema
// version.
func checkVersion(t *testing.T, db *sql.DB) {
	t.Helper()
	var version int
	if err := db.QueryRowContext(t.Context(), `SELECT version FROM oauthkit_schema`).Scan(&version); err != nil || version != len(sqlite.Migrations) {
		t.Errorf("schema version after migration = %d (%v), want %d", version, err, len(sqlite.Migrations))
	}
}

// TestMigrateClientIndex opens a database at schema version 1, from before
// RevokeClient, with a token in it, and checks that opening it adds the
// index on client_id and that the token can be revoked by client.
func TestMigrateClientIndex(t *testing.T) {
	ctx := t.Context()
	path, db := oldDatabase(t, 1)
	_, err := db.ExecContext(ctx, `INSERT INTO oauthkit_tokens
		(hash, kind, family, client_id, subject, username, scopes, issued_at, expires_at, redirect_uri, code_challenge)
		VALUES (?, 2, 'f', 'c1', '', '', '[]', 0, ?, '', '')`, hashBytes("v1"), time.Now().Add(time.Hour).UnixMicro())
	if err != nil {
		t.Fatal(err)
	}
	indexed := func() bool {
		var n int
		err := db.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name = 'oauthkit_tokens_client_id'`).Scan(&n)
		if err != nil {
			t.Fatal(err)
		}
		return n == 1
	}
	if indexed() {
		t.Fatal("a version 1 database has the index on client_id")
	}
	s, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatalf("Open of a version 1 database: %v", err)
	}
	defer s.Close()
	if !indexed() {
		t.Error("migrating from version 1 did not add the index on client_id")
	}
	checkVersion(t, db)
	h := store.HashSecret("v1")
	if _, err := s.Token(ctx, h); err != nil {
		t.Fatalf("token of version 1 after migration: %v", err)
	}
	if err := s.RevokeClient(ctx, "c1"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Token(ctx, h); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("token of a revoked client after migration: err = %v, want ErrNotFound", err)
	}
}

// TestMigrateTokenProperties opens a database at schema version 2, from
// before audience, DPoP, nonce, auth_time and client metadata, with a
// consumed code, a token and a client in it: after migration all read back
// as they were, with the new properties empty, and can take new values.
func TestMigrateTokenProperties(t *testing.T) {
	ctx := t.Context()
	path, db := oldDatabase(t, 2)
	now := time.Now()
	exp := now.Add(time.Hour).UnixMicro()
	for _, q := range []struct {
		sql  string
		args []any
	}{
		{`INSERT INTO oauthkit_tokens
			(hash, kind, family, client_id, subject, username, scopes, issued_at, expires_at, redirect_uri, code_challenge)
			VALUES (?, 2, 'f', 'c1', 'user-1', 'alice', '["read","write"]', ?, ?, '', '')`,
			[]any{hashBytes("access"), now.UnixMicro(), exp}},
		{`INSERT INTO oauthkit_tokens
			(hash, kind, family, client_id, subject, username, scopes, issued_at, expires_at, redirect_uri, code_challenge, uses, consumed_at)
			VALUES (?, 1, 'f', 'c1', 'user-1', 'alice', '["read"]', ?, ?, 'https://app.example/cb', 'chal', 1, ?)`,
			[]any{hashBytes("code"), now.UnixMicro(), exp, now.UnixMicro()}},
		{`INSERT INTO oauthkit_clients (id, secret_hash, name, redirect_uris, grant_types, scopes, auth_method, first_party, created_at)
			VALUES ('c1', ?, 'Client one', '["https://app.example/cb"]', '["authorization_code"]', '["read"]', 'client_secret_basic', 1, ?)`,
			[]any{hashBytes("secret"), now.UnixMicro()}},
	} {
		if _, err := db.ExecContext(ctx, q.sql, q.args...); err != nil {
			t.Fatal(err)
		}
	}
	s, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatalf("Open of a version 2 database: %v", err)
	}
	defer s.Close()
	checkVersion(t, db)

	tok, err := s.Token(ctx, store.HashSecret("access"))
	if err != nil {
		t.Fatalf("token of version 2 after migration: %v", err)
	}
	if tok.Subject != "user-1" || len(tok.Scopes) != 2 || tok.Audience != nil || tok.JKT != "" || tok.Nonce != "" || !tok.AuthTime.IsZero() {
		t.Errorf("token of version 2 after migration = %+v", tok)
	}
	code, err := s.ConsumeToken(ctx, store.HashSecret("code"))
	if !errors.Is(err, store.ErrConsumed) || code.RedirectURI != "https://app.example/cb" || code.Nonce != "" || code.ConsumedAt.IsZero() {
		t.Errorf("consumed code of version 2 after migration = %+v, %v; want it with ErrConsumed", code, err)
	}
	c, err := s.Client(ctx, "c1")
	if err != nil {
		t.Fatalf("client of version 2 after migration: %v", err)
	}
	if c.Name != "Client one" || !c.SecretHash.Equal(store.HashSecret("secret")) || !c.FirstParty || c.JWKS != nil || c.Contacts != nil {
		t.Errorf("client of version 2 after migration = %+v", c)
	}
	c.SoftwareID, c.PostLogoutRedirectURIs = "sw", []string{"https://app.example/bye"}
	if err := s.UpdateClient(ctx, c); err != nil {
		t.Fatal(err)
	}
	if c, err := s.Client(ctx, "c1"); err != nil || c.SoftwareID != "sw" || len(c.PostLogoutRedirectURIs) != 1 {
		t.Errorf("client metadata after migration: %+v, %v", c, err)
	}
	fresh := store.Token{Hash: store.HashSecret("fresh"), Kind: store.KindAccess, Family: "f", ClientID: "c1",
		Audience: []string{"https://api.example/"}, JKT: "jkt", AuthTime: now, ExpiresAt: now.Add(time.Hour)}
	if err := s.CreateToken(ctx, &fresh); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Token(ctx, fresh.Hash); err != nil || len(got.Audience) != 1 || got.JKT != "jkt" || got.AuthTime.IsZero() {
		t.Errorf("new token after migration: %+v, %v", got, err)
	}
}

// hashBytes returns the SHA-256 of s as the bytes a row keeps.
func hashBytes(s string) []byte {
	h := store.HashSecret(s)
	return h[:]
}

// TestCleanReplay checks that the cleanup deletes the one-time values whose
// time has passed, and only those, in a version 3 database migrated on open.
func TestCleanReplay(t *testing.T) {
	ctx := t.Context()
	path, db := oldDatabase(t, 3)
	now := time.Now()
	clock := func() time.Time { return now }
	s, err := sqlite.Open(ctx, path, sqlite.WithClock(func() time.Time { return clock() }), sqlite.WithCleanupInterval(0))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	checkVersion(t, db)
	for _, k := range []struct {
		key string
		ttl time.Duration
	}{{"short", time.Minute}, {"long", time.Hour}} {
		if first, err := s.UseOnce(ctx, k.key, now.Add(k.ttl)); !first || err != nil {
			t.Fatalf("UseOnce(%s) = %v, %v", k.key, first, err)
		}
	}
	clock = func() time.Time { return now.Add(2 * time.Minute) }
	if err := s.Clean(ctx); err != nil {
		t.Fatal(err)
	}
	var keys []string
	rows, err := db.QueryContext(ctx, `SELECT CAST(key AS TEXT) FROM oauthkit_replay`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			t.Fatal(err)
		}
		keys = append(keys, k)
	}
	rows.Close()
	if len(keys) != 1 || keys[0] != "long" {
		t.Fatalf("replay rows after Clean = %q; want only long", keys)
	}
	if first, err := s.UseOnce(ctx, "long", now.Add(time.Hour)); first || err != nil {
		t.Fatalf("UseOnce(long) after Clean = %v, %v; want a replay", first, err)
	}
}
