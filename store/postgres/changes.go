package postgres

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/oauthkit/oauthkit/internal/changewire"
	"github.com/oauthkit/oauthkit/store"
)

var _ store.ChangeFeed = (*Store)(nil)

// maxPayload is the longest NOTIFY payload PostgreSQL takes (shorter than
// 8000 bytes); a longer change is announced as a reset.
const maxPayload = 7999

// changeChannel is the NOTIFY channel of a schema's changes:
// "oauthkit_changes:" and the schema name, or, when that is longer than an
// identifier may be (63 bytes), the first 32 hex digits of the name's
// SHA-256 instead of the name.
func changeChannel(schema string) string {
	const prefix = "oauthkit_changes:"
	if len(prefix)+len(schema) <= 63 {
		return prefix + schema
	}
	sum := sha256.Sum256([]byte(schema))
	return prefix + hex.EncodeToString(sum[:16])
}

// ChangeChannel returns the NOTIFY channel on which the store announces
// revocations (store.ChangeFeed); see README.md for the payloads.
func (s *Store) ChangeChannel() string { return s.channel }

// payload is the NOTIFY payload of c.
func payload(c store.Change) string { return changewire.Encode(c, maxPayload) }

// Subscribe implements store.ChangeFeed with LISTEN on a connection of its
// own, taken from the pool (and out of it, so that it does not count
// against the pool's size) and closed when Subscribe returns. Revocations
// NOTIFY in the statement or transaction that makes them, so PostgreSQL
// delivers each after its commit, in commit order. A payload that is not a
// change is taken as a ChangeReset. It lasts as long as the subscription,
// so the Observer is not told of it.
func (s *Store) Subscribe(ctx context.Context, fn func(store.Change)) error {
	pc, err := s.pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("postgres: change feed: %w", isDone(ctx, err))
	}
	conn := pc.Hijack()
	defer func() {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 100*time.Millisecond)
		defer cancel()
		_ = conn.Close(cctx)
	}()
	if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{s.channel}.Sanitize()); err != nil {
		return fmt.Errorf("postgres: change feed: %w", isDone(ctx, err))
	}
	fn(store.Change{Kind: store.ChangeReset})
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return fmt.Errorf("postgres: change feed: %w", isDone(ctx, err))
		}
		if n.Channel != s.channel {
			continue
		}
		c, err := changewire.Decode(n.Payload)
		if err != nil {
			c = store.Change{Kind: store.ChangeReset}
		}
		fn(c)
	}
}

// Mark implements store.ChangeFeed: one NOTIFY, in a transaction of its
// own, so that listeners receive it after every change committed before.
func (s *Store) Mark(ctx context.Context, mark uint64) (err error) {
	defer s.obs.Done(ctx, "Mark", s.obs.Start(), &err)
	if _, err := s.pool.Exec(ctx, `SELECT pg_notify($1, $2)`, s.channel, payload(store.Change{Kind: store.ChangeMark, Mark: mark})); err != nil {
		return fmt.Errorf("postgres: mark: %w", isDone(ctx, err))
	}
	return nil
}
