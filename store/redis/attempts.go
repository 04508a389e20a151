package redis

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/oauthkit/oauthkit/store"
)

var _ store.AttemptCounter = (*Store)(nil)

// chargeAttemptLua is the generic cell rate algorithm on one key: the key
// holds the theoretical arrival time (tat, µs of the caller's clock); a
// charge moves it to max(tat, now) + every, and is within the limit while
// tat <= now + burst·every (beyond, a debt). The key lives until its tat,
// when the bucket is full again; the expiry is relative, so it holds
// whatever the caller's clock says.
// KEYS: attempts key. ARGV: now µs, every µs, burst·every µs. Returns the
// excess in µs.
const chargeAttemptLua = `
local now, every, span = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now then tat = now end
tat = tat + every
redis.call('SET', KEYS[1], string.format('%d', tat), 'PX', math.ceil((tat - now) / 1000))
if tat > now + span then return tat - now - span end
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

// AttemptWait implements store.AttemptCounter.
func (s *Store) AttemptWait(ctx context.Context, key string, l store.Limit, now time.Time) (_ time.Duration, err error) {
	defer s.obs.Done(ctx, "AttemptWait", s.obs.Start(), &err)
	v, err := s.rdb.Get(ctx, s.attemptKey(key)).Result()
	if errors.Is(err, goredis.Nil) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("redis: attempt wait: %w", isDone(ctx, err))
	}
	tat, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("redis: attempt wait: stored %q: %w", v, err)
	}
	every := l.Every.Microseconds()
	wait := max(tat, now.UnixMicro()) + every - now.UnixMicro() - int64(l.Burst)*every
	return time.Duration(max(wait, 0)) * time.Microsecond, nil
}

// ChargeAttempt implements store.AttemptCounter: one Lua script on one
// key, so that every instance on the server shares the count (and, each
// key being its own slot, it would run on Redis Cluster too).
func (s *Store) ChargeAttempt(ctx context.Context, key string, l store.Limit, now time.Time) (_ time.Duration, err error) {
	defer s.obs.Done(ctx, "ChargeAttempt", s.obs.Start(), &err)
	every := l.Every.Microseconds()
	excess, err := s.chargeAttempt.Run(ctx, s.rdb, []string{s.attemptKey(key)},
		now.UnixMicro(), every, int64(l.Burst)*every).Int64()
	if err != nil {
		return 0, fmt.Errorf("redis: charge attempt: %w", isDone(ctx, err))
	}
	return time.Duration(excess) * time.Microsecond, nil
}

// RefundAttempt implements store.AttemptCounter.
func (s *Store) RefundAttempt(ctx context.Context, key string, l store.Limit, now time.Time) (err error) {
	defer s.obs.Done(ctx, "RefundAttempt", s.obs.Start(), &err)
	err = s.refundAttempt.Run(ctx, s.rdb, []string{s.attemptKey(key)}, now.UnixMicro(), l.Every.Microseconds()).Err()
	if err != nil {
		return fmt.Errorf("redis: refund attempt: %w", isDone(ctx, err))
	}
	return nil
}

// ResetAttempts implements store.AttemptCounter.
func (s *Store) ResetAttempts(ctx context.Context, key string) (err error) {
	defer s.obs.Done(ctx, "ResetAttempts", s.obs.Start(), &err)
	if err := s.rdb.Del(ctx, s.attemptKey(key)).Err(); err != nil {
		return fmt.Errorf("redis: reset attempts: %w", isDone(ctx, err))
	}
	return nil
}
