package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/oauthkit/oauthkit/store"
)

// ChangeStore is what [RunChangeFeed] tests: a store with a change feed.
type ChangeStore interface {
	Store
	store.ChangeFeed
}

// RunChangeFeed runs the part of the suite that checks the contract written
// on [store.ChangeFeed], against the stores newStore returns (one per
// subtest, empty). [Run] calls it for a store that implements the
// capability.
//
// It checks that a subscription starts with a ChangeReset and ends with
// ctx's error; that RevokeToken, RevokeFamily and RevokeClient are each
// announced, and only after they are committed (the subscriber, reading the
// store as it receives the announcement, finds the tokens gone); that a
// mark reaches every subscriber after every change committed before it,
// revocations made concurrently included; and that a subscriber stops
// receiving once its Subscribe has returned.
func RunChangeFeed(t *testing.T, newStore func(t *testing.T) ChangeStore) {
	t.Helper()
	for _, tc := range []struct {
		name string
		fn   func(*testing.T, ChangeStore)
	}{
		{"Subscribe", testChangesSubscribe},
		{"RevokeToken", testChangesRevokeToken},
		{"RevokeFamily", testChangesRevokeFamily},
		{"RevokeClient", testChangesRevokeClient},
		{"MarkAfterChanges", testChangesMarkAfter},
		{"TwoSubscribers", testChangesTwoSubscribers},
	} {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, newStore(t)) })
	}
}

// testChanges runs RunChangeFeed's tests when s has the capability.
func testChanges(t *testing.T, newStore func(t *testing.T) Store) {
	probe, ok := newStore(t).(ChangeStore)
	if !ok || probe == nil {
		t.Skip("store does not implement store.ChangeFeed")
	}
	RunChangeFeed(t, func(t *testing.T) ChangeStore { return newStore(t).(ChangeStore) })
}

// feedWait bounds every wait for an announcement.
const feedWait = 10 * time.Second

// received is one change as a subscriber saw it, with what it found in the
// store for the tokens the test said the change takes out of service.
type received struct {
	c     store.Change
	still []store.Hash // of those tokens, the ones the store still answered for
}

// subscriber runs Subscribe on s in the background.
type subscriber struct {
	t      *testing.T
	ch     chan received
	cancel context.CancelFunc
	done   chan error
}

// subscribe starts a subscription; gone says which tokens a change takes
// out of service, for the subscriber to look up as it receives it. It
// returns once the first ChangeReset has arrived; the subscription ends
// with the test.
func subscribe(t *testing.T, s ChangeStore, gone func(store.Change) []store.Hash) *subscriber {
	t.Helper()
	ctx, cancel := context.WithCancel(context.WithoutCancel(t.Context()))
	sub := &subscriber{t: t, ch: make(chan received, 1024), cancel: cancel, done: make(chan error, 1)}
	go func() {
		sub.done <- s.Subscribe(ctx, func(c store.Change) {
			r := received{c: c}
			if gone != nil {
				for _, h := range gone(c) {
					if _, err := s.Token(ctx, h); !errors.Is(err, store.ErrNotFound) {
						r.still = append(r.still, h)
					}
				}
			}
			select {
			case sub.ch <- r:
			default: // the test stopped reading; it fails elsewhere
			}
		})
	}()
	t.Cleanup(func() { sub.stop() })
	if r := sub.next(); r.c.Kind != store.ChangeReset {
		t.Fatalf("first change of a subscription = %+v, want a ChangeReset", r.c)
	}
	return sub
}

// next returns the next change, failing the test after feedWait.
func (sub *subscriber) next() received {
	sub.t.Helper()
	select {
	case r := <-sub.ch:
		return r
	case err := <-sub.done:
		sub.t.Fatalf("Subscribe returned while the test waited for a change: %v", err)
	case <-time.After(feedWait):
		sub.t.Fatal("no change announced within", feedWait)
	}
	return received{}
}

// until returns the changes up to and including the first for which match
// is true, skipping resets (a store may send them at any time).
func (sub *subscriber) until(match func(store.Change) bool) []received {
	sub.t.Helper()
	var out []received
	for {
		r := sub.next()
		if r.c.Kind == store.ChangeReset {
			continue
		}
		out = append(out, r)
		if match(r.c) {
			return out
		}
	}
}

// stop ends the subscription and returns Subscribe's error.
func (sub *subscriber) stop() error {
	sub.cancel()
	select {
	case err := <-sub.done:
		sub.done <- err
		return err
	case <-time.After(feedWait):
		return fmt.Errorf("storetest: Subscribe still running %v after its ctx was canceled", feedWait)
	}
}

// mark publishes m and waits for it, returning the changes before it.
func (sub *subscriber) mark(s ChangeStore, m uint64) []received {
	sub.t.Helper()
	if err := s.Mark(sub.t.Context(), m); err != nil {
		sub.t.Fatalf("Mark: %v", err)
	}
	got := sub.until(func(c store.Change) bool { return c.Kind == store.ChangeMark && c.Mark == m })
	return got[:len(got)-1]
}

func testChangesSubscribe(t *testing.T, s ChangeStore) {
	sub := subscribe(t, s, nil)
	if got := sub.mark(s, 7); len(got) != 0 {
		t.Errorf("changes announced before the mark, with nothing revoked: %+v", got)
	}
	if err := sub.stop(); !errors.Is(err, context.Canceled) {
		t.Errorf("Subscribe after its ctx was canceled returned %v, want context.Canceled", err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := s.Subscribe(ctx, func(store.Change) {}); !errors.Is(err, context.Canceled) {
		t.Errorf("Subscribe with a canceled ctx returned %v, want context.Canceled", err)
	}
}

// announced fails the test unless got holds the change want, and the
// subscriber found none of the tokens it took out of service.
func announced(t *testing.T, got []received, want store.Change) {
	t.Helper()
	for _, r := range got {
		if r.c == want {
			if len(r.still) > 0 {
				t.Errorf("%+v: on its announcement, the store still answered for %d of its tokens: announced before it was committed", want, len(r.still))
			}
			return
		}
	}
	t.Errorf("%+v not announced before the next mark; got %+v", want, got)
}

func testChangesRevokeToken(t *testing.T, s ChangeStore) {
	tok, _ := newToken(store.KindAccess, newFamily(), time.Hour)
	create(t, s, tok)
	sibling, _ := newToken(store.KindAccess, tok.Family, time.Hour)
	create(t, s, sibling)
	sub := subscribe(t, s, func(c store.Change) []store.Hash {
		if c.Kind == store.ChangeToken {
			return []store.Hash{c.Hash}
		}
		return nil
	})
	if err := s.RevokeToken(t.Context(), tok.Hash); err != nil {
		t.Fatal(err)
	}
	want := store.Change{Kind: store.ChangeToken, Hash: tok.Hash}
	announced(t, sub.mark(s, 1), want)
	if _, err := s.Token(t.Context(), sibling.Hash); err != nil {
		t.Errorf("the revoked token's sibling: %v", err)
	}
}

func testChangesRevokeFamily(t *testing.T, s ChangeStore) {
	fam := newFamily()
	var members []store.Hash
	for _, k := range []store.Kind{store.KindAccess, store.KindRefresh, store.KindAccess} {
		tok, _ := newToken(k, fam, time.Hour)
		create(t, s, tok)
		members = append(members, tok.Hash)
	}
	sub := subscribe(t, s, func(c store.Change) []store.Hash {
		if c.Kind == store.ChangeFamily && c.Family == fam {
			return members
		}
		return nil
	})
	if err := s.RevokeFamily(t.Context(), fam); err != nil {
		t.Fatal(err)
	}
	announced(t, sub.mark(s, 2), store.Change{Kind: store.ChangeFamily, Family: fam})
}

func testChangesRevokeClient(t *testing.T, s ChangeStore) {
	const client = "client-changes"
	var members []store.Hash
	for _, fam := range []string{newFamily(), ""} {
		for _, k := range []store.Kind{store.KindAccess, store.KindRefresh} {
			tok, _ := newToken(k, fam, time.Hour)
			tok.ClientID = client
			create(t, s, tok)
			members = append(members, tok.Hash)
		}
	}
	sub := subscribe(t, s, func(c store.Change) []store.Hash {
		if c.Kind == store.ChangeClient && c.ClientID == client {
			return members
		}
		return nil
	})
	if err := s.RevokeClient(t.Context(), client); err != nil {
		t.Fatal(err)
	}
	announced(t, sub.mark(s, 3), store.Change{Kind: store.ChangeClient, ClientID: client})
}

// testChangesMarkAfter: revocations made concurrently, and each committed
// before Mark is called, all reach the subscriber before the mark.
func testChangesMarkAfter(t *testing.T, s ChangeStore) {
	sub := subscribe(t, s, nil)
	for round := range 5 {
		toks := make([]store.Token, 20)
		for i := range toks {
			toks[i], _ = newToken(store.KindAccess, "", time.Hour)
			create(t, s, toks[i])
		}
		var wg sync.WaitGroup
		for _, tok := range toks {
			wg.Go(func() {
				if err := s.RevokeToken(t.Context(), tok.Hash); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		got := sub.mark(s, uint64(100+round))
		for _, tok := range toks {
			announced(t, got, store.Change{Kind: store.ChangeToken, Hash: tok.Hash})
		}
	}
}

// testChangesTwoSubscribers: both subscribers receive a change and a mark;
// one that has stopped receives nothing more, and the other still does.
func testChangesTwoSubscribers(t *testing.T, s ChangeStore) {
	a, b := subscribe(t, s, nil), subscribe(t, s, nil)
	tok, _ := newToken(store.KindAccess, "", time.Hour)
	create(t, s, tok)
	if err := s.RevokeToken(t.Context(), tok.Hash); err != nil {
		t.Fatal(err)
	}
	want := store.Change{Kind: store.ChangeToken, Hash: tok.Hash}
	if err := s.Mark(t.Context(), 9); err != nil {
		t.Fatal(err)
	}
	for _, sub := range []*subscriber{a, b} {
		announced(t, sub.until(func(c store.Change) bool { return c.Kind == store.ChangeMark && c.Mark == 9 }), want)
	}
	if err := a.stop(); !errors.Is(err, context.Canceled) {
		t.Errorf("Subscribe after its ctx was canceled returned %v, want context.Canceled", err)
	}
	for len(a.ch) > 0 {
		<-a.ch
	}
	if got := b.mark(s, 10); len(got) != 0 {
		t.Errorf("changes before the second mark: %+v", got)
	}
	if len(a.ch) > 0 {
		t.Errorf("a subscriber whose Subscribe returned still received %+v", (<-a.ch).c)
	}
}
