package sqlite_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"
	"time"

	"github.com/oauthkit/oauthkit/store"
	"github.com/oauthkit/oauthkit/store/sqlite"
)

// TestLockWaitBounded: a write that waits for a lock another process holds
// gives up when its context is done, well before the busy timeout.
func TestLockWaitBounded(t *testing.T) {
	path := filepath.Join(t.TempDir(), "db")
	s, err := sqlite.Open(t.Context(), path, sqlite.WithCleanupInterval(0))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	other, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	conn, err := other.Conn(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(t.Context(), "BEGIN IMMEDIATE"); err != nil {
		t.Fatal(err)
	}
	defer conn.ExecContext(context.Background(), "ROLLBACK")
	const deadline = 200 * time.Millisecond
	now := time.Now()
	tok := store.Token{Hash: store.HashSecret("x"), Kind: store.KindAccess, ClientID: "c", IssuedAt: now, ExpiresAt: now.Add(time.Hour)}
	ctx, cancel := context.WithTimeout(t.Context(), deadline)
	defer cancel()
	start := time.Now()
	err = s.CreateToken(ctx, &tok)
	took := time.Since(start)
	t.Logf("CreateToken under another's lock: %v after %v", err, took)
	if err == nil {
		t.Fatal("CreateToken succeeded under another connection's write lock")
	}
	if took > deadline+300*time.Millisecond {
		t.Fatalf("CreateToken waited %v for the lock, want about its %v deadline", took, deadline)
	}
}
