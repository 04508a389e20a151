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

// ReserveAttempt implements store.AttemptCounter with the generic cell
// rate algorithm in one statement, so that every instance on the database
// shares the count.
func (s *Store) ReserveAttempt(ctx context.Context, key string, l store.Limit, now time.Time) (time.Duration, error) {
	args := []any{key, now.UnixMicro(), l.Every.Microseconds(), int64(l.Burst) * l.Every.Microseconds()}
	var (
		taken bool
		wait  int64
	)
	err := s.pool.QueryRow(ctx, s.q.reserveAttempt, args...).Scan(&taken, &wait)
	if err == nil && taken {
		return 0, nil
	}
	if errors.Is(err, pgx.ErrNoRows) || err == nil && wait <= 0 {
		// Refused by a version newer than this statement's snapshot:
		// read the wait again.
		err = s.pool.QueryRow(ctx, s.q.attemptWait, args...).Scan(&wait)
	}
	if err != nil {
		return 0, fmt.Errorf("postgres: reserve attempt: %w", isDone(ctx, err))
	}
	if wait <= 0 {
		wait = 1000 // refunded meanwhile: try again soon
	}
	return time.Duration(wait) * time.Microsecond, nil
}

// RefundAttempt implements store.AttemptCounter.
func (s *Store) RefundAttempt(ctx context.Context, key string, l store.Limit, now time.Time) error {
	if _, err := s.pool.Exec(ctx, s.q.refundAttempt, key, now.UnixMicro(), l.Every.Microseconds()); err != nil {
		return fmt.Errorf("postgres: refund attempt: %w", isDone(ctx, err))
	}
	return nil
}

// ResetAttempts implements store.AttemptCounter.
func (s *Store) ResetAttempts(ctx context.Context, key string) error {
	if _, err := s.pool.Exec(ctx, s.q.resetAttempts, key); err != nil {
		return fmt.Errorf("postgres: reset attempts: %w", isDone(ctx, err))
	}
	return nil
}
