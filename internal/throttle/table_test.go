package throttle

import (
	"context"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/oauthkit/oauthkit/store"
	"github.com/oauthkit/oauthkit/store/storetest"
)

func TestTableConformance(t *testing.T) {
	storetest.RunAttemptCounter(t, func(*testing.T) store.AttemptCounter { return NewTable(0) })
}

var (
	t0   = time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	five = store.Limit{Burst: 5, Every: time.Minute}
)

// TestEntryBytes measures what a key costs and checks that EntryBytes, by
// which a Table's bound is reckoned, is not less.
func TestEntryBytes(t *testing.T) {
	const n = 50_000
	tb := NewTable(2 * n * EntryBytes)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for i := range n {
		if _, err := tb.ChargeAttempt(t.Context(), "key-"+strconv.Itoa(i), five, t0); err != nil {
			t.Fatal(err)
		}
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	per := float64(after.HeapAlloc-before.HeapAlloc) / n
	t.Logf("%.0f bytes per entry (EntryBytes %d)", per, EntryBytes)
	if per > EntryBytes {
		t.Fatalf("an entry costs %.0f bytes, more than EntryBytes = %d", per, EntryBytes)
	}
	runtime.KeepAlive(tb)
}

// TestTableBoundedNeverDropsLockouts fills a small table far beyond its
// bound: it never holds more keys than the bound allows, the lockouts it
// holds survive, and when only lockouts are left a new key is refused
// (ErrFull) until the first one ends, not let through.
func TestTableBoundedNeverDropsLockouts(t *testing.T) {
	ctx := t.Context()
	const keys = 100
	tb := NewTable(keys * EntryBytes)
	lock := func(k string, at time.Time) {
		for range five.Burst {
			if w, err := tb.ChargeAttempt(ctx, k, five, at); err != nil || w != 0 {
				t.Fatalf("%s: %v %v", k, w, err)
			}
		}
	}
	// Half lockouts, then a flood of one-off keys.
	for i := range keys / 2 {
		lock("locked-"+strconv.Itoa(i), t0)
	}
	for i := range 10 * keys {
		if _, err := tb.ChargeAttempt(ctx, "flood-"+strconv.Itoa(i), five, t0); err != nil {
			t.Fatalf("flood key %d: %v (the table still has room to make)", i, err)
		}
		if n := tb.Len(); n > keys {
			t.Fatalf("%d keys held, bound %d", n, keys)
		}
	}
	for i := range keys / 2 {
		if w, _ := tb.AttemptWait(ctx, "locked-"+strconv.Itoa(i), five, t0); w == 0 {
			t.Fatalf("lockout %d was dropped", i)
		}
	}
	// Now all lockouts.
	for i := keys / 2; i < keys; i++ {
		lock("locked-"+strconv.Itoa(i), t0)
	}
	for _, op := range []func(context.Context, string, store.Limit, time.Time) (time.Duration, error){tb.ChargeAttempt, tb.AttemptWait} {
		w, err := op(ctx, "newcomer", five, t0)
		if err != ErrFull || w <= 0 || w > five.Every {
			t.Fatalf("new key in a table of lockouts: wait %v, %v; want ErrFull within one Every", w, err)
		}
	}
	// Keys already held are served as usual.
	if w, err := tb.AttemptWait(ctx, "locked-3", five, t0.Add(five.Every)); err != nil || w != 0 {
		t.Fatalf("held key after its lockout: %v %v", w, err)
	}
	// When lockouts end, room is made again.
	if w, err := tb.ChargeAttempt(ctx, "newcomer", five, t0.Add(five.Every)); err != nil || w != 0 {
		t.Fatalf("new key after the lockouts ended: %v %v", w, err)
	}
}

// TestTableRefundDropsFullBuckets: a bucket given back its last attempt
// costs nothing any more.
func TestTableRefundDropsFullBuckets(t *testing.T) {
	tb := NewTable(0)
	_, _ = tb.ChargeAttempt(t.Context(), "k", five, t0)
	_ = tb.RefundAttempt(t.Context(), "k", five, t0)
	if n := tb.Len(); n != 0 {
		t.Fatalf("%d keys held after a full refund", n)
	}
}
