package tokencache

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/oauthkit/oauthkit/store"
)

// Config configures a Cache. Feed, Lookup and Bound are required.
type Config struct {
	// Feed announces the store's revocations.
	Feed store.ChangeFeed
	// Lookup asks the store (store.TokenStore.Token).
	Lookup func(ctx context.Context, h store.Hash) (store.Token, error)
	// Bound is how long after its commit a revocation may still be served
	// from the cache, at most. At least MinBound.
	Bound time.Duration
	// MaxAge is how long an entry is served before the store is asked
	// again. Default DefaultMaxAge.
	MaxAge time.Duration
	// MaxEntries bounds the number of entries. Default DefaultMaxEntries.
	MaxEntries int
	// MaxBytes bounds the memory the entries take, as estimated by their
	// sizes. Default DefaultMaxBytes.
	MaxBytes int
	// Now is the clock tokens expire by. Default time.Now. Whether the feed
	// is fresh is judged on the monotonic clock, whatever Now says.
	Now func() time.Time
	// Logger hears when the feed is lost and when it is back, once per
	// incident. Default slog.Default().
	Logger *slog.Logger
	// OnLookup, if set, is told of every lookup: hit when the cache
	// answered, false when the store was asked. Default none.
	OnLookup func(ctx context.Context, hit bool)
}

// Defaults and limits.
const (
	MinBound          = 50 * time.Millisecond
	DefaultMaxAge     = time.Minute
	DefaultMaxEntries = 100_000
	DefaultMaxBytes   = 64 << 20
)

const shardCount = 64 // a power of two

// Cache is a validation cache; see the package doc. It is safe for
// concurrent use; Close stops its feed.
type Cache struct {
	cfg    Config
	maxAge int64 // ns
	margin int64 // ns: what is taken off the bound
	start  time.Time
	shards [shardCount]shard

	// gen counts changes: a lookup inserts its answer only if gen has not
	// moved since it began.
	gen atomic.Uint64
	// fresh is the monotonic time (ns since start) until which entries may
	// be served: the send time of the latest own mark back, plus the bound
	// less the margin. Zero: not serving.
	fresh atomic.Int64

	marks  markRing
	kick   chan struct{} // asks the heartbeat for a mark now (after a reset)
	losses atomic.Uint64
	down   atomic.Bool // the feed was lost and is not back: logged once
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

type shard struct {
	mu    sync.RWMutex
	m     map[store.Hash]*entry
	fams  map[string][]store.Hash // the entries of each family
	bytes int
	hits  atomic.Uint64
	miss  atomic.Uint64
	_     [64]byte // keeps neighbouring shards' counters off one cache line
}

// entry is one cached token; immutable once inserted.
type entry struct {
	tok  store.Token
	born int64 // monotonic ns since the cache's start
	size int
}

// New checks cfg, fills in its defaults and starts following the feed.
// Until the first mark comes back, every lookup goes to the store.
func New(cfg Config) (*Cache, error) {
	if cfg.Feed == nil || cfg.Lookup == nil {
		return nil, errors.New("tokencache: Feed and Lookup are required")
	}
	if cfg.Bound < MinBound {
		return nil, errors.New("tokencache: Bound must be at least 50ms")
	}
	if cfg.MaxAge < 0 || cfg.MaxEntries < 0 || cfg.MaxBytes < 0 {
		return nil, errors.New("tokencache: MaxAge, MaxEntries and MaxBytes must not be negative")
	}
	if cfg.MaxAge == 0 {
		cfg.MaxAge = DefaultMaxAge
	}
	if cfg.MaxEntries == 0 {
		cfg.MaxEntries = DefaultMaxEntries
	}
	if cfg.MaxBytes == 0 {
		cfg.MaxBytes = DefaultMaxBytes
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	c := &Cache{cfg: cfg, maxAge: int64(cfg.MaxAge), margin: int64(cfg.Bound / 10), start: time.Now(),
		kick: make(chan struct{}, 1)}
	for i := range c.shards {
		c.shards[i].m = make(map[store.Hash]*entry)
		c.shards[i].fams = make(map[string][]store.Hash)
	}
	ctx, cancel := context.WithCancel(context.Background())
	c.cancel = cancel
	c.wg.Go(func() { c.follow(ctx) })
	return c, nil
}

// Close stops following the feed and waits for its goroutines; the cache
// then asks the store for every token. It may be called more than once.
func (c *Cache) Close() {
	c.cancel()
	c.wg.Wait()
	c.drop()
}

// mono reads the monotonic clock, in ns since the cache's start.
func (c *Cache) mono() int64 { return int64(time.Since(c.start)) }

func (c *Cache) shard(h store.Hash) *shard { return &c.shards[h[0]&(shardCount-1)] }

// Token returns the live access token with hash h: from the cache while the
// feed is fresh, otherwise from the store (and then cached, if it is a live
// access token and no change arrived meanwhile). The store's errors,
// store.ErrNotFound included, are returned as they are, and never cached.
func (c *Cache) Token(ctx context.Context, h store.Hash) (store.Token, error) {
	now := c.mono()
	sh := c.shard(h)
	if now < c.fresh.Load() {
		sh.mu.RLock()
		e := sh.m[h]
		sh.mu.RUnlock()
		if e != nil && now-e.born < c.maxAge && c.cfg.Now().Before(e.tok.ExpiresAt) {
			sh.hits.Add(1)
			if c.cfg.OnLookup != nil {
				c.cfg.OnLookup(ctx, true)
			}
			return e.tok, nil
		}
	}
	sh.miss.Add(1)
	if c.cfg.OnLookup != nil {
		c.cfg.OnLookup(ctx, false)
	}
	g := c.gen.Load() // before the store is asked
	t, err := c.cfg.Lookup(ctx, h)
	if err == nil && t.Kind == store.KindAccess && t.Hash == h {
		c.insert(sh, &t, g)
	}
	return t, err
}

// insert caches t, looked up when the generation was g, unless a change
// arrived since, the feed is not fresh, or t has expired.
func (c *Cache) insert(sh *shard, t *store.Token, g uint64) {
	if !c.cfg.Now().Before(t.ExpiresAt) {
		return
	}
	size := entrySize(t)
	maxEntries, maxBytes := max(1, c.cfg.MaxEntries/shardCount), c.cfg.MaxBytes/shardCount
	if size > maxBytes {
		return
	}
	sh.mu.Lock()
	defer sh.mu.Unlock()
	now := c.mono()
	if c.gen.Load() != g || now >= c.fresh.Load() {
		return
	}
	if old := sh.m[t.Hash]; old != nil {
		sh.remove(old)
	}
	if len(sh.m) >= maxEntries || sh.bytes+size > maxBytes {
		sh.evict(now, c.maxAge, c.cfg.Now(), maxEntries, maxBytes-size)
	}
	e := &entry{tok: *t, born: now, size: size}
	sh.m[t.Hash] = e
	sh.bytes += size
	if f := t.Family; f != "" {
		sh.fams[f] = append(sh.fams[f], t.Hash)
	}
}

// remove deletes e from the shard; the lock is held.
func (sh *shard) remove(e *entry) {
	h := e.tok.Hash
	delete(sh.m, h)
	sh.bytes -= e.size
	f := e.tok.Family
	if f == "" {
		return
	}
	hs := sh.fams[f]
	for i := range hs {
		if hs[i] == h {
			hs[i] = hs[len(hs)-1]
			hs = hs[:len(hs)-1]
			break
		}
	}
	if len(hs) == 0 {
		delete(sh.fams, f)
	} else {
		sh.fams[f] = hs
	}
}

// evict makes room for one more entry of at most the given bytes: every
// expired or aged entry goes, and if that was not enough, at least an
// eighth of the shard, picked by map order. The lock is held.
func (sh *shard) evict(now, maxAge int64, wall time.Time, maxEntries, bytes int) {
	for _, e := range sh.m {
		if now-e.born >= maxAge || !wall.Before(e.tok.ExpiresAt) {
			sh.remove(e)
		}
	}
	if len(sh.m) < maxEntries && sh.bytes <= bytes {
		return
	}
	n := len(sh.m)/8 + 1
	for _, e := range sh.m {
		if n <= 0 && len(sh.m) < maxEntries && sh.bytes <= bytes {
			break
		}
		sh.remove(e)
		n--
	}
}

// entryOverhead is what an entry costs besides its strings: the entry, its
// slot in the map and in its family's list.
const entryOverhead = 512

// entrySize estimates the memory an entry of t takes.
func entrySize(t *store.Token) int {
	n := entryOverhead + len(t.Family) + len(t.ClientID) + len(t.Subject) + len(t.Username) + len(t.JKT)
	for _, s := range t.Scopes {
		n += 16 + len(s)
	}
	for _, s := range t.Audience {
		n += 16 + len(s)
	}
	return n
}

// Forget drops what c names (a ChangeToken, ChangeFamily or ChangeClient;
// anything else drops everything), as a change from the feed would: the
// Provider calls it after a revocation of its own, so that its own cache
// needs no round trip through the feed.
func (c *Cache) Forget(ch store.Change) {
	switch ch.Kind {
	case store.ChangeToken, store.ChangeFamily, store.ChangeClient:
		c.forget(ch)
	default:
		c.drop()
	}
}

// forget applies a revocation: the generation moves first, then each shard
// concerned is cleaned under its lock.
func (c *Cache) forget(ch store.Change) {
	c.gen.Add(1)
	switch ch.Kind {
	case store.ChangeToken:
		sh := c.shard(ch.Hash)
		sh.mu.Lock()
		if e := sh.m[ch.Hash]; e != nil {
			sh.remove(e)
		}
		sh.mu.Unlock()
	case store.ChangeFamily:
		for i := range c.shards {
			sh := &c.shards[i]
			sh.mu.Lock()
			for _, h := range append([]store.Hash(nil), sh.fams[ch.Family]...) {
				if e := sh.m[h]; e != nil {
					sh.remove(e)
				}
			}
			sh.mu.Unlock()
		}
	case store.ChangeClient:
		for i := range c.shards {
			sh := &c.shards[i]
			sh.mu.Lock()
			for _, e := range sh.m {
				if e.tok.ClientID == ch.ClientID {
					sh.remove(e)
				}
			}
			sh.mu.Unlock()
		}
	}
}

// drop forgets every entry.
func (c *Cache) drop() {
	c.gen.Add(1)
	for i := range c.shards {
		sh := &c.shards[i]
		sh.mu.Lock()
		clear(sh.m)
		clear(sh.fams)
		sh.bytes = 0
		sh.mu.Unlock()
	}
}

// Stats are a cache's counters.
type Stats struct {
	Hits    uint64 // lookups answered from the cache
	Misses  uint64 // lookups that went to the store
	Losses  uint64 // times the feed was taken for lost
	Entries int    // tokens held
	Bytes   int    // their estimated size
	Serving bool   // whether the feed is fresh, so that entries are served
}

// Stats returns the cache's counters.
func (c *Cache) Stats() Stats {
	s := Stats{Losses: c.losses.Load(), Serving: c.mono() < c.fresh.Load()}
	for i := range c.shards {
		sh := &c.shards[i]
		s.Hits += sh.hits.Load()
		s.Misses += sh.miss.Load()
		sh.mu.RLock()
		s.Entries += len(sh.m)
		s.Bytes += sh.bytes
		sh.mu.RUnlock()
	}
	return s
}
