package bulkhead

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

var errNotFound = errors.New("not found")

func newBulkhead(t *testing.T, o Options) *Bulkhead {
	t.Helper()
	if o.Timeout == 0 {
		o.Timeout = time.Second
	}
	if o.MaxInFlight == 0 {
		o.MaxInFlight = 4
	}
	if o.Answer == nil {
		o.Answer = func(err error) bool { return errors.Is(err, errNotFound) }
	}
	b, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestNewChecksOptions(t *testing.T) {
	for _, o := range []Options{{Timeout: time.Second}, {MaxInFlight: 1}, {Timeout: -1, MaxInFlight: 1}} {
		if _, err := New(o); err == nil {
			t.Errorf("New(%+v) accepted", o)
		}
	}
}

// Every call's context is done after Timeout, however long the caller's.
func TestDeadline(t *testing.T) {
	b := newBulkhead(t, Options{Timeout: 50 * time.Millisecond})
	c, err := b.Begin(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	dl, ok := c.Ctx.Deadline()
	if !ok || time.Until(dl) > 50*time.Millisecond {
		t.Fatalf("deadline %v (%v), want within 50ms", dl, ok)
	}
	<-c.Ctx.Done()
	err = c.End(c.Ctx.Err())
	if !errors.Is(err, ErrUnavailable) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("a call that ran out of time: %v, want ErrUnavailable wrapping the deadline", err)
	}
	// A caller's sooner deadline is kept.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	c, _ = b.Begin(ctx)
	if got, _ := c.Ctx.Deadline(); got != func() time.Time { d, _ := ctx.Deadline(); return d }() {
		t.Fatalf("the caller's sooner deadline was replaced by %v", got)
	}
	c.End(nil)
}

// Beyond MaxInFlight, Begin refuses at once; End gives the slot back.
func TestMaxInFlight(t *testing.T) {
	b := newBulkhead(t, Options{MaxInFlight: 2})
	c1, _ := b.Begin(context.Background())
	c2, _ := b.Begin(context.Background())
	if _, err := b.Begin(context.Background()); !errors.Is(err, ErrFull) {
		t.Fatalf("a third call with two in flight: %v, want ErrFull", err)
	}
	if b.InFlight() != 2 {
		t.Fatalf("InFlight %d, want 2", b.InFlight())
	}
	c1.End(nil)
	c3, err := b.Begin(context.Background())
	if err != nil {
		t.Fatalf("after one ended: %v", err)
	}
	c2.End(errors.New("down"))
	c3.End(errNotFound)
	if b.InFlight() != 0 {
		t.Fatalf("InFlight %d after every End, want 0", b.InFlight())
	}
}

// Answers pass as they are; failures are wrapped; a caller's cancellation
// is passed on and says nothing of the dependency.
func TestOutcomes(t *testing.T) {
	var downs atomic.Int32
	b := newBulkhead(t, Options{Down: func(error) { downs.Add(1) }})
	c, _ := b.Begin(context.Background())
	if err := c.End(errNotFound); err != errNotFound {
		t.Fatalf("an answer: %v, want it unchanged", err)
	}
	boom := errors.New("connection refused")
	c, _ = b.Begin(context.Background())
	if err := c.End(boom); !errors.Is(err, ErrUnavailable) || !errors.Is(err, boom) {
		t.Fatalf("a failure: %v, want ErrUnavailable and the cause", err)
	}
	b2 := newBulkhead(t, Options{Down: func(error) { downs.Add(1) }})
	ctx, cancel := context.WithCancel(context.Background())
	c, _ = b2.Begin(ctx)
	cancel()
	if err := c.End(context.Canceled); err != context.Canceled || b2.Down() {
		t.Fatalf("a call its caller gave up: %v (down %v), want the cancellation, no incident", err, b2.Down())
	}
	if _, err := b2.Begin(ctx); err != context.Canceled {
		t.Fatalf("Begin with a done context: %v", err)
	}
	if downs.Load() != 1 {
		t.Fatalf("%d incidents, want 1", downs.Load())
	}
}

// An incident is reported once when it starts and once when it ends, with
// its length and failures, however many calls fail in it.
func TestIncidentReportedOnce(t *testing.T) {
	now := time.Unix(1000, 0)
	var mu sync.Mutex
	var downs, ups int
	var length time.Duration
	var failed int64
	b := newBulkhead(t, Options{
		MaxInFlight: 64,
		Now:         func() time.Time { mu.Lock(); defer mu.Unlock(); return now },
		Down:        func(error) { mu.Lock(); downs++; mu.Unlock() },
		Up:          func(d time.Duration, n int64) { mu.Lock(); ups++; length, failed = d, n; mu.Unlock() },
	})
	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() {
			c, err := b.Begin(context.Background())
			if err != nil {
				t.Error(err)
				return
			}
			c.End(errors.New("refused"))
		})
	}
	wg.Wait()
	if !b.Down() {
		t.Fatal("not down after failures")
	}
	mu.Lock()
	now = now.Add(3 * time.Second)
	mu.Unlock()
	for range 50 {
		wg.Go(func() {
			c, _ := b.Begin(context.Background())
			c.End(nil)
		})
	}
	wg.Wait()
	mu.Lock()
	defer mu.Unlock()
	if downs != 1 || ups != 1 || length != 3*time.Second || failed != 50 {
		t.Fatalf("downs %d, ups %d, length %v, failed %d; want 1, 1, 3s, 50", downs, ups, length, failed)
	}
	if b.Down() {
		t.Fatal("still down after a success")
	}
}

func BenchmarkCall(b *testing.B) {
	bh, _ := New(Options{Timeout: time.Second, MaxInFlight: 1 << 20})
	ctx := context.Background()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			c, err := bh.Begin(ctx)
			if err != nil {
				b.Fatal(err)
			}
			c.End(nil)
		}
	})
}

// A Budget's deadline is the dependency's failure, for the call in flight
// and for the next Begin; the caller's own deadline is not.
func TestBudget(t *testing.T) {
	b := newBulkhead(t, Options{Timeout: time.Second})
	ctx, cancel := Budget(context.Background(), 20*time.Millisecond)
	defer cancel()
	c, err := b.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if dl, _ := c.Ctx.Deadline(); time.Until(dl) > 20*time.Millisecond {
		t.Fatalf("the call's deadline %v is later than the budget's", dl)
	}
	<-c.Ctx.Done()
	if err := c.End(c.Ctx.Err()); !errors.Is(err, ErrUnavailable) || !b.Down() {
		t.Fatalf("a call whose budget ran out: %v (down %v), want ErrUnavailable and an incident", err, b.Down())
	}
	if _, err := b.Begin(ctx); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("Begin after the budget: %v, want ErrUnavailable", err)
	}
	b2 := newBulkhead(t, Options{Timeout: time.Second})
	own, cancel2 := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel2()
	c, _ = b2.Begin(own)
	<-c.Ctx.Done()
	if err := c.End(c.Ctx.Err()); err != context.DeadlineExceeded || b2.Down() {
		t.Fatalf("a call past the caller's own deadline: %v (down %v), want the deadline as it is, no incident", err, b2.Down())
	}
}

// Calls that straddle an incident's edges say nothing of the dependency
// now: one begun before the incident that succeeds does not end it, one
// begun during it that fails after it ended does not start another.
func TestIncidentEdges(t *testing.T) {
	var downs, ups atomic.Int32
	b := newBulkhead(t, Options{MaxInFlight: 8, Down: func(error) { downs.Add(1) }, Up: func(time.Duration, int64) { ups.Add(1) }})
	ctx := context.Background()
	before, _ := b.Begin(ctx)
	first, _ := b.Begin(ctx)
	first.End(errors.New("refused")) // the incident starts
	during, _ := b.Begin(ctx)
	before.End(nil) // begun before it: the incident goes on
	if !b.Down() || ups.Load() != 0 {
		t.Fatal("a call begun before the incident ended it")
	}
	during2, _ := b.Begin(ctx)
	during.End(nil) // begun during it: it ends
	if b.Down() || ups.Load() != 1 {
		t.Fatal("a call begun during the incident did not end it")
	}
	during2.End(errors.New("refused")) // begun during the old incident
	if b.Down() || downs.Load() != 1 {
		t.Fatal("a call begun during the last incident started another")
	}
	after, _ := b.Begin(ctx)
	after.End(errors.New("refused"))
	if !b.Down() || downs.Load() != 2 {
		t.Fatal("a call begun after the incident that fails did not start another")
	}
}
