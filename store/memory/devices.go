package memory

import (
	"container/heap"
	"context"
	"sync"
	"time"

	"github.com/oauthkit/oauthkit/store"
)

var _ store.DeviceStore = (*Store)(nil)

// deviceTable keeps device authorization grants by device code hash, with
// an index by user code hash and an expiry heap; expired grants are swept
// a few at a time by the grants created after them.
type deviceTable struct {
	obs     store.Observer
	now     func() time.Time
	mu      sync.Mutex
	grants  map[store.Hash]*store.DeviceGrant // by DeviceCodeHash
	byUser  map[store.Hash]store.Hash         // UserCodeHash -> DeviceCodeHash
	expires expiryHeap
}

func (t *deviceTable) init(now func() time.Time) {
	t.now = now
	t.grants = make(map[store.Hash]*store.DeviceGrant)
	t.byUser = make(map[store.Hash]store.Hash)
}

// CreateDeviceGrant implements store.DeviceStore.
func (t *deviceTable) CreateDeviceGrant(ctx context.Context, g *store.DeviceGrant) (err error) {
	defer t.obs.Done(ctx, "CreateDeviceGrant", t.obs.Start(), &err)
	if err := ctx.Err(); err != nil {
		return err
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.sweep(t.now())
	if old, ok := t.grants[g.DeviceCodeHash]; ok && g.IssuedAt.Before(old.ExpiresAt) {
		return store.ErrExists
	}
	if dh, ok := t.byUser[g.UserCodeHash]; ok {
		if old := t.grants[dh]; g.IssuedAt.Before(old.ExpiresAt) {
			return store.ErrExists
		}
		t.remove(dh)
	}
	t.remove(g.DeviceCodeHash)
	c := *g
	c.Scopes = clip(g.Scopes)
	t.grants[c.DeviceCodeHash] = &c
	t.byUser[c.UserCodeHash] = c.DeviceCodeHash
	heap.Push(&t.expires, expiry{at: c.ExpiresAt.UnixNano(), hash: c.DeviceCodeHash})
	return nil
}

// DeviceGrantByUserCode implements store.DeviceStore.
func (t *deviceTable) DeviceGrantByUserCode(ctx context.Context, h store.Hash, now time.Time) (_ store.DeviceGrant, err error) {
	defer t.obs.Done(ctx, "DeviceGrantByUserCode", t.obs.Start(), &err)
	if err := ctx.Err(); err != nil {
		return store.DeviceGrant{}, err
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	g := t.byUserCode(h, now)
	if g == nil {
		return store.DeviceGrant{}, store.ErrNotFound
	}
	return *g, nil
}

// DecideDeviceGrant implements store.DeviceStore.
func (t *deviceTable) DecideDeviceGrant(ctx context.Context, h store.Hash, d store.DeviceDecision, now time.Time) (err error) {
	defer t.obs.Done(ctx, "DecideDeviceGrant", t.obs.Start(), &err)
	if err := ctx.Err(); err != nil {
		return err
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	g := t.byUserCode(h, now)
	if g == nil {
		return store.ErrNotFound
	}
	d.Scopes = clip(d.Scopes)
	return g.Decide(d)
}

// PollDeviceGrant implements store.DeviceStore.
func (t *deviceTable) PollDeviceGrant(ctx context.Context, h store.Hash, clientID string, now time.Time) (_ store.DeviceGrant, err error) {
	defer t.obs.Done(ctx, "PollDeviceGrant", t.obs.Start(), &err)
	if err := ctx.Err(); err != nil {
		return store.DeviceGrant{}, err
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	g, ok := t.grants[h]
	if !ok || !now.Before(g.ExpiresAt) || g.ClientID != clientID {
		return store.DeviceGrant{}, store.ErrNotFound
	}
	return g.Poll(now)
}

// byUserCode returns the live grant of user code hash h, or nil.
func (t *deviceTable) byUserCode(h store.Hash, now time.Time) *store.DeviceGrant {
	dh, ok := t.byUser[h]
	if !ok {
		return nil
	}
	g := t.grants[dh]
	if !now.Before(g.ExpiresAt) {
		return nil
	}
	return g
}

// remove forgets the grant of device code hash h, if any.
func (t *deviceTable) remove(h store.Hash) {
	if g, ok := t.grants[h]; ok {
		delete(t.byUser, g.UserCodeHash)
		delete(t.grants, h)
	}
}

// sweep removes up to sweepBatch grants expired by now.
func (t *deviceTable) sweep(now time.Time) {
	n := now.UnixNano()
	for i := 0; i < sweepBatch && len(t.expires) > 0 && t.expires[0].at <= n; i++ {
		x := heap.Pop(&t.expires).(expiry)
		if g, ok := t.grants[x.hash]; ok && g.ExpiresAt.UnixNano() <= n {
			t.remove(x.hash)
		}
	}
}
