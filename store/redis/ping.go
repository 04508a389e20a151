package redis

import (
	"context"
	"fmt"

	"github.com/oauthkit/oauthkit/store"
)

var _ store.Pinger = (*Store)(nil)

// Ping implements store.Pinger: one round trip that increments the
// readiness counter (ready.go; on a cluster, one per master, in parallel).
// It fails with an error wrapping store.ErrReset, from the first Ping that
// finds a counter lower than it was, until the process restarts: the server
// lost acknowledged writes. (Unless the client honours context deadlines,
// go-redis's ContextTimeoutEnabled, a server that does not answer holds it
// for the client's read timeout.)
func (s *Store) Ping(ctx context.Context) (err error) {
	defer s.obs.Done(ctx, "Ping", s.obs.Start(), &err)
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := s.bumpReadiness(ctx); err != nil {
		s.ready.mu.Lock()
		lost := s.ready.lost
		s.ready.mu.Unlock()
		if lost != nil {
			return lost
		}
		return fmt.Errorf("redis: ping: %w", isDone(ctx, err))
	}
	return nil
}
