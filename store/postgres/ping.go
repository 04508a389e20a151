package postgres

import (
	"context"
	"fmt"

	"github.com/oauthkit/oauthkit/store"
)

var _ store.Pinger = (*Store)(nil)

// Ping implements store.Pinger: one round trip to the server, on a pooled
// connection.
func (s *Store) Ping(ctx context.Context) (err error) {
	defer s.obs.Done(ctx, "Ping", s.obs.Start(), &err)
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := s.pool.Ping(ctx); err != nil {
		return fmt.Errorf("postgres: ping: %w", isDone(ctx, err))
	}
	return nil
}
