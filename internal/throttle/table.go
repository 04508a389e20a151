package throttle

import (
	"context"
	"crypto/sha256"
	"errors"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/oauthkit/oauthkit/store"
)

// ErrFull means a Table is full of active lockouts and cannot count a new
// key: the attempt is refused rather than let through uncounted (see
// [Table]). The excess returned with it is when the first lockout may end.
var ErrFull = errors.New("throttle: table full of active lockouts")

// EntryBytes is what one key costs a Table: its share of the map, the
// key and the rate.Limiter. TestEntryBytes measures it.
const EntryBytes = 160

// DefaultTableBytes is the size bound of a Table made with zero.
const DefaultTableBytes = 16 << 20

// Table is an in-process [store.AttemptCounter]: one golang.org/x/time/rate
// token bucket per key, keys hashed to 128 bits, at most maxBytes in all.
//
// When it is full it first drops buckets that are full again (forgetting
// them changes nothing), then, if that frees too little, buckets that
// still allow an attempt (forgiving some failures). It never drops an
// active lockout, a bucket that allows no attempt now. When only lockouts
// are left, a key it does not hold yet gets [ErrFull], until the first
// lockout ends (within one Limit.Every): failing open would hand whoever
// filled the table unthrottled guessing; failing closed for new keys lasts
// only while the flood that fills it goes on. Keys already held are served
// as usual.
type Table struct {
	mu        sync.Mutex
	m         map[[keyBytes]byte]*rate.Limiter
	max       int       // entries
	fullUntil time.Time // while only lockouts are held: when the first may end
}

var _ store.AttemptCounter = (*Table)(nil)

// NewTable returns a Table of at most maxBytes (DefaultTableBytes if
// zero or less).
func NewTable(maxBytes int) *Table {
	if maxBytes <= 0 {
		maxBytes = DefaultTableBytes
	}
	return &Table{m: make(map[[keyBytes]byte]*rate.Limiter), max: max(1, maxBytes/EntryBytes)}
}

// Len returns how many keys the table holds.
func (t *Table) Len() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.m)
}

func tableKey(key string) [keyBytes]byte {
	sum := sha256.Sum256([]byte(key))
	return [keyBytes]byte(sum[:keyBytes])
}

// AttemptWait implements store.AttemptCounter.
func (t *Table) AttemptWait(_ context.Context, key string, _ store.Limit, now time.Time) (time.Duration, error) {
	k := tableKey(key)
	t.mu.Lock()
	defer t.mu.Unlock()
	lim := t.m[k]
	if lim == nil {
		if len(t.m) >= t.max && !t.makeRoom(now) {
			// A failure could not be counted: fail closed.
			return max(t.fullUntil.Sub(now), time.Millisecond), ErrFull
		}
		return 0, nil
	}
	// A reservation cancelled at once, under the table's lock: the
	// limiter's own arithmetic for the wait, and no change.
	r := lim.ReserveN(now, 1)
	d := r.DelayFrom(now)
	r.CancelAt(now)
	return d, nil
}

// ChargeAttempt implements store.AttemptCounter: a reservation that is
// never cancelled, so that beyond the bucket the limiter's tokens go
// negative, the debt.
func (t *Table) ChargeAttempt(_ context.Context, key string, l store.Limit, now time.Time) (time.Duration, error) {
	k := tableKey(key)
	t.mu.Lock()
	defer t.mu.Unlock()
	lim := t.m[k]
	if lim == nil {
		if len(t.m) >= t.max && !t.makeRoom(now) {
			return max(t.fullUntil.Sub(now), time.Millisecond), ErrFull
		}
		lim = rate.NewLimiter(rate.Every(l.Every), l.Burst)
		t.m[k] = lim
	}
	return lim.ReserveN(now, 1).DelayFrom(now), nil
}

// RefundAttempt implements store.AttemptCounter. A bucket that is full
// again is dropped.
func (t *Table) RefundAttempt(_ context.Context, key string, _ store.Limit, now time.Time) error {
	k := tableKey(key)
	t.mu.Lock()
	defer t.mu.Unlock()
	lim := t.m[k]
	if lim == nil {
		return nil
	}
	// A negative take gives a token back; the limiter caps the bucket at
	// its burst when it next advances, and a full bucket is dropped here.
	lim.AllowN(now, -1)
	if lim.TokensAt(now) >= float64(lim.Burst()) {
		delete(t.m, k)
	}
	return nil
}

// ResetAttempts implements store.AttemptCounter.
func (t *Table) ResetAttempts(_ context.Context, key string) error {
	k := tableKey(key)
	t.mu.Lock()
	delete(t.m, k)
	t.mu.Unlock()
	return nil
}

// makeRoom frees at least one entry, as described on Table, and reports
// whether it could. Each pass that frees anything brings the table to at
// most three quarters, so its cost is spread over the inserts that follow.
func (t *Table) makeRoom(now time.Time) bool {
	if now.Before(t.fullUntil) {
		return false
	}
	for k, lim := range t.m {
		if lim.TokensAt(now) >= float64(lim.Burst()) {
			delete(t.m, k)
		}
	}
	for k, lim := range t.m { // map order is random: no key is favoured
		if len(t.m) <= t.max*3/4 {
			break
		}
		if lim.TokensAt(now) >= 1 {
			delete(t.m, k)
		}
	}
	if len(t.m) < t.max {
		return true
	}
	soonest := time.Duration(1<<63 - 1)
	for _, lim := range t.m {
		missing := 1 - lim.TokensAt(now)
		soonest = min(soonest, time.Duration(missing/float64(lim.Limit())*float64(time.Second)))
	}
	t.fullUntil = now.Add(max(soonest, time.Millisecond))
	return false
}
