package replay

import (
	"errors"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/oauthkit/oauthkit/store"
	"github.com/oauthkit/oauthkit/store/storetest"
)

var _ store.ReplayCache = (*Cache)(nil)

func TestConformance(t *testing.T) {
	storetest.RunReplayCache(t, func(t *testing.T) store.ReplayCache { return New(0, nil) })
}

// clock is a settable test clock.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

var t0 = time.Date(2031, 5, 6, 7, 8, 9, 0, time.UTC)

// TestEntryBytes measures what a key costs and checks that EntryBytes, by
// which a Cache's bound is reckoned, is not less.
func TestEntryBytes(t *testing.T) {
	const n = 100_000
	clk := &clock{t0}
	c := New(2*n*EntryBytes, clk.now)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for i := range n {
		if ok, err := c.UseOnce(t.Context(), "jti-"+strconv.Itoa(i), t0.Add(time.Minute)); !ok || err != nil {
			t.Fatal(ok, err)
		}
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	per := float64(after.HeapAlloc-before.HeapAlloc) / n
	t.Logf("%.0f bytes per entry (EntryBytes %d)", per, EntryBytes)
	if per > EntryBytes {
		t.Fatalf("an entry costs %.0f bytes, more than EntryBytes = %d", per, EntryBytes)
	}
	runtime.KeepAlive(c)
}

// TestBoundedFailsClosed fills a small cache: it never holds more than its
// bound, refuses a new key with ErrFull while every entry is live (never
// forgetting a live one, which would let it be replayed), and takes new
// keys again as the entries expire.
func TestBoundedFailsClosed(t *testing.T) {
	ctx := t.Context()
	const keys = 100
	clk := &clock{t0}
	c := New(keys*EntryBytes, clk.now)
	for i := range keys {
		// Expiries one second apart: entry i lives until t0+(i+1)s.
		if ok, err := c.UseOnce(ctx, "k"+strconv.Itoa(i), t0.Add(time.Duration(i+1)*time.Second)); !ok || err != nil {
			t.Fatalf("key %d: %v %v", i, ok, err)
		}
	}
	ok, err := c.UseOnce(ctx, "new", t0.Add(time.Hour))
	if ok || !errors.Is(err, ErrFull) {
		t.Fatalf("new key on a full cache = %v, %v; want false, ErrFull", ok, err)
	}
	for i := range keys {
		if ok, err := c.UseOnce(ctx, "k"+strconv.Itoa(i), t0.Add(time.Hour)); ok || err != nil {
			t.Fatalf("replay of live key %d on a full cache = %v, %v; want false, nil", i, ok, err)
		}
	}
	// Two seconds on, two entries have expired: room for two new keys.
	clk.t = t0.Add(2 * time.Second)
	for _, k := range []string{"new", "new2"} {
		if ok, err := c.UseOnce(ctx, k, t0.Add(time.Hour)); !ok || err != nil {
			t.Fatalf("%s after two expiries = %v, %v", k, ok, err)
		}
	}
	if ok, err := c.UseOnce(ctx, "new3", t0.Add(time.Hour)); ok || !errors.Is(err, ErrFull) {
		t.Fatalf("third new key = %v, %v; want ErrFull", ok, err)
	}
	if n := c.Len(); n > keys {
		t.Fatalf("%d keys held, bound %d", n, keys)
	}
	// An expired key is a first use again.
	if ok, err := c.UseOnce(ctx, "k0", t0.Add(time.Hour)); ok || !errors.Is(err, ErrFull) {
		t.Fatalf("expired k0 on a full cache = %v, %v; want ErrFull", ok, err)
	}
	clk.t = t0.Add(time.Hour + time.Second)
	if ok, err := c.UseOnce(ctx, "k0", t0.Add(2*time.Hour)); !ok || err != nil {
		t.Fatalf("k0 after everything expired = %v, %v", ok, err)
	}
	for i := 1; i < keys; i++ {
		if ok, err := c.UseOnce(ctx, "later"+strconv.Itoa(i), t0.Add(2*time.Hour)); !ok || err != nil {
			t.Fatalf("new key %d after every entry expired = %v, %v", i, ok, err)
		}
	}
	if n := c.Len(); n != keys {
		t.Fatalf("after every entry expired and %d new keys: %d held", keys, n)
	}
}

// TestSweepKeepsRerecorded: a key forgotten and recorded again keeps its
// new entry when the old expiry comes off the heap.
func TestSweepKeepsRerecorded(t *testing.T) {
	ctx := t.Context()
	clk := &clock{t0}
	c := New(0, clk.now)
	if ok, _ := c.UseOnce(ctx, "k", t0.Add(time.Second)); !ok {
		t.Fatal("first use")
	}
	clk.t = t0.Add(2 * time.Second)
	if ok, _ := c.UseOnce(ctx, "k", t0.Add(time.Hour)); !ok {
		t.Fatal("use after expiry")
	}
	for i := range 20 { // sweeps the stale heap entry
		c.UseOnce(ctx, "other"+strconv.Itoa(i), t0.Add(time.Hour))
	}
	if ok, _ := c.UseOnce(ctx, "k", t0.Add(time.Hour)); ok {
		t.Fatal("the re-recorded key was dropped with its old expiry")
	}
}

func BenchmarkUseOnce(b *testing.B) {
	c := New(0, nil)
	until := time.Now().Add(time.Minute)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		c.UseOnce(b.Context(), strconv.Itoa(i), until)
	}
}
