// Package ratelimit limits how often each key (a client address, typically)
// may do something: a token bucket per key (golang.org/x/time/rate) that
// holds Burst events and refills one per Every, with a bounded number of
// keys, so that a flood of new keys cannot exhaust memory. The clock is
// injected, so tests never sleep.
package ratelimit

import (
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// DefaultMaxKeys is how many keys a Limiter tracks when MaxKeys is zero.
const DefaultMaxKeys = 1 << 16

// Limiter limits events per key. Create it with New; it is safe for
// concurrent use.
type Limiter struct {
	every   time.Duration
	burst   int
	maxKeys int
	now     func() time.Time

	mu   sync.Mutex
	keys map[string]*rate.Limiter
}

// New returns a Limiter that lets each key do burst events at once, then
// one every every. maxKeys bounds the keys tracked (DefaultMaxKeys when 0):
// when it is reached, keys whose bucket is full again are forgotten, and if
// that frees too little, a random half. now is the clock (time.Now when
// nil).
func New(every time.Duration, burst, maxKeys int, now func() time.Time) *Limiter {
	if maxKeys <= 0 {
		maxKeys = DefaultMaxKeys
	}
	if now == nil {
		now = time.Now
	}
	return &Limiter{every: every, burst: burst, maxKeys: maxKeys, now: now, keys: make(map[string]*rate.Limiter)}
}

// Allow reports whether key may do one more event now, and counts it if so.
// If not, it returns how long until it may.
func (l *Limiter) Allow(key string) (bool, time.Duration) {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	lim := l.keys[key]
	if lim == nil {
		if len(l.keys) >= l.maxKeys {
			l.prune(now)
		}
		lim = rate.NewLimiter(rate.Every(l.every), l.burst)
		l.keys[key] = lim
	}
	r := lim.ReserveN(now, 1)
	if !r.OK() {
		return false, l.every
	}
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return false, d
	}
	return true, 0
}

// prune forgets keys whose bucket has refilled (they are as if new), then,
// if fewer than a quarter went, a random half of the rest: an attacker
// cycling keys can reset the limits of some keys, never grow the map.
func (l *Limiter) prune(now time.Time) {
	for k, lim := range l.keys {
		if lim.TokensAt(now) >= float64(l.burst) {
			delete(l.keys, k)
		}
	}
	if len(l.keys) < l.maxKeys*3/4 {
		return
	}
	for k := range l.keys { // map order is random
		if len(l.keys) < l.maxKeys/2 {
			break
		}
		delete(l.keys, k)
	}
}
