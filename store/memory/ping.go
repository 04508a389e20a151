package memory

import (
	"context"

	"github.com/oauthkit/oauthkit/store"
)

var _ store.Pinger = (*Store)(nil)

// Ping implements store.Pinger: a memory store always answers, until ctx
// is done.
func (s *Store) Ping(ctx context.Context) (err error) {
	defer s.obs.Done(ctx, "Ping", s.obs.Start(), &err)
	return ctx.Err()
}
