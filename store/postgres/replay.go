package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/oauthkit/oauthkit/store"
)

var _ store.ReplayCache = (*Store)(nil)

// UseOnce implements store.ReplayCache in one statement on the table
// oauthkit_replay, so that every instance on the database sees every use,
// on the store's clock (instances sharing a database should share a clock).
// Clean deletes the records whose time has passed.
func (s *Store) UseOnce(ctx context.Context, key string, until time.Time) (_ bool, err error) {
	defer s.obs.Done(ctx, "UseOnce", s.obs.Start(), &err)
	tag, err := s.pool.Exec(ctx, s.q.useOnce, []byte(key), until, s.now())
	if err != nil {
		return false, fmt.Errorf("postgres: use once: %w", isDone(ctx, err))
	}
	return tag.RowsAffected() == 1, nil
}
