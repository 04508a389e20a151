package outage

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"

	"github.com/oauthkit/oauthkit/store/sqlite"
)

// noExchange hides the store's store.Exchanger: the Provider then consumes
// first and stores after, as with a store without transactions.
type noExchange struct{ backend }

// TestExchangeRollsBack: on PostgreSQL and SQLite (store.Exchanger), a
// code exchange or refresh whose tokens cannot be stored (the inserts
// fail) after the code or refresh token was consumed is answered 503, and
// the consumption is rolled back: the code is redeemable again, the
// refresh token rotates when presented again (with no grace for retries,
// where anything else would be a reuse). Without the transaction the same
// failure burns the code.
func TestExchangeRollsBack(t *testing.T) {
	for _, b := range []struct {
		name string
		open func(t *testing.T) (backend, func() (drop func()))
	}{
		{"postgres", func(t *testing.T) (backend, func() func()) {
			st, schema := pgStore(t)
			return st, func() func() { return pgTrigger(t, schema, "oauthkit_tokens", "INSERT") }
		}},
		{"sqlite", sqliteFailing},
	} {
		t.Run(b.name, func(t *testing.T) {
			st, failInserts := b.open(t)
			a := newCodeApp(t, st)
			t.Run("code", func(t *testing.T) {
				code := newCode(t, st)
				drop := failInserts()
				got := a.redeem(code)
				drop()
				if got.status != 503 || got.retryAfter != "1" {
					t.Fatalf("exchange whose tokens cannot be stored: %d %v, want 503", got.status, got.body)
				}
				got = a.redeem(code)
				if got.status != 200 {
					t.Fatalf("the same code once the store works: %d %v, want it redeemed", got.status, got.body)
				}
				if _, err := a.p.ValidateToken(t.Context(), got.str("access_token")); err != nil {
					t.Fatalf("its access token: %v", err)
				}
			})
			t.Run("refresh", func(t *testing.T) {
				first := a.redeem(newCode(t, st))
				rt := first.str("refresh_token")
				drop := failInserts()
				got := a.refresh(rt)
				drop()
				if got.status != 503 {
					t.Fatalf("refresh whose tokens cannot be stored: %d %v, want 503", got.status, got.body)
				}
				got = a.refresh(rt)
				if got.status != 200 {
					t.Fatalf("the same refresh token once the store works: %d %v, want it rotated", got.status, got.body)
				}
				if _, err := a.p.ValidateToken(t.Context(), got.str("access_token")); err != nil {
					t.Fatalf("the rotation's access token: %v", err)
				}
				if again := a.refresh(got.str("refresh_token")); again.status != 200 {
					t.Fatalf("the rotated refresh token: %d %v", again.status, again.body)
				}
			})
			t.Run("without the transaction", func(t *testing.T) {
				plain := newCodeAppWith(t, noExchange{st}, a.appSecret)
				code := newCode(t, st)
				drop := failInserts()
				got := plain.redeem(code)
				drop()
				if got.status != 503 {
					t.Fatalf("exchange whose tokens cannot be stored: %d %v", got.status, got.body)
				}
				if got = plain.redeem(code); got.status != 400 {
					t.Fatalf("without the transaction the code was not burnt (%d %v): this test no longer shows what the transaction prevents", got.status, got.body)
				}
			})
		})
	}
}

// sqliteFailing opens a SQLite store, and a way to make its token inserts
// fail (a trigger, from another connection) until the returned function
// drops it.
func sqliteFailing(t *testing.T) (backend, func() func()) {
	path := filepath.Join(t.TempDir(), "oauthkit.db")
	st, err := sqlite.Open(t.Context(), path, sqlite.WithCleanupInterval(0))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(2000)")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	exec := func(q string) {
		if _, err := db.ExecContext(context.WithoutCancel(t.Context()), q); err != nil {
			t.Fatal(err)
		}
	}
	return st, func() func() {
		exec(`CREATE TRIGGER oauthkit_test_fail BEFORE INSERT ON oauthkit_tokens BEGIN SELECT RAISE(ABORT, 'test: the disk is full'); END`)
		return func() { exec(`DROP TRIGGER oauthkit_test_fail`) }
	}
}
