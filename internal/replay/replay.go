// Package replay is an in-process store.ReplayCache bounded in memory: the
// one-time values (DPoP proof and client assertion jti) of one process, for
// a store that has no replay cache of its own and for a resource server that
// shares none.
//
// Keys are hashed to 128 bits, so that a long key costs no more than a short
// one. An entry lives until its until time; expired entries are dropped as
// new ones come in, oldest expiry first. When the cache is full of live
// entries it refuses a new key with [ErrFull] rather than forget a live one:
// forgetting would let that value be replayed, so the cache fails closed
// until the first entry expires. The package knows nothing of OAuth and
// imports only the standard library, so that a resource server's middleware
// can use it without the store package.
package replay

import (
	"container/heap"
	"context"
	"crypto/sha256"
	"errors"
	"sync"
	"time"
)

// ErrFull means a Cache is full of live entries and cannot record a new key:
// the value is refused, not let through unrecorded.
var ErrFull = errors.New("replay: cache full of live entries")

// EntryBytes is what one key costs a Cache: its share of the map and of the
// expiry heap. TestEntryBytes measures it.
const EntryBytes = 96

// DefaultBytes is the size bound of a Cache made with zero.
const DefaultBytes = 32 << 20

// sweepBatch bounds how many expired entries one UseOnce drops when the
// cache is not full.
const sweepBatch = 8

type key [16]byte

type expiry struct {
	at int64 // unix nanoseconds
	k  key
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

// Cache is an in-process store.ReplayCache of at most a given size. It is
// safe for concurrent use.
type Cache struct {
	now func() time.Time

	mu  sync.Mutex
	m   map[key]int64 // until, unix nanoseconds
	exp expiryHeap
	max int // entries
}

// New returns a Cache of at most maxBytes (DefaultBytes if zero or less)
// that reads the time from now (time.Now if nil).
func New(maxBytes int, now func() time.Time) *Cache {
	if maxBytes <= 0 {
		maxBytes = DefaultBytes
	}
	if now == nil {
		now = time.Now
	}
	return &Cache{now: now, m: make(map[key]int64), max: max(1, maxBytes/EntryBytes)}
}

// Len returns how many keys the cache holds, expired ones not yet dropped
// included.
func (c *Cache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.m)
}

// UseOnce implements store.ReplayCache. It returns ErrFull, and false, when
// the key is new but the cache is full of live entries.
func (c *Cache) UseOnce(ctx context.Context, k string, until time.Time) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	sum := sha256.Sum256([]byte(k))
	h := key(sum[:len(key{})])
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now().UnixNano()
	c.sweep(now, sweepBatch)
	if u, ok := c.m[h]; ok {
		if u > now {
			return false, nil
		}
		delete(c.m, h)
	}
	u := until.UnixNano()
	if u <= now {
		return true, nil // forgotten at once
	}
	if len(c.m) >= c.max {
		if c.sweep(now, len(c.exp)); len(c.m) >= c.max {
			return false, ErrFull
		}
	}
	c.m[h] = u
	heap.Push(&c.exp, expiry{at: u, k: h})
	return true, nil
}

// sweep drops up to n entries that have expired at now, earliest first.
// A heap entry whose key was recorded again since is dropped alone.
func (c *Cache) sweep(now int64, n int) {
	for ; n > 0 && len(c.exp) > 0 && c.exp[0].at <= now; n-- {
		e := heap.Pop(&c.exp).(expiry)
		if u, ok := c.m[e.k]; ok && u <= now {
			delete(c.m, e.k)
		}
	}
}
