package tokencache

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/oauthkit/oauthkit/store"
)

// errSilent ends a subscription whose marks stopped coming back.
var errSilent = errors.New("no heartbeat came back through the change feed for twice the bound")

// maxRetry bounds the wait between two subscriptions while the feed is
// down, so that the cache is back within about a second of the store.
const maxRetry = time.Second

// follow subscribes to the feed until ctx is done, again each time the
// subscription ends, waiting a little longer each time it ends without
// having delivered a mark.
func (c *Cache) follow(ctx context.Context) {
	wait := c.cfg.Bound / 4
	for {
		delivered, err := c.subscribe(ctx)
		c.fresh.Store(0)
		c.drop()
		if ctx.Err() != nil {
			return
		}
		c.losses.Add(1)
		if c.down.CompareAndSwap(false, true) {
			c.cfg.Logger.Warn("grant: validation cache: change feed lost; validating every token against the store until it is back", "err", err)
		}
		if delivered {
			wait = c.cfg.Bound / 4
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		wait = min(2*wait, maxRetry)
	}
}

// subscribe runs one subscription, with its heartbeat, until ctx is done,
// the subscription ends, or the heartbeat takes it for lost. It reports
// whether a mark came back.
func (c *Cache) subscribe(ctx context.Context) (bool, error) {
	sctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	c.marks.restart(c.mono())
	var wg sync.WaitGroup
	wg.Go(func() { c.beat(sctx, func() { cancel(errSilent) }) })
	err := c.cfg.Feed.Subscribe(sctx, c.apply)
	if errors.Is(context.Cause(sctx), errSilent) {
		err = errSilent
	}
	cancel(nil)
	wg.Wait()
	return c.marks.delivered(), err
}

// beat publishes a mark every Bound/4, and one at once after a reset; when
// no mark has come back for twice Bound (counting from the subscription's
// start), it calls lost, which ends the subscription. (The cache stopped
// serving long before, at 0.9·Bound: waiting longer to give the
// subscription up rides out a store that stalls for a moment without
// dropping every entry.)
func (c *Cache) beat(ctx context.Context, lost func()) {
	t := time.NewTicker(c.cfg.Bound / 4)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-c.kick:
		}
		if c.mono()-c.marks.proof.Load() > 2*int64(c.cfg.Bound) {
			lost()
			return
		}
		var b [8]byte
		_, _ = rand.Read(b[:]) // never fails; unguessable, so that no one else's message passes for a mark of ours
		m := binary.LittleEndian.Uint64(b[:])
		c.marks.sent(m, c.mono())
		mctx, cancel := context.WithTimeout(ctx, c.cfg.Bound/2)
		_ = c.cfg.Feed.Mark(mctx, m) // a mark that fails does not come back: that is the signal
		cancel()
	}
}

// apply is the feed's callback.
func (c *Cache) apply(ch store.Change) {
	switch ch.Kind {
	case store.ChangeMark:
		at, ok := c.marks.back(ch.Mark)
		if !ok {
			return // another instance's, or from before the last reset
		}
		if c.down.CompareAndSwap(true, false) {
			c.cfg.Logger.Info("grant: validation cache: change feed back; serving cached tokens again")
		}
		if f := at + int64(c.cfg.Bound) - c.margin; f > c.fresh.Load() {
			c.fresh.Store(f)
		}
	case store.ChangeToken, store.ChangeFamily, store.ChangeClient:
		c.forget(ch)
	default: // ChangeReset, or a kind this cache does not know
		c.marks.restart(c.mono())
		c.fresh.Store(0)
		c.drop()
		select {
		case c.kick <- struct{}{}:
		default:
		}
	}
}

// markRing remembers the last marks sent, and when.
type markRing struct {
	mu    sync.Mutex
	ring  [8]sentMark
	next  int
	since int64 // the last reset: marks sent before do not count
	// proof is the send time of the latest mark back, or the last reset
	// if none has come back since (monotonic ns).
	proof atomic.Int64
}

type sentMark struct {
	mark uint64
	at   int64
}

// restart forgets the marks sent before now.
func (r *markRing) restart(now int64) {
	r.mu.Lock()
	r.since = now
	r.ring = [8]sentMark{}
	r.mu.Unlock()
	r.proof.Store(now)
}

func (r *markRing) sent(m uint64, at int64) {
	r.mu.Lock()
	r.ring[r.next] = sentMark{mark: m, at: at}
	r.next = (r.next + 1) % len(r.ring)
	r.mu.Unlock()
}

// back reports when m was sent, if it is one of ours since the last reset.
func (r *markRing) back(m uint64) (int64, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, s := range r.ring {
		if s.mark == m && s.at != 0 && s.at >= r.since {
			if s.at > r.proof.Load() {
				r.proof.Store(s.at)
			}
			return s.at, true
		}
	}
	return 0, false
}

// delivered reports whether a mark came back since the last reset.
func (r *markRing) delivered() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.proof.Load() > r.since
}
