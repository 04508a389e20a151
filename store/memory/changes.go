package memory

import (
	"context"
	"sync"

	"github.com/oauthkit/oauthkit/store"
)

var _ store.ChangeFeed = (*Store)(nil)

// changeFeed announces revocations to the subscribers in this process
// (store.ChangeFeed). A revocation is made and announced under mu, so
// announcements keep the order of the changes, and a mark follows every
// change made before it; delivery is synchronous, so a revocation has
// reached every subscriber when it returns.
type changeFeed struct {
	mu   sync.Mutex
	subs map[*func(store.Change)]struct{}
}

// announce calls every subscriber with c; mu is held.
func (f *changeFeed) announce(c store.Change) {
	for fn := range f.subs {
		(*fn)(c)
	}
}

// Subscribe implements store.ChangeFeed: fn receives a ChangeReset, then
// every revocation of this Store and every mark, until ctx is done. It
// lasts as long as the subscription, so the Observer is not told of it.
func (s *Store) Subscribe(ctx context.Context, fn func(store.Change)) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	f := &s.changes
	f.mu.Lock()
	if f.subs == nil {
		f.subs = make(map[*func(store.Change)]struct{})
	}
	f.subs[&fn] = struct{}{}
	fn(store.Change{Kind: store.ChangeReset})
	f.mu.Unlock()
	<-ctx.Done()
	f.mu.Lock()
	delete(f.subs, &fn)
	f.mu.Unlock()
	return ctx.Err()
}

// Mark implements store.ChangeFeed: every subscriber has received the mark
// when it returns.
func (s *Store) Mark(ctx context.Context, mark uint64) (err error) {
	defer s.obs.Done(ctx, "Mark", s.obs.Start(), &err)
	if err := ctx.Err(); err != nil {
		return err
	}
	s.changes.mu.Lock()
	s.changes.announce(store.Change{Kind: store.ChangeMark, Mark: mark})
	s.changes.mu.Unlock()
	return nil
}

// RevokeToken revokes the token with hash h and announces it.
func (s *Store) RevokeToken(ctx context.Context, h store.Hash) error {
	return s.revoke(func() error { return s.tokenTable.RevokeToken(ctx, h) },
		store.Change{Kind: store.ChangeToken, Hash: h})
}

// RevokeFamily revokes every token of the family at once and announces it.
func (s *Store) RevokeFamily(ctx context.Context, name string) error {
	return s.revoke(func() error { return s.tokenTable.RevokeFamily(ctx, name) },
		store.Change{Kind: store.ChangeFamily, Family: name})
}

// RevokeClient revokes every token issued to the client (see
// tokenTable.RevokeClient) and announces it.
func (s *Store) RevokeClient(ctx context.Context, clientID string) error {
	return s.revoke(func() error { return s.tokenTable.RevokeClient(ctx, clientID) },
		store.Change{Kind: store.ChangeClient, ClientID: clientID})
}

// revoke makes a change and announces it, under the feed's lock.
func (s *Store) revoke(change func() error, c store.Change) error {
	s.changes.mu.Lock()
	defer s.changes.mu.Unlock()
	if err := change(); err != nil {
		return err
	}
	s.changes.announce(c)
	return nil
}
