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
// caller's time, whatever its own clock says. Each test's readings never
// go back, as one process's clock does not.
var attemptT0 = time.Date(2031, 5, 6, 7, 8, 9, 0, time.UTC)

var attemptLimit = store.Limit{Burst: 3, Every: time.Minute}

// charge calls ChargeAttempt at attemptT0+at and fails the test on an
// error.
func charge(t *testing.T, c store.AttemptCounter, key string, l store.Limit, at time.Duration) time.Duration {
	t.Helper()
	excess, err := c.ChargeAttempt(t.Context(), key, l, attemptT0.Add(at))
	if err != nil {
		t.Fatalf("ChargeAttempt(%s, +%v): %v", key, at, err)
	}
	return excess
}

// wait calls AttemptWait at attemptT0+at and fails the test on an error.
func wait(t *testing.T, c store.AttemptCounter, key string, l store.Limit, at time.Duration) time.Duration {
	t.Helper()
	w, err := c.AttemptWait(t.Context(), key, l, attemptT0.Add(at))
	if err != nil {
		t.Fatalf("AttemptWait(%s, +%v): %v", key, at, err)
	}
	return w
}

// near reports whether got is want within a millisecond.
func near(got, want time.Duration) bool {
	d := got - want
	return d < time.Millisecond && d > -time.Millisecond
}

func testAttemptsBurst(t *testing.T, c store.AttemptCounter) {
	key := "burst-" + rawToken()[4:20]
	for range 10 {
		if w := wait(t, c, key, attemptLimit, 0); w != 0 {
			t.Fatalf("unknown key: wait %v", w)
		}
	}
	for i := range attemptLimit.Burst {
		if x := charge(t, c, key, attemptLimit, 0); x != 0 {
			t.Fatalf("attempt %d of a burst of %d: excess %v (AttemptWait must not charge)", i+1, attemptLimit.Burst, x)
		}
	}
	if w := wait(t, c, key, attemptLimit, 0); !near(w, time.Minute) {
		t.Fatalf("after the burst: wait %v, want 1m", w)
	}
	// Beyond the bucket, charges are a debt: each lengthens the wait.
	if x := charge(t, c, key, attemptLimit, 0); !near(x, time.Minute) {
		t.Fatalf("first charge over the burst: excess %v, want 1m", x)
	}
	if x := charge(t, c, key, attemptLimit, 0); !near(x, 2*time.Minute) {
		t.Fatalf("second charge over the burst: excess %v, want 2m", x)
	}
	if w := wait(t, c, key, attemptLimit, 0); !near(w, 3*time.Minute) {
		t.Fatalf("in debt of two: wait %v, want 3m", w)
	}
	if w := wait(t, c, key, attemptLimit, 20*time.Second); !near(w, 3*time.Minute-20*time.Second) {
		t.Fatalf("20s later: wait %v, want 2m40s", w)
	}
	if w := wait(t, c, key, attemptLimit, 3*time.Minute); w != 0 {
		t.Fatalf("debt paid: wait %v", w)
	}
	if w := wait(t, c, "other-"+key, attemptLimit, 0); w != 0 {
		t.Fatalf("another key: wait %v", w)
	}
}

func testAttemptsRefill(t *testing.T, c store.AttemptCounter) {
	key := "refill-" + rawToken()[4:20]
	for range attemptLimit.Burst {
		charge(t, c, key, attemptLimit, 0)
	}
	if x := charge(t, c, key, attemptLimit, time.Minute); x != 0 {
		t.Fatalf("one Every later: excess %v", x)
	}
	if w := wait(t, c, key, attemptLimit, time.Minute); !near(w, time.Minute) {
		t.Fatalf("after the refilled attempt: wait %v, want 1m", w)
	}
	// Long quiet: the whole burst again, and no more.
	later := time.Hour
	for i := range attemptLimit.Burst {
		if x := charge(t, c, key, attemptLimit, later); x != 0 {
			t.Fatalf("after an hour, attempt %d: excess %v", i+1, x)
		}
	}
	if x := charge(t, c, key, attemptLimit, later); x == 0 {
		t.Fatal("after an hour, more than the burst within the limit")
	}
}

func testAttemptsRefund(t *testing.T, c store.AttemptCounter) {
	ctx := t.Context()
	key := "refund-" + rawToken()[4:20]
	for range attemptLimit.Burst {
		charge(t, c, key, attemptLimit, 0)
	}
	if err := c.RefundAttempt(ctx, key, attemptLimit, attemptT0); err != nil {
		t.Fatal(err)
	}
	if w := wait(t, c, key, attemptLimit, 0); w != 0 {
		t.Fatalf("a refunded attempt is not available: wait %v", w)
	}
	if x := charge(t, c, key, attemptLimit, 0); x != 0 {
		t.Fatalf("charging the refunded attempt: excess %v", x)
	}
	if x := charge(t, c, key, attemptLimit, 0); x == 0 {
		t.Fatal("a refund gave more than one attempt")
	}
	// Refunds never raise a bucket beyond full, and one on an unknown key
	// is harmless.
	fresh := "fresh-" + key
	for range 3 {
		if err := c.RefundAttempt(ctx, fresh, attemptLimit, attemptT0); err != nil {
			t.Fatal(err)
		}
	}
	for range attemptLimit.Burst {
		charge(t, c, fresh, attemptLimit, 0)
	}
	if x := charge(t, c, fresh, attemptLimit, 0); x == 0 {
		t.Fatal("refunds on a full bucket raised it beyond its burst")
	}
}

func testAttemptsReset(t *testing.T, c store.AttemptCounter) {
	key := "reset-" + rawToken()[4:20]
	for range attemptLimit.Burst + 2 {
		charge(t, c, key, attemptLimit, 0)
	}
	if err := c.ResetAttempts(t.Context(), key); err != nil {
		t.Fatal(err)
	}
	for i := range attemptLimit.Burst {
		if x := charge(t, c, key, attemptLimit, 0); x != 0 {
			t.Fatalf("after a reset, attempt %d: excess %v", i+1, x)
		}
	}
	if err := c.ResetAttempts(t.Context(), "never-"+key); err != nil {
		t.Fatalf("reset of an unknown key: %v", err)
	}
}

// testAttemptsConcurrent: of N concurrent charges on a bucket with k
// attempts left, exactly k are within the limit, and all N are counted.
func testAttemptsConcurrent(t *testing.T, c store.AttemptCounter) {
	key := "concurrent-" + rawToken()[4:20]
	l := store.Limit{Burst: 5, Every: time.Hour}
	var (
		wg     sync.WaitGroup
		mu     sync.Mutex
		within int
	)
	const n = 40
	for range n {
		wg.Go(func() {
			excess, err := c.ChargeAttempt(t.Context(), key, l, attemptT0)
			if err != nil {
				t.Error(err)
				return
			}
			if excess == 0 {
				mu.Lock()
				within++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if within != l.Burst {
		t.Fatalf("%d concurrent charges on a burst of %d: %d within the limit", n, l.Burst, within)
	}
	if w := wait(t, c, key, l, 0); !near(w, time.Duration(n-l.Burst+1)*l.Every) {
		t.Fatalf("after %d charges: wait %v, want %v", n, w, time.Duration(n-l.Burst+1)*l.Every)
	}
}
