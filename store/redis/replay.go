package redis

import (
	"context"
	"errors"
	"fmt"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/oauthkit/oauthkit/store"
)

var _ store.ReplayCache = (*Store)(nil)

func (s *Store) replayKey(key string) string { return s.prefix + "replay:" + key }

// UseOnce implements store.ReplayCache with one SET NX on the key, so that
// every instance on the server sees every use. The expiry is relative (PX,
// until minus the store's clock), like the throttling counts', so that the
// key lives until until on the callers' clock whatever the server's says.
// A key whose until has passed is not recorded; it is a replay only if a
// live record of it exists.
func (s *Store) UseOnce(ctx context.Context, key string, until time.Time) (_ bool, err error) {
	defer s.obs.Done(ctx, "UseOnce", s.obs.Start(), &err)
	k := s.replayKey(key)
	ttl := until.Sub(s.now())
	if ttl < time.Millisecond {
		n, err := s.rdb.Exists(ctx, k).Result()
		if err != nil {
			return false, fmt.Errorf("redis: use once: %w", isDone(ctx, err))
		}
		return n == 0, nil
	}
	err = s.rdb.SetArgs(ctx, k, "1", goredis.SetArgs{Mode: "NX", TTL: ttl}).Err()
	if errors.Is(err, goredis.Nil) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("redis: use once: %w", isDone(ctx, err))
	}
	return true, nil
}
