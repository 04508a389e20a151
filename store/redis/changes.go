package redis

import (
	"context"
	"fmt"
	"math"

	goredis "github.com/redis/go-redis/v9"

	"github.com/oauthkit/oauthkit/internal/changewire"
	"github.com/oauthkit/oauthkit/store"
)

var _ store.ChangeFeed = (*Store)(nil)

// ChangeChannel returns the pub/sub channel on which the store announces
// revocations (store.ChangeFeed): the prefix and "changes". See README.md
// for the messages. Pub/sub channels are not scoped to a database number,
// so stores with the same prefix in two databases of one server hear each
// other's changes, which is harmless.
func (s *Store) ChangeChannel() string { return s.prefix + "changes" }

// payload is the pub/sub message of c.
func payload(c store.Change) string { return changewire.Encode(c, math.MaxInt) }

// Subscribe implements store.ChangeFeed with SUBSCRIBE on a connection of
// its own, closed when Subscribe returns. The revocation scripts PUBLISH
// from within, so each announcement is atomic with its change and Redis
// delivers them in the order it ran them. That order is one server's:
// Redis Cluster forwards PUBLISH between nodes without it, so on a cluster
// Subscribe holds a connection on every master and passes a mark on once
// it came back through all of them (cluster_feed.go). The first
// ChangeReset is sent when the server (every master) confirms the
// subscription; a message that is not a change is taken as a ChangeReset.
// It lasts as long as the subscription, so the Observer is not told of
// it.
func (s *Store) Subscribe(ctx context.Context, fn func(store.Change)) error {
	if s.cluster != nil {
		return s.subscribeCluster(ctx, fn)
	}
	channel := s.ChangeChannel()
	ps := s.rdb.Subscribe(ctx)
	defer ps.Close()
	// A blocked Receive does not watch ctx: closing the connection ends it.
	stop := context.AfterFunc(ctx, func() { _ = ps.Close() })
	defer stop()
	if err := ps.Subscribe(ctx, channel); err != nil {
		return fmt.Errorf("redis: change feed: %w", isDone(ctx, err))
	}
	for {
		msg, err := ps.Receive(ctx)
		if err != nil {
			return fmt.Errorf("redis: change feed: %w", isDone(ctx, err))
		}
		switch m := msg.(type) {
		case *goredis.Subscription:
			if m.Kind == "subscribe" && m.Channel == channel {
				fn(store.Change{Kind: store.ChangeReset})
			}
		case *goredis.Message:
			if m.Channel != channel {
				continue
			}
			c, err := changewire.Decode(m.Payload)
			if err != nil {
				c = store.Change{Kind: store.ChangeReset}
			}
			fn(c)
		}
	}
}

// Mark implements store.ChangeFeed with one PUBLISH.
func (s *Store) Mark(ctx context.Context, mark uint64) (err error) {
	defer s.obs.Done(ctx, "Mark", s.obs.Start(), &err)
	err = s.rdb.Publish(ctx, s.ChangeChannel(), payload(store.Change{Kind: store.ChangeMark, Mark: mark})).Err()
	if err != nil {
		return fmt.Errorf("redis: mark: %w", isDone(ctx, err))
	}
	return nil
}
