package middleware

import (
	"sync"
	"time"
)

// tokenCache remembers validated tokens until a deadline, so that a token
// seen again costs one map lookup. It holds at most max entries: when full,
// expired entries are dropped first, then arbitrary ones.
type tokenCache struct {
	mu  sync.RWMutex
	m   map[string]cacheEntry
	max int
}

type cacheEntry struct {
	tok   *Token
	until time.Time
}

func newTokenCache(max int) *tokenCache {
	return &tokenCache{m: make(map[string]cacheEntry), max: max}
}

// get returns the token cached for raw, if it is still good at now.
func (c *tokenCache) get(raw string, now time.Time) (*Token, bool) {
	if c.max <= 0 {
		return nil, false
	}
	c.mu.RLock()
	e, ok := c.m[raw]
	c.mu.RUnlock()
	if !ok || !now.Before(e.until) {
		return nil, false
	}
	return e.tok, true
}

// put caches tok for raw until the deadline.
func (c *tokenCache) put(raw string, tok *Token, until, now time.Time) {
	if c.max <= 0 || !now.Before(until) {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) >= c.max {
		c.evict(now)
	}
	c.m[raw] = cacheEntry{tok: tok, until: until}
}

// evict makes room for at least one entry: every expired one goes, and if
// none had, an eighth of the entries, picked by map order.
func (c *tokenCache) evict(now time.Time) {
	for k, e := range c.m {
		if !now.Before(e.until) {
			delete(c.m, k)
		}
	}
	n := c.max/8 + 1
	for k := range c.m {
		if len(c.m) < c.max || n == 0 {
			break
		}
		delete(c.m, k)
		n--
	}
}

// clear forgets every token.
func (c *tokenCache) clear() {
	c.mu.Lock()
	clear(c.m)
	c.mu.Unlock()
}
