package memory

import (
	"context"
	"time"

	"github.com/oauthkit/oauthkit/store"
)

var _ store.ReplayCache = (*Store)(nil)

// UseOnce implements store.ReplayCache in this process, on the store's
// clock, in at most 32 MiB (internal/replay's bound): when that is full of
// live keys, a new key is refused with an error rather than let through.
func (s *Store) UseOnce(ctx context.Context, key string, until time.Time) (_ bool, err error) {
	defer s.obs.Done(ctx, "UseOnce", s.obs.Start(), &err)
	return s.replay.UseOnce(ctx, key, until)
}
