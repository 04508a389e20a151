package sqlite

import (
	"context"
	"fmt"
	"time"

	"github.com/oauthkit/oauthkit/store"
)

var _ store.ReplayCache = (*Store)(nil)

// useOnce records a key unless a live record of it exists: an insert, or an
// update of a record whose time has passed. One row changed is a first use.
const useOnce = `INSERT INTO oauthkit_replay (key, until) VALUES (?1, ?2)
	ON CONFLICT (key) DO UPDATE SET until = excluded.until WHERE oauthkit_replay.until <= ?3`

// UseOnce implements store.ReplayCache in the database file (table
// oauthkit_replay), so that every process on the file shares it, on the
// store's clock. Clean deletes the records whose time has passed.
func (s *Store) UseOnce(ctx context.Context, key string, until time.Time) (_ bool, err error) {
	defer s.obs.Done(ctx, "UseOnce", s.obs.Start(), &err)
	if err := s.lock(ctx); err != nil {
		return false, fmt.Errorf("sqlite: use once: %w", err)
	}
	defer s.unlock()
	res, err := s.db.ExecContext(ctx, useOnce, []byte(key), until.UnixMicro(), s.now().UnixMicro())
	if err != nil {
		return false, fmt.Errorf("sqlite: use once: %w", isDone(ctx, err))
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("sqlite: use once: %w", err)
	}
	return n == 1, nil
}
