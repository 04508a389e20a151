package sqlite

import (
	"context"
	"fmt"

	"github.com/oauthkit/oauthkit/store"
)

var _ store.Pinger = (*Store)(nil)

// Ping implements store.Pinger: it checks that the database can be
// reached (an error once Close, or the host, closed it).
func (s *Store) Ping(ctx context.Context) (err error) {
	defer s.obs.Done(ctx, "Ping", s.obs.Start(), &err)
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := s.db.PingContext(ctx); err != nil {
		return fmt.Errorf("sqlite: ping: %w", isDone(ctx, err))
	}
	return nil
}
