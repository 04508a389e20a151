package throttle

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/oauthkit/oauthkit/store"
)

// testClock is a settable clock.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *testClock) advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

var (
	pairLimit = store.Limit{Burst: 5, Every: time.Minute}
	addrLimit = store.Limit{Burst: 20, Every: 30 * time.Second}
)

func newThrottle() (*Throttle, *testClock) {
	clk := &testClock{t: t0}
	return New(NewTable(0), pairLimit, addrLimit, clk.now), clk
}

// TestReserveBeforeCheck: parallel attempts are reserved before anything
// is checked, so no more than the burst get through, however many race.
func TestReserveBeforeCheck(t *testing.T) {
	th, _ := newThrottle()
	var granted atomic.Int64
	var wg sync.WaitGroup
	for range 40 {
		wg.Go(func() {
			a, wait, err := th.Reserve(t.Context(), "user\x00alice", "192.0.2.1")
			if err != nil {
				t.Error(err)
			}
			if wait == 0 && a != nil {
				granted.Add(1)
			}
		})
	}
	wg.Wait()
	if n := granted.Load(); n != int64(pairLimit.Burst) {
		t.Fatalf("%d of 40 parallel attempts granted, want %d", n, pairLimit.Burst)
	}
}

// TestNoLockoutFromElsewhere: failures from one address do not touch the
// account from another, and the right secret on the first try after the
// window gets through and clears the count.
func TestNoLockoutFromElsewhere(t *testing.T) {
	ctx := t.Context()
	th, clk := newThrottle()
	for range 3 * pairLimit.Burst {
		_, _, _ = th.Reserve(ctx, "user\x00alice", "192.0.2.66")
	}
	if _, wait, _ := th.Reserve(ctx, "user\x00alice", "192.0.2.66"); wait == 0 {
		t.Fatal("the noisy address was not throttled")
	}
	a, wait, err := th.Reserve(ctx, "user\x00alice", "198.51.100.7")
	if err != nil || wait != 0 {
		t.Fatalf("another address: wait %v, %v", wait, err)
	}
	_ = a.Succeeded(ctx)
	// After the window, the first try from the noisy address goes through.
	clk.advance(pairLimit.Every)
	a, wait, err = th.Reserve(ctx, "user\x00alice", "192.0.2.66")
	if err != nil || wait != 0 {
		t.Fatalf("first try after the window: wait %v, %v", wait, err)
	}
	_ = a.Succeeded(ctx)
	for i := range pairLimit.Burst {
		if _, wait, _ := th.Reserve(ctx, "user\x00alice", "192.0.2.66"); wait != 0 {
			t.Fatalf("after a success, attempt %d refused: the count was not cleared", i+1)
		}
	}
}

// TestAddressLimit: one address guessing across accounts is slowed by the
// address limit; an address-only attempt (unknown account) counts there.
func TestAddressLimit(t *testing.T) {
	ctx := t.Context()
	th, _ := newThrottle()
	for i := range addrLimit.Burst {
		if _, wait, _ := th.Reserve(ctx, "", "2001:db8:1:2::"+string(rune('a'+i%6))); wait != 0 {
			t.Fatalf("attempt %d refused", i+1)
		}
	}
	// Same /64, any account: refused; the refused pair took nothing.
	if _, wait, _ := th.Reserve(ctx, "user\x00bob", "2001:db8:1:2:ffff::1"); wait == 0 {
		t.Fatal("the /64 was not throttled")
	}
	if _, wait, _ := th.Reserve(ctx, "user\x00bob", "2001:db8:1:3::1"); wait != 0 {
		t.Fatal("another /64 throttled")
	}
}

// TestUnusedGivesBack: an attempt that was never checked costs nothing.
func TestUnusedGivesBack(t *testing.T) {
	ctx := t.Context()
	th, _ := newThrottle()
	for range 3 * pairLimit.Burst {
		a, wait, err := th.Reserve(ctx, "user\x00carol", "192.0.2.9")
		if err != nil || wait != 0 {
			t.Fatalf("wait %v, %v", wait, err)
		}
		cctx, cancel := context.WithCancel(ctx)
		cancel() // given back even when the request has gone
		if err := a.Unused(cctx); err != nil {
			t.Fatal(err)
		}
	}
}

// TestCheapCheckDiscipline: with Wait, Failed and Succeeded, correct
// secrets in flight at once take nothing, and parallel failures are all
// charged: beyond the limit they lengthen the wait instead of buying
// guesses.
func TestCheapCheckDiscipline(t *testing.T) {
	ctx := t.Context()
	th, clk := newThrottle()
	for range 100 {
		if w, err := th.Wait(ctx, "client\x00svc", "192.0.2.1"); err != nil || w != 0 {
			t.Fatalf("correct secrets in flight: wait %v, %v", w, err)
		}
	}
	var wg sync.WaitGroup
	for range 40 {
		wg.Go(func() { _ = th.Failed(ctx, "client\x00svc", "192.0.2.66") })
	}
	wg.Wait()
	w, _ := th.Wait(ctx, "client\x00svc", "192.0.2.66")
	if want := time.Duration(40-pairLimit.Burst+1) * pairLimit.Every; w < want {
		t.Fatalf("after 40 parallel failures: wait %v, want at least %v (the debt)", w, want)
	}
	clk.advance(w)
	if w, _ := th.Wait(ctx, "client\x00svc", "192.0.2.66"); w != 0 {
		t.Fatalf("debt paid: wait %v", w)
	}
	if err := th.Succeeded(ctx, "client\x00svc", "192.0.2.66"); err != nil {
		t.Fatal(err)
	}
}

// TestTake: a plain limit on one key; a refused take leaves no debt.
func TestTake(t *testing.T) {
	ctx := t.Context()
	tb := NewTable(0)
	two := store.Limit{Burst: 2, Every: time.Minute}
	for i := range 2 {
		if w, err := Take(ctx, tb, "k", two, t0); err != nil || w != 0 {
			t.Fatalf("take %d: %v %v", i+1, w, err)
		}
	}
	for range 5 {
		if w, err := Take(ctx, tb, "k", two, t0); err != nil || w != time.Minute {
			t.Fatalf("beyond the burst: wait %v %v, want 1m (no debt)", w, err)
		}
	}
	if w, err := Take(ctx, tb, "k", two, t0.Add(time.Minute)); err != nil || w != 0 {
		t.Fatalf("one Every later: %v %v", w, err)
	}
}
