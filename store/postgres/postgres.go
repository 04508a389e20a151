package postgres

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/oauthkit/oauthkit/store"
)

// Store keeps clients, tokens and device grants in PostgreSQL. It is safe for concurrent use
// and may be shared by several processes. Create it with [New] or [Open];
// release it with [Store.Close].
type Store struct {
	pool    *pgxpool.Pool
	own     bool // pool was made by Open, so Close closes it
	schema  string
	now     func() time.Time
	every   time.Duration
	connect time.Duration  // Open's connect timeout
	obs     store.Observer // WithObserver; nil: none
	q       queries
	dq      deviceQueries

	stop context.CancelFunc
	wg   sync.WaitGroup

	channel string // NOTIFY channel of the change feed (changes.go)
}

// Option configures a Store.
type Option func(*Store)

// WithSchema puts the tables in the named schema (default "public"), which
// is created if it does not exist.
func WithSchema(name string) Option {
	return func(s *Store) { s.schema = name }
}

// WithCleanupInterval sets how often expired tokens and families are deleted
// (default 5 minutes). Zero or less turns the background cleanup off.
func WithCleanupInterval(d time.Duration) Option {
	return func(s *Store) { s.every = d }
}

// WithClock makes the store read the time from now instead of time.Now
// (default). All instances sharing a database should use the same clock.
func WithClock(now func() time.Time) Option {
	return func(s *Store) { s.now = now }
}

// DefaultConnectTimeout is how long Open lets a connection take by default
// (see WithConnectTimeout).
const DefaultConnectTimeout = 5 * time.Second

// WithConnectTimeout bounds each new connection of a pool made by Open: the
// TCP connection, TLS and authentication, per server address (default
// DefaultConnectTimeout, 5 seconds; zero or less: no bound). A server that
// accepts connections and never answers then fails Open fast instead of
// hanging it. The DSN's connect_timeout parameter (or $PGCONNECT_TIMEOUT),
// when given, wins. New leaves the host's pool as it configured it.
func WithConnectTimeout(d time.Duration) Option {
	return func(s *Store) { s.connect = d }
}

// DefaultMaxConns returns the size of the pool Open makes when the DSN
// does not set pool_max_conns: max(10, 4×GOMAXPROCS). pgx's own default,
// max(4, NumCPU), lets a few milliseconds of latency to the server cap the
// whole service (4 connections at 50 ms a statement are 80 statements a
// second); a statement waiting for a pooled connection waits within its
// context's deadline.
func DefaultMaxConns() int32 { return int32(max(10, 4*runtime.GOMAXPROCS(0))) }

// Open connects to the database at dsn (a postgres:// URL or key=value
// string) with a new pool, and migrates the schema. Each connection is
// bounded by WithConnectTimeout (5 seconds by default). The pool has
// DefaultMaxConns connections unless the DSN's pool_max_conns says
// otherwise (postgres://…?pool_max_conns=32, or pool_max_conns=32 in the
// key=value form). Close closes the pool.
func Open(ctx context.Context, dsn string, opts ...Option) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	if !setsPoolSize(dsn) {
		cfg.MaxConns = DefaultMaxConns()
	}
	s := newStore(nil, opts)
	if cfg.ConnConfig.ConnectTimeout == 0 && s.connect > 0 {
		cfg.ConnConfig.ConnectTimeout = s.connect
	}
	timeout := cfg.ConnConfig.ConnectTimeout
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	s, err = New(ctx, pool, opts...)
	if err != nil {
		pool.Close()
		if timeout > 0 && errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
			if inner := errors.Unwrap(err); inner != nil { // past "postgres: migrate: "
				err = inner
			}
			return nil, fmt.Errorf("postgres: no answer from the server within %v (the connect timeout; connect_timeout in the DSN sets it): %w", timeout, err)
		}
		return nil, err
	}
	s.own = true
	return s, nil
}

// setsPoolSize reports whether dsn names pool_max_conns. (pgxpool's
// ParseConfig removes it from the parameters it returns.)
func setsPoolSize(dsn string) bool {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return false
	}
	_, ok := cfg.RuntimeParams["pool_max_conns"]
	return ok
}

// newStore is a Store with its defaults and opts applied.
func newStore(pool *pgxpool.Pool, opts []Option) *Store {
	s := &Store{pool: pool, schema: "public", now: time.Now, every: 5 * time.Minute, connect: DefaultConnectTimeout}
	for _, o := range opts {
		o(s)
	}
	return s
}

// New uses the host's pool and migrates the schema. Close leaves the pool
// open.
func New(ctx context.Context, pool *pgxpool.Pool, opts ...Option) (*Store, error) {
	s := newStore(pool, opts)
	if s.schema == "" {
		return nil, errors.New("postgres: empty schema name")
	}
	s.q, s.dq = newQueries(s.schema), newDeviceQueries(s.schema)
	s.channel = changeChannel(s.schema)
	if err := s.migrate(ctx); err != nil {
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
// closes the pool.
func (s *Store) Close() error {
	s.stop()
	s.wg.Wait()
	if s.own {
		s.pool.Close()
	}
	return nil
}

// migrations[i] brings the schema from version i to i+1. Append only.
// {{.}} stands for the quoted schema name.
var migrations = [...]string{`
CREATE TABLE {{.}}.oauthkit_clients (
	id            text PRIMARY KEY,
	secret_hash   bytea,
	name          text NOT NULL,
	redirect_uris text[] NOT NULL,
	grant_types   text[] NOT NULL,
	scopes        text[] NOT NULL,
	auth_method   text NOT NULL,
	first_party   boolean NOT NULL,
	created_at    timestamptz NOT NULL
);
CREATE TABLE {{.}}.oauthkit_families (
	name       text PRIMARY KEY,
	revoked    boolean NOT NULL DEFAULT false,
	expires_at timestamptz NOT NULL
);
CREATE INDEX oauthkit_families_expires_at ON {{.}}.oauthkit_families (expires_at);
CREATE TABLE {{.}}.oauthkit_tokens (
	hash           bytea PRIMARY KEY,
	kind           smallint NOT NULL,
	family         text NOT NULL,
	client_id      text NOT NULL,
	subject        text NOT NULL,
	username       text NOT NULL,
	scopes         text[] NOT NULL,
	issued_at      timestamptz NOT NULL,
	expires_at     timestamptz NOT NULL,
	redirect_uri   text NOT NULL,
	code_challenge text NOT NULL,
	uses           integer NOT NULL DEFAULT 0,
	consumed_at    timestamptz
);
CREATE INDEX oauthkit_tokens_family ON {{.}}.oauthkit_tokens (family);
CREATE INDEX oauthkit_tokens_expires_at ON {{.}}.oauthkit_tokens (expires_at);
`, `
CREATE INDEX oauthkit_tokens_client_id ON {{.}}.oauthkit_tokens (client_id);
`, `
ALTER TABLE {{.}}.oauthkit_tokens
	ADD COLUMN audience  text[] NOT NULL DEFAULT '{}',
	ADD COLUMN jkt       text NOT NULL DEFAULT '',
	ADD COLUMN nonce     text NOT NULL DEFAULT '',
	ADD COLUMN auth_time timestamptz;
ALTER TABLE {{.}}.oauthkit_clients ADD COLUMN metadata json NOT NULL DEFAULT '{}';
`, `
CREATE TABLE IF NOT EXISTS {{.}}.oauthkit_attempts (
	key text PRIMARY KEY,
	tat bigint NOT NULL
);
CREATE INDEX IF NOT EXISTS oauthkit_attempts_tat ON {{.}}.oauthkit_attempts (tat);
`, `
CREATE TABLE IF NOT EXISTS {{.}}.oauthkit_replay (
	key   bytea PRIMARY KEY,
	until timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS oauthkit_replay_until ON {{.}}.oauthkit_replay (until);
`, `
CREATE TABLE {{.}}.oauthkit_device_grants (
	device_code_hash bytea PRIMARY KEY,
	user_code_hash   bytea NOT NULL UNIQUE,
	client_id        text NOT NULL,
	scopes           text[] NOT NULL,
	family           text NOT NULL,
	issued_at        timestamptz NOT NULL,
	expires_at       timestamptz NOT NULL,
	interval_us      bigint NOT NULL,
	last_polled_at   timestamptz,
	status           smallint NOT NULL,
	subject          text NOT NULL DEFAULT '',
	username         text NOT NULL DEFAULT '',
	auth_time        timestamptz
);
CREATE INDEX oauthkit_device_grants_expires_at ON {{.}}.oauthkit_device_grants (expires_at);
`}

// migrate applies the migrations the schema lacks, in one transaction that
// holds an advisory lock, so that instances starting together migrate once.
func (s *Store) migrate(ctx context.Context) error {
	sch := pgx.Identifier{s.schema}.Sanitize()
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended('oauthkit migrate ' || $1, 0))`, s.schema); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `CREATE SCHEMA IF NOT EXISTS `+sch); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS `+sch+`.oauthkit_schema (version integer NOT NULL)`); err != nil {
			return err
		}
		var version int
		if err := tx.QueryRow(ctx, `SELECT coalesce(max(version), 0) FROM `+sch+`.oauthkit_schema`).Scan(&version); err != nil {
			return err
		}
		if version > len(migrations) {
			return fmt.Errorf("schema version %d is newer than this package's %d", version, len(migrations))
		}
		for i := version; i < len(migrations); i++ {
			if _, err := tx.Exec(ctx, strings.ReplaceAll(migrations[i], "{{.}}", sch)); err != nil {
				return fmt.Errorf("migration %d: %w", i+1, err)
			}
		}
		if version == len(migrations) {
			return nil
		}
		_, err := tx.Exec(ctx, `DELETE FROM `+sch+`.oauthkit_schema; INSERT INTO `+sch+`.oauthkit_schema VALUES (`+fmt.Sprint(len(migrations))+`)`)
		return err
	})
	if err != nil {
		return fmt.Errorf("postgres: migrate: %w", isDone(ctx, err))
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

// cleanBatch bounds how many rows one cleanup statement deletes.
const cleanBatch = 1000

// Clean deletes expired tokens, the families whose last token has expired,
// throttling counts that have run out, one-time values past their time,
// and expired device authorization grants.
// The background cleanup calls it; hosts that turned that off may call it
// themselves (from one instance is enough).
func (s *Store) Clean(ctx context.Context) (err error) {
	defer s.obs.Done(ctx, "Clean", s.obs.Start(), &err)
	now := s.now()
	for _, c := range []struct {
		q   string
		arg any
	}{{s.q.cleanTokens, now}, {s.q.cleanFamilies, now}, {s.q.cleanAttempts, now.UnixMicro()}, {s.q.cleanReplay, now}, {s.dq.clean, now}} {
		for {
			tag, err := s.pool.Exec(ctx, c.q, c.arg, cleanBatch)
			if err != nil {
				return fmt.Errorf("postgres: clean: %w", isDone(ctx, err))
			}
			if tag.RowsAffected() < cleanBatch {
				break
			}
		}
	}
	return nil
}

// isDone returns err, made to wrap ctx's error when ctx is done, so that
// callers can tell a cancellation from a database failure with errors.Is.
func isDone(ctx context.Context, err error) error {
	if ctxErr := ctx.Err(); ctxErr != nil && !errors.Is(err, ctxErr) {
		return fmt.Errorf("%w (%v)", ctxErr, err)
	}
	return err
}
