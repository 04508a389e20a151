package postgres_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/oauthkit/oauthkit/internal/sharedtest"
	"github.com/oauthkit/oauthkit/store"
	"github.com/oauthkit/oauthkit/store/postgres"
	"github.com/oauthkit/oauthkit/store/storetest"
)

// testPool connects to the database named by OAUTHKIT_TEST_POSTGRES, or skips.
func testPool(t testing.TB) *pgxpool.Pool {
	dsn := os.Getenv("OAUTHKIT_TEST_POSTGRES")
	if dsn == "" {
		t.Skip("OAUTHKIT_TEST_POSTGRES is unset: set it to a PostgreSQL DSN to run the PostgreSQL store tests")
	}
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
			stores[i], err = postgres.Open(ctx, os.Getenv("OAUTHKIT_TEST_POSTGRES"), postgres.WithSchema(schema))
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

// TestMigrateClientIndex takes a schema back to version 1, from before
// RevokeClient, and checks that opening it again adds the index on
// client_id and that its tokens can be revoked by client.
func TestMigrateClientIndex(t *testing.T) {
	ctx := t.Context()
	pool := testPool(t)
	schema := newSchema(t, pool)
	s, err := postgres.New(ctx, pool, postgres.WithSchema(schema))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	tok := store.Token{Hash: store.HashSecret("v1"), Kind: store.KindAccess, Family: "f", ClientID: "c1", ExpiresAt: time.Now().Add(time.Hour)}
	if err := s.CreateToken(ctx, &tok); err != nil {
		t.Fatal(err)
	}
	sch := pgx.Identifier{schema}.Sanitize()
	indexed := func() bool {
		var n int
		err := pool.QueryRow(ctx, `SELECT count(*) FROM pg_indexes WHERE schemaname = $1 AND indexname = 'oauthkit_tokens_client_id'`, schema).Scan(&n)
		if err != nil {
			t.Fatal(err)
		}
		return n == 1
	}
	if !indexed() {
		t.Fatal("no index on oauthkit_tokens.client_id after New")
	}
	if _, err := pool.Exec(ctx, `DROP INDEX `+sch+`.oauthkit_tokens_client_id; UPDATE `+sch+`.oauthkit_schema SET version = 1`); err != nil {
		t.Fatal(err)
	}
	s2, err := postgres.New(ctx, pool, postgres.WithSchema(schema))
	if err != nil {
		t.Fatalf("New on a version 1 schema: %v", err)
	}
	defer s2.Close()
	if !indexed() {
		t.Error("migrating from version 1 did not add the index on client_id")
	}
	var version int
	if err := pool.QueryRow(ctx, `SELECT version FROM `+sch+`.oauthkit_schema`).Scan(&version); err != nil || version != 3 {
		t.Errorf("schema version after migration = %d (%v), want the latest, 3", version, err)
	}
	if err := s2.RevokeClient(ctx, "c1"); err != nil {
		t.Fatal(err)
	}
	if _, err := s2.Token(ctx, tok.Hash); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("token of a revoked client after migration: err = %v, want ErrNotFound", err)
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

// TestSyntaxBeforeTheDatabase: a NUL in a client_id used to reach
// PostgreSQL and come back as a 500.
func TestSyntaxBeforeTheDatabase(t *testing.T) {
	sharedtest.Syntax(t, newStore(t, testPool(t)))
}
