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

// Layout. With a million live tokens, what the garbage collector must trace
// decides the cost of every request, so a token is kept without pointers of
// its own: the shard's index maps a hash to a slot number, slots hold times,
// flags and small integers, and the strings a token shares with others of
// the same client, user, scopes and grant properties (audience, DPoP key,
// auth_time) live once per shard in an interned meta.
// Only a token that belongs to a family carries one pointer, to the family.

const (
	shardCount = 64 // a power of two
	sweepBatch = 4  // expired entries removed per write, at most
)

type family struct {
	name    string
	revoked atomic.Bool
	live    int // tokens still in the table; under tokenTable.famMu
}

// slot is one stored token.
type slot struct {
	issued, expires, consumedAt int64 // unix nanoseconds
	fam                         *family
	meta                        uint32 // index into shard.metas
	kind                        store.Kind
	consumed, revoked           bool // revoked entries stay until they expire
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
	index   map[store.Hash]uint32 // hash -> slot number; no pointers to trace
	slots   []slot
	free    []uint32 // slot numbers to reuse
	expires expiryHeap
	metaTable
}

type tokenTable struct {
	obs    store.Observer
	now    func() time.Time
	shards [shardCount]shard

	famMu    sync.Mutex
	families map[string]*family
}

func (t *tokenTable) init(now func() time.Time) {
	t.now = now
	t.families = make(map[string]*family)
	for i := range t.shards {
		t.shards[i].index = make(map[store.Hash]uint32)
		t.shards[i].metaTable.init()
	}
}

func (t *tokenTable) shard(h store.Hash) *shard { return &t.shards[h[0]&(shardCount-1)] }

// CreateToken stores a copy of tok.
func (t *tokenTable) CreateToken(ctx context.Context, tok *store.Token) (err error) {
	defer t.obs.Done(ctx, "CreateToken", t.obs.Start(), &err)
	if err := ctx.Err(); err != nil {
		return err
	}
	fam, err := t.join(tok.Family)
	if err != nil {
		return err
	}
	sh := t.shard(tok.Hash)
	sh.mu.Lock()
	if _, ok := sh.index[tok.Hash]; ok {
		sh.mu.Unlock()
		t.leave([]*family{fam})
		return store.ErrExists
	}
	s := slot{
		issued: tok.IssuedAt.UnixNano(), expires: tok.ExpiresAt.UnixNano(),
		fam: fam, meta: sh.intern(tok), kind: tok.Kind,
	}
	var n uint32
	if k := len(sh.free); k > 0 {
		n, sh.free = sh.free[k-1], sh.free[:k-1]
		sh.slots[n] = s
	} else {
		n = uint32(len(sh.slots))
		sh.slots = append(sh.slots, s)
	}
	sh.index[tok.Hash] = n
	heap.Push(&sh.expires, expiry{at: s.expires, hash: tok.Hash})
	gone := sh.sweep(t.now().UnixNano())
	sh.mu.Unlock()
	t.leave(gone)
	return nil
}

// join registers one more token in the named family; a token of no family
// (empty name) joins none.
func (t *tokenTable) join(name string) (*family, error) {
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
		n, ok := sh.index[x.hash]
		if !ok || sh.slots[n].expires > now {
			continue
		}
		s := &sh.slots[n]
		gone = append(gone, s.fam)
		sh.release(s.meta)
		*s = slot{}
		delete(sh.index, x.hash)
		sh.free = append(sh.free, n)
	}
	return gone
}

// Token returns the live token with hash h.
func (t *tokenTable) Token(ctx context.Context, h store.Hash) (_ store.Token, err error) {
	defer t.obs.Done(ctx, "Token", t.obs.Start(), &err)
	if err := ctx.Err(); err != nil {
		return store.Token{}, err
	}
	now := t.now().UnixNano()
	sh := t.shard(h)
	sh.mu.RLock()
	n, ok := sh.index[h]
	var tok store.Token
	if ok {
		s := &sh.slots[n]
		ok = !s.consumed && !s.revoked && live(s, now)
		if ok {
			tok = sh.token(h, s)
		}
	}
	sh.mu.RUnlock()
	if !ok {
		return store.Token{}, store.ErrNotFound
	}
	return tok, nil
}

func live(s *slot, now int64) bool {
	return (s.fam == nil || !s.fam.revoked.Load()) && now < s.expires
}

// token rebuilds a store.Token from a slot; strings, scopes and audience are
// shared.
func (sh *shard) token(h store.Hash, s *slot) store.Token {
	m := &sh.metas[s.meta]
	t := store.Token{
		Hash: h, Kind: s.kind, ClientID: m.clientID, Subject: m.subject, Username: m.username,
		Scopes: m.scopes, Audience: m.audience, JKT: m.jkt,
		IssuedAt: time.Unix(0, s.issued), ExpiresAt: time.Unix(0, s.expires),
		RedirectURI: m.redirectURI, CodeChallenge: m.codeChallenge, Nonce: m.nonce,
	}
	if m.authTime != 0 {
		t.AuthTime = time.Unix(0, m.authTime)
	}
	if s.fam != nil {
		t.Family = s.fam.name
	}
	if s.consumedAt != 0 {
		t.ConsumedAt = time.Unix(0, s.consumedAt)
	}
	return t
}

// ConsumeToken marks the token used, once.
func (t *tokenTable) ConsumeToken(ctx context.Context, h store.Hash) (_ store.Token, err error) {
	defer t.obs.Done(ctx, "ConsumeToken", t.obs.Start(), &err)
	if err := ctx.Err(); err != nil {
		return store.Token{}, err
	}
	now := t.now().UnixNano()
	sh := t.shard(h)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	n, ok := sh.index[h]
	if !ok || sh.slots[n].revoked || !live(&sh.slots[n], now) {
		return store.Token{}, store.ErrNotFound
	}
	s := &sh.slots[n]
	if s.consumed {
		return sh.token(h, s), store.ErrConsumed
	}
	s.consumed, s.consumedAt = true, now
	return sh.token(h, s), nil
}

// RevokeToken revokes the token with hash h; the sweep removes it once it
// would have expired.
func (t *tokenTable) RevokeToken(ctx context.Context, h store.Hash) (err error) {
	defer t.obs.Done(ctx, "RevokeToken", t.obs.Start(), &err)
	if err := ctx.Err(); err != nil {
		return err
	}
	sh := t.shard(h)
	sh.mu.Lock()
	if n, ok := sh.index[h]; ok {
		sh.slots[n].revoked = true
	}
	sh.mu.Unlock()
	return nil
}

// RevokeFamily revokes every token of the family at once.
func (t *tokenTable) RevokeFamily(ctx context.Context, name string) (err error) {
	defer t.obs.Done(ctx, "RevokeFamily", t.obs.Start(), &err)
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

// RevokeClient revokes every token issued to the client. Each shard is
// scanned under its write lock: first its metas, for those of the client,
// then its slots, marking revoked those that point at one (the sweep
// removes them once they would have expired). It is O(tokens), which suits
// a rare administrative call; a token created in a shard already scanned
// escapes it.
func (t *tokenTable) RevokeClient(ctx context.Context, clientID string) (err error) {
	defer t.obs.Done(ctx, "RevokeClient", t.obs.Start(), &err)
	if err := ctx.Err(); err != nil {
		return err
	}
	var match []bool // by meta index; reused from shard to shard
	for i := range t.shards {
		sh := &t.shards[i]
		sh.mu.Lock()
		var found bool
		if match, found = sh.clientMetas(clientID, match); found {
			// Free slots are zero, so one may point at a matching meta
			// 0; marking it does no harm, as reuse overwrites the slot.
			for n := range sh.slots {
				if s := &sh.slots[n]; match[s.meta] {
					s.revoked = true
				}
			}
		}
		sh.mu.Unlock()
	}
	return nil
}

// Len returns how many tokens the store holds, expired ones not yet swept
// included.
func (t *tokenTable) Len() int {
	n := 0
	for i := range t.shards {
		sh := &t.shards[i]
		sh.mu.RLock()
		n += len(sh.index)
		sh.mu.RUnlock()
	}
	return n
}

// clip keeps a stored scope slice from sharing spare capacity with the
// caller's.
func clip(s []string) []string { return slices.Clip(slices.Clone(s)) }
