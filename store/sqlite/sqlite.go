package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver

	"github.com/oauthkit/oauthkit/store"
)

// Store keeps clients, tokens and device grants in a SQLite database. It is safe for
// concurrent use. Create it with [Open] or [New]; release it with
// [Store.Close].
type Store struct {
	db    *sql.DB
	own   bool // db was opened by Open, so Close closes it
	now   func() time.Time
	every time.Duration
	obs   store.Observer // WithObserver; nil: none
	write chan struct{}  // a one-slot semaphore: SQLite has one writer at a time

	// Prepared statements for the hot paths; database/sql prepares each
	// once per connection.
	insertToken, selectToken, consumeToken *sql.Stmt

	stop context.CancelFunc
	wg   sync.WaitGroup
}

// Option configures a Store.
type Option func(*Store)

// WithCleanupInterval sets how often expired tokens and families are deleted
// (default 5 minutes). Zero or less turns the background cleanup off.
func WithCleanupInterval(d time.Duration) Option {
	return func(s *Store) { s.every = d }
}

// WithClock makes the store read the time from now instead of time.Now
// (default), so that tests can move time forward without sleeping.
func WithClock(now func() time.Time) Option {
	return func(s *Store) { s.now = now }
}

// pragmas are set on every connection Open makes. The busy timeout (how
// long a write waits for a lock another process holds) is 2 seconds, no
// more than the deadline grant.Config.Store gives each store call by
// default; a call's context, when done sooner, ends the wait sooner.
const pragmas = "_pragma=busy_timeout(2000)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_txlock=immediate"

// Open opens the SQLite database at path, creating it if needed, and
// migrates its schema. Close closes the database.
func Open(ctx context.Context, path string, opts ...Option) (*Store, error) {
	if path == "" || strings.ContainsRune(path, '?') {
		return nil, fmt.Errorf("sqlite: invalid database path %q", path)
	}
	if err := checkDir(path); err != nil {
		return nil, err
	}
	db, err := sql.Open("sqlite", "file:"+path+"?"+pragmas)
	if err != nil {
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	db.SetMaxOpenConns(8)
	db.SetMaxIdleConns(8)
	s, err := New(ctx, db, opts...)
	if err != nil {
		db.Close()
		return nil, err
	}
	s.own = true
	return s, nil
}

// checkDir reports plainly a database path whose directory is missing (or
// is not one): SQLite says only "unable to open database file". A memory
// database (":memory:") has no directory to check.
func checkDir(path string) error {
	if path == ":memory:" {
		return nil
	}
	dir := filepath.Dir(path)
	fi, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("sqlite: directory %s does not exist: create it first (the database file itself is created)", dir)
	case err != nil:
		return fmt.Errorf("sqlite: %w", err)
	case !fi.IsDir():
		return fmt.Errorf("sqlite: %s is not a directory", dir)
	}
	return nil
}

// New uses db, a pool the host opened with the modernc.org/sqlite driver,
// and migrates its schema. The tables are named oauthkit_*, so db may hold
// the host's own tables too. Set a busy timeout in db's DSN
// (_pragma=busy_timeout(2000)) if several connections write, no longer
// than the deadline of a store call (grant.Config.Store.Timeout); New
// switches the database to WAL mode. Close leaves db open.
func New(ctx context.Context, db *sql.DB, opts ...Option) (*Store, error) {
	s := &Store{db: db, now: time.Now, every: 5 * time.Minute, write: make(chan struct{}, 1)}
	for _, o := range opts {
		o(s)
	}
	if _, err := db.ExecContext(ctx, "PRAGMA journal_mode=WAL"); err != nil {
		return nil, fmt.Errorf("sqlite: set WAL mode: %w", err)
	}
	if err := s.migrate(ctx); err != nil {
		return nil, err
	}
	if err := s.prepare(ctx); err != nil {
		return nil, err
	}
	cctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	s.stop = cancel
	if s.every > 0 {
		s.wg.Go(func() { s.cleanLoop(cctx) })
	}
	return s, nil
}

// Close stops the background cleanup and, if the Store was made by Open,
// closes the database.
func (s *Store) Close() error {
	s.stop()
	s.wg.Wait()
	for _, st := range []*sql.Stmt{s.insertToken, s.selectToken, s.consumeToken} {
		st.Close()
	}
	if s.own {
		if err := s.db.Close(); err != nil {
			return fmt.Errorf("sqlite: %w", err)
		}
	}
	return nil
}

// lock takes the write semaphore, or gives up when ctx is done.
func (s *Store) lock(ctx context.Context) error {
	select {
	case s.write <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (s *Store) unlock() { <-s.write }

// migrations[i] brings the schema from version i to i+1. Append only.
var migrations = [...]string{`
CREATE TABLE IF NOT EXISTS oauthkit_clients (
	id            TEXT PRIMARY KEY,
	secret_hash   BLOB,
	name          TEXT NOT NULL,
	redirect_uris TEXT NOT NULL,
	grant_types   TEXT NOT NULL,
	scopes        TEXT NOT NULL,
	auth_method   TEXT NOT NULL,
	first_party   INTEGER NOT NULL,
	created_at    INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS oauthkit_families (
	name       TEXT PRIMARY KEY,
	revoked    INTEGER NOT NULL DEFAULT 0,
	expires_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS oauthkit_families_expires_at ON oauthkit_families (expires_at);
CREATE TABLE IF NOT EXISTS oauthkit_tokens (
	hash           BLOB PRIMARY KEY,
	kind           INTEGER NOT NULL,
	family         TEXT NOT NULL,
	client_id      TEXT NOT NULL,
	subject        TEXT NOT NULL,
	username       TEXT NOT NULL,
	scopes         TEXT NOT NULL,
	issued_at      INTEGER NOT NULL,
	expires_at     INTEGER NOT NULL,
	redirect_uri   TEXT NOT NULL,
	code_challenge TEXT NOT NULL,
	uses           INTEGER NOT NULL DEFAULT 0,
	consumed_at    INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS oauthkit_tokens_family ON oauthkit_tokens (family);
CREATE INDEX IF NOT EXISTS oauthkit_tokens_expires_at ON oauthkit_tokens (expires_at);
CREATE TRIGGER IF NOT EXISTS oauthkit_tokens_join_family BEFORE INSERT ON oauthkit_tokens
BEGIN
	SELECT RAISE(ABORT, 'oauthkit: family revoked')
		FROM oauthkit_families WHERE name = NEW.family AND revoked = 1;
	INSERT INTO oauthkit_families (name, expires_at) VALUES (NEW.family, NEW.expires_at)
		ON CONFLICT (name) DO UPDATE SET expires_at = max(expires_at, excluded.expires_at);
END;
`, `
CREATE INDEX IF NOT EXISTS oauthkit_tokens_client_id ON oauthkit_tokens (client_id);
`, `
ALTER TABLE oauthkit_tokens ADD COLUMN audience TEXT NOT NULL DEFAULT '[]';
ALTER TABLE oauthkit_tokens ADD COLUMN jkt TEXT NOT NULL DEFAULT '';
ALTER TABLE oauthkit_tokens ADD COLUMN nonce TEXT NOT NULL DEFAULT '';
ALTER TABLE oauthkit_tokens ADD COLUMN auth_time INTEGER NOT NULL DEFAULT 0;
ALTER TABLE oauthkit_clients ADD COLUMN metadata TEXT NOT NULL DEFAULT '{}';
`, `
CREATE TABLE IF NOT EXISTS oauthkit_replay (
	key   BLOB PRIMARY KEY,
	until INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS oauthkit_replay_until ON oauthkit_replay (until);
`, `
CREATE TABLE IF NOT EXISTS oauthkit_device_grants (
	device_code_hash BLOB PRIMARY KEY,
	user_code_hash   BLOB NOT NULL UNIQUE,
	client_id        TEXT NOT NULL,
	scopes           TEXT NOT NULL,
	family           TEXT NOT NULL,
	issued_at        INTEGER NOT NULL,
	expires_at       INTEGER NOT NULL,
	interval_us      INTEGER NOT NULL,
	last_polled_at   INTEGER NOT NULL DEFAULT 0,
	status           INTEGER NOT NULL,
	subject          TEXT NOT NULL DEFAULT '',
	username         TEXT NOT NULL DEFAULT '',
	auth_time        INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS oauthkit_device_grants_expires_at ON oauthkit_device_grants (expires_at);
`}

// migrate applies the migrations the database lacks, in one transaction.
func (s *Store) migrate(ctx context.Context) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite: migrate: %w", err)
	}
	defer tx.Rollback()
	// The UPDATE takes the write lock before anything is read, so that two
	// processes opening a new database do not both migrate it.
	var version int
	for _, q := range []string{
		`CREATE TABLE IF NOT EXISTS oauthkit_schema (version INTEGER NOT NULL)`,
		`UPDATE oauthkit_schema SET version = version`,
	} {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("sqlite: migrate: %w", err)
		}
	}
	err = tx.QueryRowContext(ctx, `SELECT coalesce(max(version), 0) FROM oauthkit_schema`).Scan(&version)
	if err != nil {
		return fmt.Errorf("sqlite: migrate: %w", err)
	}
	if version > len(migrations) {
		return fmt.Errorf("sqlite: schema version %d is newer than this package's %d", version, len(migrations))
	}
	for i := version; i < len(migrations); i++ {
		if _, err := tx.ExecContext(ctx, migrations[i]); err != nil {
			return fmt.Errorf("sqlite: migration %d: %w", i+1, err)
		}
	}
	if version < len(migrations) {
		if _, err := tx.ExecContext(ctx, `DELETE FROM oauthkit_schema`); err != nil {
			return fmt.Errorf("sqlite: migrate: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO oauthkit_schema VALUES (?)`, len(migrations)); err != nil {
			return fmt.Errorf("sqlite: migrate: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlite: migrate: %w", err)
	}
	return nil
}

// cleanLoop deletes expired rows every s.every until ctx is done.
func (s *Store) cleanLoop(ctx context.Context) {
	t := time.NewTicker(s.every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			_ = s.Clean(ctx) // retried at the next tick
		}
	}
}

// cleanBatch bounds how many rows one cleanup statement deletes, so that
// writers never wait long for the lock.
const cleanBatch = 1000

// Clean deletes expired tokens, the families whose last token has expired,
// one-time values past their time, and expired device authorization
// grants. The background cleanup calls it; hosts that turned that off may
// call it themselves.
func (s *Store) Clean(ctx context.Context) (err error) {
	defer s.obs.Done(ctx, "Clean", s.obs.Start(), &err)
	for _, q := range []string{
		`DELETE FROM oauthkit_tokens WHERE hash IN (SELECT hash FROM oauthkit_tokens WHERE expires_at <= ? LIMIT ?)`,
		`DELETE FROM oauthkit_families WHERE name IN (SELECT name FROM oauthkit_families WHERE expires_at <= ? LIMIT ?)`,
		`DELETE FROM oauthkit_replay WHERE key IN (SELECT key FROM oauthkit_replay WHERE until <= ? LIMIT ?)`,
		`DELETE FROM oauthkit_device_grants WHERE device_code_hash IN (SELECT device_code_hash FROM oauthkit_device_grants WHERE expires_at <= ? LIMIT ?)`,
	} {
		for {
			n, err := s.cleanOnce(ctx, q)
			if err != nil {
				return fmt.Errorf("sqlite: clean: %w", err)
			}
			if n < cleanBatch {
				break
			}
		}
	}
	return nil
}

func (s *Store) cleanOnce(ctx context.Context, q string) (int64, error) {
	if err := s.lock(ctx); err != nil {
		return 0, err
	}
	defer s.unlock()
	res, err := s.db.ExecContext(ctx, q, s.now().UnixMicro(), cleanBatch)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// isDone returns err, made to wrap ctx's error when ctx is done, so that
// callers can tell a cancellation from a database failure with errors.Is.
func isDone(ctx context.Context, err error) error {
	if ctxErr := ctx.Err(); ctxErr != nil && !errors.Is(err, ctxErr) {
		return fmt.Errorf("%w (%v)", ctxErr, err)
	}
	return err
}
