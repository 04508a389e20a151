package redis

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// Store keeps clients, tokens and device grants in Redis. It is safe for concurrent use and
// may be shared by several processes. Create it with [New] or [Open].
type Store struct {
	rdb    goredis.UniversalClient
	own    bool // rdb was made by Open, so Close closes it
	prefix string
	now    func() time.Time

	createToken, consumeToken, revokeFamily, revokeClient *goredis.Script
	createClient, updateClient                            *goredis.Script
	chargeAttempt, refundAttempt                          *goredis.Script
	createDevice, decideDevice, pollDevice                *goredis.Script

	revokeToken *goredis.Script // changes.go
}

// Option configures a Store.
type Option func(*Store)

// WithPrefix puts every key under prefix (default "oauthkit:"), so that
// several stores, or the host's own data, can share one Redis database.
func WithPrefix(prefix string) Option {
	return func(s *Store) { s.prefix = prefix }
}

// Open connects to the Redis server at url (redis://[user:password@]host:port/db
// or rediss:// for TLS), checks that it answers, and returns a Store. Close
// closes the connection.
func Open(ctx context.Context, url string, opts ...Option) (*Store, error) {
	o, err := goredis.ParseURL(url)
	if err != nil {
		return nil, fmt.Errorf("redis: %w", err)
	}
	rdb := goredis.NewClient(o)
	s, err := New(ctx, rdb, opts...)
	if err != nil {
		rdb.Close()
		return nil, err
	}
	s.own = true
	return s, nil
}

// New uses the host's client, checks that the server answers, and returns a
// Store. Close leaves rdb open.
func New(ctx context.Context, rdb goredis.UniversalClient, opts ...Option) (*Store, error) {
	s := &Store{
		rdb: rdb, prefix: "oauthkit:", now: time.Now,
		createToken:  goredis.NewScript(createTokenLua),
		consumeToken: goredis.NewScript(consumeTokenLua),
		revokeFamily: goredis.NewScript(revokeFamilyLua),
		revokeClient: goredis.NewScript(revokeClientLua),
		createClient: goredis.NewScript(createClientLua),
		updateClient: goredis.NewScript(updateClientLua),

		chargeAttempt: goredis.NewScript(chargeAttemptLua),
		refundAttempt: goredis.NewScript(refundAttemptLua),

		createDevice: goredis.NewScript(createDeviceLua),
		decideDevice: goredis.NewScript(decideDeviceLua),
		pollDevice:   goredis.NewScript(pollDeviceLua),

		revokeToken: goredis.NewScript(revokeTokenLua),
	}
	for _, o := range opts {
		o(s)
	}
	if err := rdb.Ping(ctx).Err(); err != nil {
		return nil, fmt.Errorf("redis: %w", isDone(ctx, err))
	}
	return s, nil
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
