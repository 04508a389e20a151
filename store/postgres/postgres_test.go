package postgres_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/oauthkit/oauthkit/internal/sharedtest"
	"github.com/oauthkit/oauthkit/internal/testservices"
	"github.com/oauthkit/oauthkit/store"
	"github.com/oauthkit/oauthkit/store/postgres"
	"github.com/oauthkit/oauthkit/store/storetest"
)

func TestMain(m *testing.M) { testservices.Main(m) }

// testPool connects to the test database (testservices.Postgres), or skips.
func testPool(t testing.TB) *pgxpool.Pool {
	dsn := testservices.Postgres(t)
	pool, err := pgxpool.New(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return pool
}

// newSchema returns a fresh schema name, dropped with everything in it when
// the test ends.
func newSchema(t testing.TB, pool *pgxpool.Pool) string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	name := "oauthkit_test_" + hex.EncodeToString(b)
	t.Cleanup(func() {
		ctx := context.WithoutCancel(t.Context())
		if _, err := pool.Exec(ctx, "DROP SCHEMA IF EXISTS "+pgx.Identifier{name}.Sanitize()+" CASCADE"); err != nil {
			t.Errorf("drop test schema: %v", err)
		}
	})
	return name
}

func newStore(t testing.TB, pool *pgxpool.Pool, opts ...postgres.Option) *postgres.Store {
	s, err := postgres.New(t.Context(), pool, append([]postgres.Option{postgres.WithSchema(newSchema(t, pool))}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// dumpable lets the suite see every row of the store's tables.
type dumpable struct {
	*postgres.Store
	pool   *pgxpool.Pool
	schema string
}

// Dump returns every row of every table in the schema, as PostgreSQL's text
// form of the row (bytea in hex).
func (d dumpable) Dump(ctx context.Context) ([]byte, error) {
	var out []byte
	for _, table := range []string{"oauthkit_clients", "oauthkit_families", "oauthkit_tokens", "oauthkit_attempts"} {
		rows, err := d.pool.Query(ctx, "SELECT r::text FROM "+pgx.Identifier{d.schema, table}.Sanitize()+" r")
		if err != nil {
			return nil, err
		}
		lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return nil, err
		}
		for _, l := range lines {
			out = fmt.Appendf(out, "%s %s\n", table, l)
		}
	}
	return out, nil
}

func TestConformance(t *testing.T) {
	pool := testPool(t)
	storetest.Run(t, func(t *testing.T) storetest.Store {
		schema := newSchema(t, pool)
		s, err := postgres.New(t.Context(), pool, postgres.WithSchema(schema))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return dumpable{s, pool, schema}
	})
}

// TestTwoInstances opens two stores on one schema, as two service instances
// would: migration runs once, and each sees the other's writes.
func TestTwoInstances(t *testing.T) {
	ctx := t.Context()
	pool := testPool(t)
	schema := newSchema(t, pool)
	var stores [2]*postgres.Store
	errs := make(chan error, 2)
	for i := range stores {
		go func() {
			var err error
			stores[i], err = postgres.Open(ctx, testservices.Postgres(t), postgres.WithSchema(schema))
			errs <- err
		}()
	}
	for range stores {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	for _, s := range stores {
		defer s.Close()
	}
	a, b := stores[0], stores[1]
	tok := store.Token{Hash: store.HashSecret("shared"), Kind: store.KindRefresh, Family: "f", ExpiresAt: time.Now().Add(time.Hour)}
	if err := a.CreateToken(ctx, &tok); err != nil {
		t.Fatal(err)
	}
	if _, err := b.ConsumeToken(ctx, tok.Hash); err != nil {
		t.Fatalf("consume on the other instance: %v", err)
	}
	if _, err := a.ConsumeToken(ctx, tok.Hash); !errors.Is(err, store.ErrConsumed) {
		t.Fatalf("replay on the first instance: %v, want ErrConsumed", err)
	}
	if err := a.RevokeFamily(ctx, "f"); err != nil {
		t.Fatal(err)
	}
	next := store.Token{Hash: store.HashSecret("next"), Family: "f", ExpiresAt: time.Now().Add(time.Hour)}
	if err := b.CreateToken(ctx, &next); !errors.Is(err, store.ErrRevoked) {
		t.Errorf("CreateToken on the other instance after RevokeFamily: %v, want ErrRevoked", err)
	}
}

// TestClean checks that the cleanup deletes expired tokens and families, and
// only those, with a clock moved forward instead of sleeping.
func TestClean(t *testing.T) {
	ctx := t.Context()
	pool := testPool(t)
	now := time.Now()
	offset := time.Duration(0)
	s := newStore(t, pool, postgres.WithClock(func() time.Time { return now.Add(offset) }), postgres.WithCleanupInterval(0))
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
	offset = 2 * time.Minute
	if err := s.Clean(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Token(ctx, long.Hash); err != nil {
		t.Errorf("unexpired token after Clean: %v", err)
	}
	reuse := store.Token{Hash: store.HashSecret("reuse"), Family: "f1", ExpiresAt: now.Add(time.Hour)}
	if err := s.CreateToken(ctx, &reuse); err != nil {
		t.Errorf("CreateToken in a family cleaned after expiry: %v", err)
	}
}

func BenchmarkStore(b *testing.B) {
	pool := testPool(b)
	storetest.Bench(b, newStore(b, pool))
}

// oldSchema creates a schema at version v, as this package left it then,
// and returns its name.
func oldSchema(t *testing.T, pool *pgxpool.Pool, v int) string {
	t.Helper()
	schema := newSchema(t, pool)
	sch := pgx.Identifier{schema}.Sanitize()
	stmts := []string{`CREATE SCHEMA ` + sch, `CREATE TABLE ` + sch + `.oauthkit_schema (version integer NOT NULL)`}
	for _, m := range postgres.Migrations[:v] {
		stmts = append(stmts, strings.ReplaceAll(m, "{{.}}", sch))
	}
	stmts = append(stmts, fmt.Sprintf(`INSERT INTO %s.oauthkit_schema VALUES (%d)`, sch, v))
	for _, q := range stmts {
		if _, err := pool.Exec(t.Context(), q); err != nil {
			t.Fatalf("building a version %d schema: %v", v, err)
		}
	}
	return schema
}

// checkVersion fails the test unless the schema is at the latest version.
func checkVersion(t *testing.T, pool *pgxpool.Pool, schema string) {
	t.Helper()
	var version int
	err := pool.QueryRow(t.Context(), `SELECT version FROM `+pgx.Identifier{schema}.Sanitize()+`.oauthkit_schema`).Scan(&version)
	if err != nil || version != len(postgres.Migrations) {
		t.Errorf("schema version after migration = %d (%v), want %d", version, err, len(postgres.Migrations))
	}
}

// hashBytes returns the SHA-256 of s as the bytes a row keeps.
func hashBytes(s string) []byte {
	h := store.HashSecret(s)
	return h[:]
}

// TestMigrateClientIndex opens a schema at version 1, from before
// RevokeClient, with a token in it, and checks that opening it adds the
// index on client_id and that the token can be revoked by client.
func TestMigrateClientIndex(t *testing.T) {
	ctx := t.Context()
	pool := testPool(t)
	schema := oldSchema(t, pool, 1)
	sch := pgx.Identifier{schema}.Sanitize()
	_, err := pool.Exec(ctx, `INSERT INTO `+sch+`.oauthkit_tokens
		(hash, kind, family, client_id, subject, username, scopes, issued_at, expires_at, redirect_uri, code_challenge)
		VALUES ($1, 2, 'f', 'c1', '', '', '{}', now(), $2, '', '')`, hashBytes("v1"), time.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	indexed := func() bool {
		var n int
		err := pool.QueryRow(ctx, `SELECT count(*) FROM pg_indexes WHERE schemaname = $1 AND indexname = 'oauthkit_tokens_client_id'`, schema).Scan(&n)
		if err != nil {
			t.Fatal(err)
		}
		return n == 1
	}
	if indexed() {
		t.Fatal("a version 1 schema has the index on client_id")
	}
	s, err := postgres.New(ctx, pool, postgres.WithSchema(schema))
	if err != nil {
		t.Fatalf("New on a version 1 schema: %v", err)
	}
	defer s.Close()
	if !indexed() {
		t.Error("migrating from version 1 did not add the index on client_id")
	}
	checkVersion(t, pool, schema)
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

// TestMigrateTokenProperties opens a schema at version 2, from before
// audience, DPoP, nonce, auth_time and client metadata, with a consumed
// code, a token and a client in it: after migration all read back as they
// were, with the new properties empty, and can take new values.
func TestMigrateTokenProperties(t *testing.T) {
	ctx := t.Context()
	pool := testPool(t)
	schema := oldSchema(t, pool, 2)
	sch := pgx.Identifier{schema}.Sanitize()
	now := time.Now()
	exp := now.Add(time.Hour)
	for _, q := range []struct {
		sql  string
		args []any
	}{
		{`INSERT INTO ` + sch + `.oauthkit_tokens
			(hash, kind, family, client_id, subject, username, scopes, issued_at, expires_at, redirect_uri, code_challenge)
			VALUES ($1, 2, 'f', 'c1', 'user-1', 'alice', '{read,write}', $2, $3, '', '')`,
			[]any{hashBytes("access"), now, exp}},
		{`INSERT INTO ` + sch + `.oauthkit_tokens
			(hash, kind, family, client_id, subject, username, scopes, issued_at, expires_at, redirect_uri, code_challenge, uses, consumed_at)
			VALUES ($1, 1, 'f', 'c1', 'user-1', 'alice', '{read}', $2, $3, 'https://app.example/cb', 'chal', 1, $2)`,
			[]any{hashBytes("code"), now, exp}},
		{`INSERT INTO ` + sch + `.oauthkit_families (name, expires_at) VALUES ('f', $1)`, []any{exp}},
		{`INSERT INTO ` + sch + `.oauthkit_clients (id, secret_hash, name, redirect_uris, grant_types, scopes, auth_method, first_party, created_at)
			VALUES ('c1', $1, 'Client one', '{https://app.example/cb}', '{authorization_code}', '{read}', 'client_secret_basic', true, $2)`,
			[]any{hashBytes("secret"), now}},
	} {
		if _, err := pool.Exec(ctx, q.sql, q.args...); err != nil {
			t.Fatal(err)
		}
	}
	s, err := postgres.New(ctx, pool, postgres.WithSchema(schema))
	if err != nil {
		t.Fatalf("New on a version 2 schema: %v", err)
	}
	defer s.Close()
	checkVersion(t, pool, schema)

	tok, err := s.Token(ctx, store.HashSecret("access"))
	if err != nil {
		t.Fatalf("token of version 2 after migration: %v", err)
	}
	if tok.Subject != "user-1" || len(tok.Scopes) != 2 || len(tok.Audience) != 0 || tok.JKT != "" || tok.Nonce != "" || !tok.AuthTime.IsZero() {
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

// TestSharedThrottle: two Providers, each with its own handle on one
// schema, share the throttling counts.
func TestSharedThrottle(t *testing.T) {
	pool := testPool(t)
	schema := newSchema(t, pool)
	open := func() *postgres.Store {
		s, err := postgres.New(t.Context(), pool, postgres.WithSchema(schema))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
	sharedtest.Throttle(t, open(), open())
}

// TestSharedAssertionReplay: a client assertion used at one instance is
// refused at another sharing the database.
func TestSharedAssertionReplay(t *testing.T) {
	pool := testPool(t)
	schema := newSchema(t, pool)
	open := func() *postgres.Store {
		s, err := postgres.New(t.Context(), pool, postgres.WithSchema(schema))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
	sharedtest.AssertionReplay(t, open(), open())
}

// TestSyntaxBeforeTheDatabase: a NUL in a client_id used to reach
// PostgreSQL and come back as a 500.
func TestSyntaxBeforeTheDatabase(t *testing.T) {
	sharedtest.Syntax(t, newStore(t, testPool(t)))
}

// TestSharedDevices: the device grant over two Providers, each with its
// own handle on one schema.
func TestSharedDevices(t *testing.T) {
	pool := testPool(t)
	schema := newSchema(t, pool)
	open := func() *postgres.Store {
		s, err := postgres.New(t.Context(), pool, postgres.WithSchema(schema))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
	sharedtest.Devices(t, open(), open())
}

// TestCleanReplay checks that the cleanup deletes the one-time values whose
// time has passed, and only those, on a version 4 schema migrated on open.
func TestCleanReplay(t *testing.T) {
	ctx := t.Context()
	pool := testPool(t)
	schema := oldSchema(t, pool, 4)
	now := time.Now()
	offset := time.Duration(0)
	s, err := postgres.New(ctx, pool, postgres.WithSchema(schema),
		postgres.WithClock(func() time.Time { return now.Add(offset) }), postgres.WithCleanupInterval(0))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	checkVersion(t, pool, schema)
	for _, k := range []struct {
		key string
		ttl time.Duration
	}{{"short", time.Minute}, {"long", time.Hour}} {
		if first, err := s.UseOnce(ctx, k.key, now.Add(k.ttl)); !first || err != nil {
			t.Fatalf("UseOnce(%s) = %v, %v", k.key, first, err)
		}
	}
	offset = 2 * time.Minute
	if err := s.Clean(ctx); err != nil {
		t.Fatal(err)
	}
	var keys []string
	rows, err := pool.Query(ctx, `SELECT convert_from(key, 'UTF8') FROM `+pgx.Identifier{schema}.Sanitize()+`.oauthkit_replay`)
	if err == nil {
		keys, err = pgx.CollectRows(rows, pgx.RowTo[string])
	}
	if err != nil || len(keys) != 1 || keys[0] != "long" {
		t.Fatalf("replay rows after Clean = %q, %v; want only long", keys, err)
	}
	if first, err := s.UseOnce(ctx, "long", now.Add(time.Hour)); first || err != nil {
		t.Fatalf("UseOnce(long) after Clean = %v, %v; want a replay", first, err)
	}
}
