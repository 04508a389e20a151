package redis

import (
	"context"
	"fmt"
	"time"

	"github.com/oauthkit/oauthkit/store"
)

var _ store.AttemptCounter = (*Store)(nil)

// reserveAttemptLua is the generic cell rate algorithm on one key: the
// key holds the theoretical arrival time (tat, µs of the caller's clock);
// an attempt is allowed when max(tat, now) + every <= now + burst·every.
// The key lives until its tat, when the bucket is full again; the expiry
// is relative, so it holds whatever the caller's clock says.
// KEYS: attempts key. ARGV: now µs, every µs, burst·every µs. Returns 0 or
// the wait in µs.
const reserveAttemptLua = `
local now, every, span = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now then tat = now end
local new = tat + every
if new > now + span then return new - now - span end
redis.call('SET', KEYS[1], string.format('%d', new), 'PX', math.ceil((new - now) / 1000))
return 0`

// refundAttemptLua gives one attempt back: tat moves back by every, never
// before now (where the bucket is full and the key goes).
// KEYS: attempts key. ARGV: now µs, every µs.
const refundAttemptLua = `
local tat = tonumber(redis.call('GET', KEYS[1]))
if not tat then return 0 end
local now = tonumber(ARGV[1])
local new = tat - tonumber(ARGV[2])
if new <= now then redis.call('DEL', KEYS[1]) return 1 end
redis.call('SET', KEYS[1], string.format('%d', new), 'PX', math.ceil((new - now) / 1000))
return 1`

func (s *Store) attemptKey(key string) string { return s.prefix + "attempts:" + key }

// ReserveAttempt implements store.AttemptCounter: one Lua script on one
// key, so that every instance on the server shares the count (and, each
// key being its own slot, it would run on Redis Cluster too).
func (s *Store) ReserveAttempt(ctx context.Context, key string, l store.Limit, now time.Time) (time.Duration, error) {
	every := l.Every.Microseconds()
	wait, err := s.reserveAttempt.Run(ctx, s.rdb, []string{s.attemptKey(key)},
		now.UnixMicro(), every, int64(l.Burst)*every).Int64()
	if err != nil {
		return 0, fmt.Errorf("redis: reserve attempt: %w", isDone(ctx, err))
	}
	return time.Duration(wait) * time.Microsecond, nil
}

// RefundAttempt implements store.AttemptCounter.
func (s *Store) RefundAttempt(ctx context.Context, key string, l store.Limit, now time.Time) error {
	err := s.refundAttempt.Run(ctx, s.rdb, []string{s.attemptKey(key)}, now.UnixMicro(), l.Every.Microseconds()).Err()
	if err != nil {
		return fmt.Errorf("redis: refund attempt: %w", isDone(ctx, err))
	}
	return nil
}

// ResetAttempts implements store.AttemptCounter.
func (s *Store) ResetAttempts(ctx context.Context, key string) error {
	if err := s.rdb.Del(ctx, s.attemptKey(key)).Err(); err != nil {
		return fmt.Errorf("redis: reset attempts: %w", isDone(ctx, err))
	}
	return nil
}
