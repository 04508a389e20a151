package grant

import (
	"sync"
	"time"
)

// Throttling of password checks: failures are counted per (account, address)
// pair and per address. After freeFailures, each further failure doubles the
// wait, up to maxWait. A key forgets its failures after quiet time without
// one, and a success clears the pair. Counting by pair means nobody can lock
// a user out from another address; the per-address count, with a higher
// threshold, slows one address guessing across many accounts.
const (
	freeFailures     = 5
	freeAddrFailures = 50
	baseWait         = time.Second
	maxWait          = 5 * time.Minute
	quiet            = 15 * time.Minute
	maxThrottleKeys  = 1 << 16
)

type failures struct {
	n     int
	last  time.Time
	until time.Time
}

type throttle struct {
	mu   sync.Mutex
	now  func() time.Time
	keys map[string]*failures
}

func newThrottle(now func() time.Time) *throttle {
	return &throttle{now: now, keys: make(map[string]*failures)}
}

// wait returns how long the caller must wait before the next attempt for
// account from addr; zero means go ahead.
func (t *throttle) wait(account, addr string) time.Duration {
	now := t.now()
	t.mu.Lock()
	defer t.mu.Unlock()
	var w time.Duration
	for _, k := range [2]string{pairKey(account, addr), "a\x00" + addr} {
		if f := t.keys[k]; f != nil && f.until.After(now) {
			w = max(w, f.until.Sub(now))
		}
	}
	return w
}

// fail records a failed attempt.
func (t *throttle) fail(account, addr string) {
	now := t.now()
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.keys) >= maxThrottleKeys {
		t.prune(now)
	}
	t.bump(pairKey(account, addr), freeFailures, now)
	t.bump("a\x00"+addr, freeAddrFailures, now)
}

// succeed clears the pair's failures.
func (t *throttle) succeed(account, addr string) {
	t.mu.Lock()
	delete(t.keys, pairKey(account, addr))
	t.mu.Unlock()
}

func (t *throttle) bump(k string, free int, now time.Time) {
	f := t.keys[k]
	if f == nil || now.Sub(f.last) > quiet {
		f = &failures{}
		t.keys[k] = f
	}
	f.n++
	f.last = now
	if over := f.n - free; over > 0 {
		w := maxWait
		if over < 20 {
			w = min(baseWait<<(over-1), maxWait)
		}
		f.until = now.Add(w)
	}
}

// prune drops keys that are quiet; if that frees too little, the oldest
// half goes, so memory stays bounded under a flood of addresses.
func (t *throttle) prune(now time.Time) {
	for k, f := range t.keys {
		if now.Sub(f.last) > quiet && !f.until.After(now) {
			delete(t.keys, k)
		}
	}
	if len(t.keys) < maxThrottleKeys*3/4 {
		return
	}
	for k := range t.keys { // map order is random: an unbiased half
		if len(t.keys) < maxThrottleKeys/2 {
			break
		}
		delete(t.keys, k)
	}
}

func pairKey(account, addr string) string { return "p\x00" + account + "\x00" + addr }
