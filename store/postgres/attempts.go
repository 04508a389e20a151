package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/oauthkit/oauthkit/store"
)

var _ store.AttemptCounter = (*Store)(nil)

// attemptArgs are the arguments every attempts statement takes: key, now,
// every and burst·every, in µs.
func attemptArgs(key string, l store.Limit, now time.Time) []any {
	return []any{key, now.UnixMicro(), l.Every.Microseconds(), int64(l.Burst) * l.Every.Microseconds()}
}

// AttemptWait implements store.AttemptCounter.
func (s *Store) AttemptWait(ctx context.Context, key string, l store.Limit, now time.Time) (_ time.Duration, err error) {
	defer s.obs.Done(ctx, "AttemptWait", s.obs.Start(), &err)
	var wait int64
	err = s.pool.QueryRow(ctx, s.q.attemptWait, attemptArgs(key, l, now)...).Scan(&wait)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return 0, fmt.Errorf("postgres: attempt wait: %w", isDone(ctx, err))
	}
	return time.Duration(wait) * time.Microsecond, nil
}

// ChargeAttempt implements store.AttemptCounter with the generic cell rate
// algorithm in one statement, so that every instance on the database
// shares the count.
func (s *Store) ChargeAttempt(ctx context.Context, key string, l store.Limit, now time.Time) (_ time.Duration, err error) {
	defer s.obs.Done(ctx, "ChargeAttempt", s.obs.Start(), &err)
	var excess int64
	if err := s.pool.QueryRow(ctx, s.q.chargeAttempt, attemptArgs(key, l, now)...).Scan(&excess); err != nil {
		return 0, fmt.Errorf("postgres: charge attempt: %w", isDone(ctx, err))
	}
	return time.Duration(excess) * time.Microsecond, nil
}

// RefundAttempt implements store.AttemptCounter.
func (s *Store) RefundAttempt(ctx context.Context, key string, l store.Limit, now time.Time) (err error) {
	defer s.obs.Done(ctx, "RefundAttempt", s.obs.Start(), &err)
	if _, err := s.pool.Exec(ctx, s.q.refundAttempt, key, now.UnixMicro(), l.Every.Microseconds()); err != nil {
		return fmt.Errorf("postgres: refund attempt: %w", isDone(ctx, err))
	}
	return nil
}

// ResetAttempts implements store.AttemptCounter.
func (s *Store) ResetAttempts(ctx context.Context, key string) (err error) {
	defer s.obs.Done(ctx, "ResetAttempts", s.obs.Start(), &err)
	if _, err := s.pool.Exec(ctx, s.q.resetAttempts, key); err != nil {
		return fmt.Errorf("postgres: reset attempts: %w", isDone(ctx, err))
	}
	return nil
}
