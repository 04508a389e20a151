package redis

import (
	"context"
	"fmt"

	"github.com/oauthkit/oauthkit/store"
)

var _ store.Pinger = (*Store)(nil)

// Ping implements store.Pinger: one PING to the server. (Unless the client
// honours context deadlines, go-redis's ContextTimeoutEnabled, a server
// that does not answer holds it for the client's read timeout.)
func (s *Store) Ping(ctx context.Context) (err error) {
	defer s.obs.Done(ctx, "Ping", s.obs.Start(), &err)
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := s.rdb.Ping(ctx).Err(); err != nil {
		return fmt.Errorf("redis: ping: %w", isDone(ctx, err))
	}
	return nil
}
