package memory

import (
	"container/heap"
	"context"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/oauthkit/oauthkit/store"
)

const (
	shardCount = 64 // a power of two
	sweepBatch = 4  // expired entries removed per write, at most
)

type family struct {
	name    string
	revoked atomic.Bool
	live    int       // tokens still in the table; under tokenTable.famMu
	until   time.Time // latest expiry of its tokens; under tokenTable.famMu
}

type entry struct {
	tok      store.Token
	fam      *family
	consumed bool // under the shard's lock
	revoked  bool // under the shard's lock; the entry stays until it expires
}

type expiry struct {
	at   int64 // unix nanoseconds
	hash store.Hash
}

type expiryHeap []expiry

func (h expiryHeap) Len() int           { return len(h) }
func (h expiryHeap) Less(i, j int) bool { return h[i].at < h[j].at }
func (h expiryHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *expiryHeap) Push(x any)        { *h = append(*h, x.(expiry)) }
func (h *expiryHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

type shard struct {
	mu      sync.RWMutex
	m       map[store.Hash]*entry
	expires expiryHeap
}

type tokenTable struct {
	now    func() time.Time
	shards [shardCount]shard

	famMu    sync.Mutex
	families map[string]*family
}

func (t *tokenTable) init(now func() time.Time) {
	t.now = now
	t.families = make(map[string]*family)
	for i := range t.shards {
		t.shards[i].m = make(map[store.Hash]*entry)
	}
}

func (t *tokenTable) shard(h store.Hash) *shard { return &t.shards[h[0]&(shardCount-1)] }

// CreateToken stores a copy of tok.
func (t *tokenTable) CreateToken(ctx context.Context, tok *store.Token) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	fam, err := t.join(tok.Family, tok.ExpiresAt)
	if err != nil {
		return err
	}
	e := &entry{tok: *tok, fam: fam}
	e.tok.Scopes = slices.Clip(tok.Scopes)
	sh := t.shard(tok.Hash)
	sh.mu.Lock()
	if _, ok := sh.m[tok.Hash]; ok {
		sh.mu.Unlock()
		t.leave([]*family{fam})
		return store.ErrExists
	}
	sh.m[tok.Hash] = e
	heap.Push(&sh.expires, expiry{at: tok.ExpiresAt.UnixNano(), hash: tok.Hash})
	gone := sh.sweep(t.now().UnixNano())
	sh.mu.Unlock()
	t.leave(gone)
	return nil
}

// join registers one more token in the named family; a token of no family
// (empty name) joins none.
func (t *tokenTable) join(name string, until time.Time) (*family, error) {
	if name == "" {
		return nil, nil
	}
	t.famMu.Lock()
	defer t.famMu.Unlock()
	f := t.families[name]
	if f == nil {
		f = &family{name: name}
		t.families[name] = f
	}
	if f.revoked.Load() {
		return nil, store.ErrRevoked
	}
	f.live++
	if until.After(f.until) {
		f.until = until
	}
	return f, nil
}

// leave forgets swept tokens; a family is dropped with its last token.
func (t *tokenTable) leave(fams []*family) {
	if len(fams) == 0 || len(fams) == 1 && fams[0] == nil {
		return
	}
	t.famMu.Lock()
	defer t.famMu.Unlock()
	for _, f := range fams {
		if f == nil {
			continue
		}
		// Entries leave only when swept after expiry, so a family whose
		// last entry leaves has outlived every token it had: its revocation
		// marker is no longer needed.
		if f.live--; f.live <= 0 && t.families[f.name] == f {
			delete(t.families, f.name)
		}
	}
}

// sweep removes up to sweepBatch expired entries; it returns their families.
func (sh *shard) sweep(now int64) []*family {
	var gone []*family
	for i := 0; i < sweepBatch && len(sh.expires) > 0 && sh.expires[0].at <= now; i++ {
		x := heap.Pop(&sh.expires).(expiry)
		if e, ok := sh.m[x.hash]; ok && e.tok.ExpiresAt.UnixNano() <= now {
			delete(sh.m, x.hash)
			gone = append(gone, e.fam)
		}
	}
	return gone
}

// Token returns the live token with hash h.
func (t *tokenTable) Token(ctx context.Context, h store.Hash) (store.Token, error) {
	if err := ctx.Err(); err != nil {
		return store.Token{}, err
	}
	sh := t.shard(h)
	sh.mu.RLock()
	e, ok := sh.m[h]
	usable := ok && !e.consumed && !e.revoked
	sh.mu.RUnlock()
	if !usable || !t.live(e) {
		return store.Token{}, store.ErrNotFound
	}
	return e.tok, nil
}

func (t *tokenTable) live(e *entry) bool {
	return (e.fam == nil || !e.fam.revoked.Load()) && t.now().Before(e.tok.ExpiresAt)
}

// ConsumeToken marks the token used, once.
func (t *tokenTable) ConsumeToken(ctx context.Context, h store.Hash) (store.Token, error) {
	if err := ctx.Err(); err != nil {
		return store.Token{}, err
	}
	sh := t.shard(h)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	e, ok := sh.m[h]
	if !ok || e.revoked || !t.live(e) {
		return store.Token{}, store.ErrNotFound
	}
	if e.consumed {
		return e.tok, store.ErrConsumed
	}
	e.consumed = true
	e.tok.ConsumedAt = t.now()
	return e.tok, nil
}

// RevokeToken revokes the token with hash h; the sweep removes it once it
// would have expired.
func (t *tokenTable) RevokeToken(ctx context.Context, h store.Hash) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	sh := t.shard(h)
	sh.mu.Lock()
	if e, ok := sh.m[h]; ok {
		e.revoked = true
	}
	sh.mu.Unlock()
	return nil
}

// RevokeFamily revokes every token of the family at once.
func (t *tokenTable) RevokeFamily(ctx context.Context, name string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	t.famMu.Lock()
	if f := t.families[name]; f != nil {
		f.revoked.Store(true)
	}
	t.famMu.Unlock()
	return nil
}

// Len returns how many tokens the store holds, expired ones not yet swept
// included.
func (t *tokenTable) Len() int {
	n := 0
	for i := range t.shards {
		sh := &t.shards[i]
		sh.mu.RLock()
		n += len(sh.m)
		sh.mu.RUnlock()
	}
	return n
}
