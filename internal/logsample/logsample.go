// Package logsample keeps logs bounded under floods: a [Sampler] lets
// through a few records of each kind and then one now and then, counting
// the rest, and [Clip] cuts a client-supplied value to a short, escaped
// prefix. A flood of refused requests then writes a bounded number of
// bytes per second, whatever the requests carry.
package logsample

import (
	"strconv"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// maxKeys bounds the kinds a Sampler tells apart; beyond them every new
// kind shares one allowance. Callers pass their own constants (error
// codes), not client-supplied values.
const maxKeys = 64

// overflowKey is the kind that kinds beyond maxKeys share.
const overflowKey = "\x00other"

// Sampler lets through at most burst records of a kind at once, then one
// per every, and counts those it holds back. It is safe for concurrent
// use.
type Sampler struct {
	mu    sync.Mutex
	kinds map[string]*kind
	burst int
	every time.Duration
	now   func() time.Time
}

type kind struct {
	lim        *rate.Limiter
	suppressed int
}

// New returns a Sampler reading the clock now.
func New(burst int, every time.Duration, now func() time.Time) *Sampler {
	return &Sampler{kinds: make(map[string]*kind), burst: burst, every: every, now: now}
}

// Allow reports whether a record of kind key may be written now and, if
// so, how many records of that kind were held back since the last one
// written (to be logged with it).
func (s *Sampler) Allow(key string) (ok bool, suppressed int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := s.kinds[key]
	if k == nil {
		if len(s.kinds) >= maxKeys {
			key = overflowKey
		}
		if k = s.kinds[key]; k == nil {
			k = &kind{lim: rate.NewLimiter(rate.Every(s.every), s.burst)}
			s.kinds[key] = k
		}
	}
	if !k.lim.AllowN(s.now(), 1) {
		k.suppressed++
		return false, 0
	}
	n := k.suppressed
	k.suppressed = 0
	return true, n
}

// ClipBytes is how much of a value Clip keeps.
const ClipBytes = 64

// Clip returns at most the first ClipBytes bytes of a client-supplied
// value, with control characters, invalid UTF-8 and quotes escaped Go-style
// and "…" appended when it was cut, so that a log line shows what was sent
// without letting the sender forge lines or fill the log.
func Clip(s string) string {
	cut := len(s) > ClipBytes
	if cut {
		s = s[:ClipBytes]
	}
	q := strconv.QuoteToGraphic(s)
	q = q[1 : len(q)-1]
	if cut {
		q += "…"
	}
	return q
}
