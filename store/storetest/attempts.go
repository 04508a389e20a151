package storetest

import (
	"sync"
	"testing"
	"time"

	"github.com/oauthkit/oauthkit/store"
)

// RunAttemptCounter runs the part of the suite that checks the contract
// written on [store.AttemptCounter], against the counters newCounter
// returns (one per subtest, empty). [Run] calls it for a store that
// implements the capability; an in-process counter calls it directly.
func RunAttemptCounter(t *testing.T, newCounter func(t *testing.T) store.AttemptCounter) {
	t.Helper()
	for _, tc := range []struct {
		name string
		fn   func(*testing.T, store.AttemptCounter)
	}{
		{"Burst", testAttemptsBurst},
		{"Refill", testAttemptsRefill},
		{"Refund", testAttemptsRefund},
		{"Reset", testAttemptsReset},
		{"Concurrent", testAttemptsConcurrent},
	} {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, newCounter(t)) })
	}
}

// testAttempts runs RunAttemptCounter's tests when s has the capability.
func testAttempts(t *testing.T, newStore func(t *testing.T) Store) {
	probe, ok := newStore(t).(store.AttemptCounter)
	if !ok || probe == nil {
		t.Skip("store does not implement store.AttemptCounter (it keeps throttling in process)")
	}
	RunAttemptCounter(t, func(t *testing.T) store.AttemptCounter { return newStore(t).(store.AttemptCounter) })
}

// attemptT0 is the suite's clock reading: the counter must take the
// caller's time, whatever its own clock says.
var attemptT0 = time.Date(2031, 5, 6, 7, 8, 9, 0, time.UTC)

var attemptLimit = store.Limit{Burst: 3, Every: time.Minute}

// reserve calls ReserveAttempt and fails the test on an error.
func reserve(t *testing.T, c store.AttemptCounter, key string, l store.Limit, at time.Duration) time.Duration {
	t.Helper()
	wait, err := c.ReserveAttempt(t.Context(), key, l, attemptT0.Add(at))
	if err != nil {
		t.Fatalf("ReserveAttempt(%s, +%v): %v", key, at, err)
	}
	return wait
}

// near reports whether got is want within a millisecond.
func near(got, want time.Duration) bool {
	d := got - want
	return d < time.Millisecond && d > -time.Millisecond
}

func testAttemptsBurst(t *testing.T, c store.AttemptCounter) {
	key := "burst-" + rawToken()[4:20]
	for i := range attemptLimit.Burst {
		if w := reserve(t, c, key, attemptLimit, 0); w != 0 {
			t.Fatalf("attempt %d of a burst of %d refused (wait %v)", i+1, attemptLimit.Burst, w)
		}
	}
	// Refused, and a refusal takes nothing: the wait stays the same.
	for range 3 {
		if w := reserve(t, c, key, attemptLimit, 0); !near(w, time.Minute) {
			t.Fatalf("over the burst: wait %v, want 1m", w)
		}
	}
	if w := reserve(t, c, key, attemptLimit, 20*time.Second); !near(w, 40*time.Second) {
		t.Fatalf("20s later: wait %v, want 40s", w)
	}
	// Another key is untouched.
	if w := reserve(t, c, "other-"+key, attemptLimit, 0); w != 0 {
		t.Fatalf("another key refused: %v", w)
	}
}

func testAttemptsRefill(t *testing.T, c store.AttemptCounter) {
	key := "refill-" + rawToken()[4:20]
	for range attemptLimit.Burst {
		reserve(t, c, key, attemptLimit, 0)
	}
	if w := reserve(t, c, key, attemptLimit, time.Minute); w != 0 {
		t.Fatalf("one Every later: refused, wait %v", w)
	}
	if w := reserve(t, c, key, attemptLimit, time.Minute); !near(w, time.Minute) {
		t.Fatalf("after the refilled attempt: wait %v, want 1m", w)
	}
	// Long quiet: the whole burst again, and no more.
	later := time.Hour
	for i := range attemptLimit.Burst {
		if w := reserve(t, c, key, attemptLimit, later); w != 0 {
			t.Fatalf("after an hour, attempt %d refused: %v", i+1, w)
		}
	}
	if w := reserve(t, c, key, attemptLimit, later); w == 0 {
		t.Fatal("after an hour, more than the burst allowed")
	}
}

func testAttemptsRefund(t *testing.T, c store.AttemptCounter) {
	ctx := t.Context()
	key := "refund-" + rawToken()[4:20]
	for range attemptLimit.Burst {
		reserve(t, c, key, attemptLimit, 0)
	}
	if err := c.RefundAttempt(ctx, key, attemptLimit, attemptT0); err != nil {
		t.Fatal(err)
	}
	if w := reserve(t, c, key, attemptLimit, 0); w != 0 {
		t.Fatalf("a refunded attempt is not available: wait %v", w)
	}
	if w := reserve(t, c, key, attemptLimit, 0); w == 0 {
		t.Fatal("a refund gave more than one attempt")
	}
	// Refunds never raise a bucket beyond its burst, and one on an
	// unknown key is harmless.
	fresh := "fresh-" + key
	for range 3 {
		if err := c.RefundAttempt(ctx, fresh, attemptLimit, attemptT0); err != nil {
			t.Fatal(err)
		}
	}
	for range attemptLimit.Burst {
		reserve(t, c, fresh, attemptLimit, 0)
	}
	if w := reserve(t, c, fresh, attemptLimit, 0); w == 0 {
		t.Fatal("refunds on a full bucket raised it beyond its burst")
	}
}

func testAttemptsReset(t *testing.T, c store.AttemptCounter) {
	key := "reset-" + rawToken()[4:20]
	for range attemptLimit.Burst + 2 {
		reserve(t, c, key, attemptLimit, 0)
	}
	if err := c.ResetAttempts(t.Context(), key); err != nil {
		t.Fatal(err)
	}
	for i := range attemptLimit.Burst {
		if w := reserve(t, c, key, attemptLimit, 0); w != 0 {
			t.Fatalf("after a reset, attempt %d refused: %v", i+1, w)
		}
	}
	if err := c.ResetAttempts(t.Context(), "never-"+key); err != nil {
		t.Fatalf("reset of an unknown key: %v", err)
	}
}

// testAttemptsConcurrent: N concurrent reservations on one key with k
// attempts left grant exactly k.
func testAttemptsConcurrent(t *testing.T, c store.AttemptCounter) {
	key := "concurrent-" + rawToken()[4:20]
	l := store.Limit{Burst: 5, Every: time.Hour}
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		granted int
	)
	for range 40 {
		wg.Go(func() {
			wait, err := c.ReserveAttempt(t.Context(), key, l, attemptT0)
			if err != nil {
				t.Error(err)
				return
			}
			if wait == 0 {
				mu.Lock()
				granted++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if granted != l.Burst {
		t.Fatalf("40 concurrent reservations on a burst of %d granted %d", l.Burst, granted)
	}
}
