package redis

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/oauthkit/oauthkit/store"
)

// Store keeps clients, tokens and device grants in Redis. It is safe for concurrent use and
// may be shared by several processes. Create it with [New] or [Open].
type Store struct {
	rdb     goredis.UniversalClient
	cluster *goredis.ClusterClient // rdb, on Redis Cluster; nil on one server (cluster.go)
	own     bool                   // rdb was made by Open, so Close closes it
	prefix  string
	now     func() time.Time
	connect time.Duration  // bound of the first PING (and Open's dials)
	log     *slog.Logger   // where Open sends go-redis's own log lines
	obs     store.Observer // WithObserver; nil: none

	createToken, consumeToken, revokeFamily, revokeClient *goredis.Script
	exchange                                              *goredis.Script
	createClient, updateClient                            *goredis.Script
	chargeAttempt, refundAttempt                          *goredis.Script
	createDevice, claimUserCode, decideDevice, pollDevice *goredis.Script

	revokeToken *goredis.Script // changes.go

	putToken, joinFamily, indexToken, markFamily, dropIndex, unconsume *goredis.Script // cluster.go

	durability Durability // durability.go
	ready      readiness  // ready.go

	between func() // tests only (export_test.go): run between the steps of a cluster CreateToken
}

// Option configures a Store.
type Option func(*Store)

// WithPrefix puts every key under prefix (default "oauthkit:"), so that
// several stores, or the host's own data, can share one Redis database.
// On Redis Cluster a prefix may hold a whole hash tag ("{auth}:"), which
// puts every key of the store in one slot (one node: simple, not spread),
// but no '{' without its '}': New refuses it, as it would split a
// family's keys over two slots.
func WithPrefix(prefix string) Option {
	return func(s *Store) { s.prefix = prefix }
}

// DefaultConnectTimeout is how long connecting may take by default (see
// WithConnectTimeout).
const DefaultConnectTimeout = 5 * time.Second

// WithConnectTimeout bounds the check that the server answers, the first
// PING of Open and New (default DefaultConnectTimeout, 5 seconds), and for
// the client Open makes, each dial (go-redis's DialTimeout; the URL's
// dial_timeout parameter, when given, wins). A server that accepts
// connections and never answers then fails Open fast.
func WithConnectTimeout(d time.Duration) Option {
	return func(s *Store) { s.connect = d }
}

// WithLogger sets the store's logger (default slog.Default()): where New
// warns of persistence settings that do not keep what the store
// acknowledged (WithDurability), and where Open sends go-redis's own log
// lines (such as "connection pool: failed to dial"), at debug level, so
// that a failure reads as Open's one error, or the store's when it is in
// use. See Open.
func WithLogger(l *slog.Logger) Option {
	return func(s *Store) { s.log = l }
}

// Open connects to the Redis server at url (redis://[user:password@]host:port/db
// or rediss:// for TLS), or to the Redis Cluster at
// redis+cluster://[user:password@]host:port[,host:port…][?param=value…]
// (rediss+cluster:// for TLS; a few nodes are enough, the client finds the
// others), checks that it answers within
// WithConnectTimeout (5 seconds by default), checks its persistence
// settings (WithDurability), and returns a Store. Close closes the
// connection. go-redis's URL parameters (dial_timeout and the others)
// apply to both forms.
//
// The client it makes honours every call's context deadline
// (ContextTimeoutEnabled): a server that does not answer holds a call no
// longer than its deadline (grant.Config.Store gives each one), rather than
// the client's ReadTimeout, and waiting for a pooled connection ends at
// the deadline too. It dials once per attempt (DialerRetries 1, unless the
// URL sets dialer_retries), so that a server that refuses connections is
// answered in milliseconds rather than after go-redis's 5 dials 100 ms
// apart for each of the command's retries (1.7 s); the command's own
// retries (MaxRetries, 3) still cover connections the server closed.
//
// go-redis writes its own log lines to stderr through one logger per
// process, which it has no per-client option for (redis.SetLogger). Open sets
// it to pass them to WithLogger's logger at debug level; a host that wants
// them elsewhere calls redis.SetLogger after Open. New leaves it alone.
func Open(ctx context.Context, url string, opts ...Option) (*Store, error) {
	if isClusterURL(url) {
		return openCluster(ctx, url, opts)
	}
	o, err := goredis.ParseURL(url)
	if err != nil {
		return nil, fmt.Errorf("redis: %w", err)
	}
	cfg := newStore(nil, opts)
	if o.DialTimeout == 0 && cfg.connect > 0 {
		o.DialTimeout = cfg.connect
	}
	o.ContextTimeoutEnabled = true
	if o.DialerRetries == 0 {
		o.DialerRetries = 1 // a refused server is told at once, not after 5 dials 100 ms apart for each retry
	}
	goredis.SetLogger(driverLog{cfg.log})
	rdb := goredis.NewClient(o)
	s, err := New(ctx, rdb, opts...)
	if err != nil {
		rdb.Close()
		return nil, err
	}
	s.own = true
	return s, nil
}

// newStore is a Store with its defaults and opts applied.
func newStore(rdb goredis.UniversalClient, opts []Option) *Store {
	s := &Store{
		rdb: rdb, prefix: "oauthkit:", now: time.Now, connect: DefaultConnectTimeout, log: slog.Default(),
		createToken:  goredis.NewScript(createTokenLua),
		consumeToken: goredis.NewScript(consumeTokenLua),
		exchange:     goredis.NewScript(exchangeLua),
		revokeFamily: goredis.NewScript(revokeFamilyLua),
		revokeClient: goredis.NewScript(revokeClientLua),
		createClient: goredis.NewScript(createClientLua),
		updateClient: goredis.NewScript(updateClientLua),

		chargeAttempt: goredis.NewScript(chargeAttemptLua),
		refundAttempt: goredis.NewScript(refundAttemptLua),

		createDevice:  goredis.NewScript(createDeviceLua),
		claimUserCode: goredis.NewScript(claimUserCodeLua),
		decideDevice:  goredis.NewScript(decideDeviceLua),
		pollDevice:    goredis.NewScript(pollDeviceLua),

		revokeToken: goredis.NewScript(revokeTokenLua),

		putToken:   goredis.NewScript(putTokenLua),
		joinFamily: goredis.NewScript(joinFamilyLua),
		indexToken: goredis.NewScript(indexTokenLua),
		markFamily: goredis.NewScript(markFamilyLua),
		dropIndex:  goredis.NewScript(dropIndexLua),
		unconsume:  goredis.NewScript(unconsumeLua),
	}
	for _, o := range opts {
		o(s)
	}
	return s
}

// New uses the host's client: a *goredis.Client (one server, or a primary
// found through Sentinel) or a *goredis.ClusterClient (Redis Cluster; see
// the package doc for the key layout). It checks that the server answers
// within WithConnectTimeout, checks its persistence settings
// (WithDurability), writes the readiness counter that Ping checks, and
// returns a Store. Close leaves rdb open.
//
// New refuses a *goredis.Ring (its shards share no scripts, nor pub/sub
// order), a ClusterClient that reads from replicas (ReadOnly,
// RouteByLatency, RouteRandomly: a replica may still hold a token
// revoked on its primary), and on a cluster a prefix with a '{' that does
// not close a hash tag (see WithPrefix).
//
// Give the client ContextTimeoutEnabled, as Open does, so that a call's
// deadline bounds its reads and writes: without it, a server that does not
// answer holds each call for the client's ReadTimeout.
func New(ctx context.Context, rdb goredis.UniversalClient, opts ...Option) (*Store, error) {
	s := newStore(rdb, opts)
	if err := s.checkClient(); err != nil {
		return nil, err
	}
	if err := s.ping(ctx); err != nil {
		return nil, err
	}
	if err := s.checkDurability(ctx); err != nil {
		return nil, err
	}
	if err := s.startReadiness(ctx); err != nil {
		return nil, err
	}
	if err := s.loadScripts(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

// loadScripts loads every script on the server (on every master of a
// cluster), so that their first runs are one EVALSHA each; a server that
// loses them (a restart) answers NOSCRIPT, and the script is sent again.
func (s *Store) loadScripts(ctx context.Context) error {
	if s.connect > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, s.connect)
		defer cancel()
	}
	// (Script.Load would take the digest of a reply not read yet, in a
	// pipeline: the sources go as they are.)
	sources := []string{
		createTokenLua, consumeTokenLua, revokeFamilyLua, revokeClientLua, createClientLua, updateClientLua,
		chargeAttemptLua, refundAttemptLua, createDeviceLua, claimUserCodeLua, decideDeviceLua, pollDeviceLua,
		revokeTokenLua, putTokenLua, joinFamilyLua, indexTokenLua, markFamilyLua, dropIndexLua, unconsumeLua, exchangeLua,
	}
	load := func(ctx context.Context, c goredis.Cmdable) error {
		_, err := c.Pipelined(ctx, func(p goredis.Pipeliner) error {
			for _, src := range sources {
				p.ScriptLoad(ctx, src)
			}
			return nil
		})
		return err
	}
	var err error
	if s.cluster != nil {
		err = s.cluster.ForEachMaster(ctx, func(ctx context.Context, c *goredis.Client) error { return load(ctx, c) })
	} else {
		err = load(ctx, s.rdb)
	}
	if err != nil {
		return fmt.Errorf("redis: loading the scripts: %w", isDone(ctx, err))
	}
	return nil
}

// ping checks that the server answers within s.connect. It stops waiting
// then even if the client does not honour ctx deadlines (go-redis's
// ContextTimeoutEnabled is off by default): the PING goes on, bounded by
// the client's own read timeout.
func (s *Store) ping(ctx context.Context) error {
	if s.connect > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, s.connect)
		defer cancel()
	}
	done := make(chan error, 1)
	go func() { done <- s.rdb.Ping(ctx).Err() }()
	select {
	case err := <-done:
		if err == nil {
			return nil
		}
		if ctx.Err() != nil || isTimeout(err) {
			return s.noAnswer(err)
		}
		return fmt.Errorf("redis: %w", err)
	case <-ctx.Done():
		return s.noAnswer(ctx.Err())
	}
}

// noAnswer is the error of a server that did not answer the first PING in
// time.
func (s *Store) noAnswer(err error) error {
	addr := "the server"
	switch c := s.rdb.(type) {
	case *goredis.Client:
		addr = c.Options().Addr
	case *goredis.ClusterClient:
		addr = "the cluster at " + strings.Join(c.Options().Addrs, ",")
	}
	return fmt.Errorf("redis: no answer from %s within %v (the connect timeout; dial_timeout in the URL sets it): %w", addr, s.connect, err)
}

// isTimeout reports whether err is a network timeout.
func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// driverLog passes go-redis's own log lines to a slog.Logger at debug
// level.
type driverLog struct{ log *slog.Logger }

// Printf logs one line of go-redis.
func (d driverLog) Printf(ctx context.Context, format string, v ...any) {
	if d.log.Enabled(ctx, slog.LevelDebug) {
		d.log.DebugContext(ctx, "redis: go-redis: "+strings.TrimPrefix(fmt.Sprintf(format, v...), "redis: "))
	}
}

// Close closes the connection if the Store was made by Open.
func (s *Store) Close() error {
	if s.own {
		if err := s.rdb.Close(); err != nil {
			return fmt.Errorf("redis: %w", err)
		}
	}
	return nil
}

// micros formats t as Unix microseconds, the form times are stored in.
func micros(t time.Time) string { return strconv.FormatInt(t.UnixMicro(), 10) }

// parseMicros reads a time stored by micros.
func parseMicros(s string) (time.Time, error) {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return time.Time{}, fmt.Errorf("stored time %q: %w", s, err)
	}
	return time.UnixMicro(n), nil
}

// isDone returns err, made to wrap ctx's error when ctx is done, so that
// callers can tell a cancellation from a server failure with errors.Is.
func isDone(ctx context.Context, err error) error {
	if ctxErr := ctx.Err(); ctxErr != nil && !errors.Is(err, ctxErr) {
		return fmt.Errorf("%w (%v)", ctxErr, err)
	}
	return err
}
