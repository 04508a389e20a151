// Package bulkhead bounds the calls a service makes to one dependency,
// such as a database: each call runs under a deadline, at most a fixed
// number are in flight (a call beyond them is refused at once rather than
// queued, so that requests do not pile up behind a slow dependency), and
// the dependency's failures are told apart from its answers and reported
// once per incident: from the first failure to the first success after it
// of a call begun during it. (A call begun before the incident that
// succeeds does not end it, and a call begun during it that fails after it
// ended does not start another: they say nothing of the dependency now.)
//
// There is no circuit breaker to get stuck open: every call after an
// outage goes to the dependency, so service resumes with its first
// answer. It knows nothing of what the calls do.
package bulkhead

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

var (
	// ErrUnavailable is wrapped, together with the dependency's own
	// error, by the error End returns for a failed call.
	ErrUnavailable = errors.New("bulkhead: the dependency is unavailable")
	// ErrFull is Begin's error when MaxInFlight calls are in flight.
	ErrFull = errors.New("bulkhead: too many calls in flight")

	// errDeadline is the cause of the deadlines the package sets (a call's
	// and Budget's): the dependency's slowness, not the caller's choice.
	errDeadline = errors.New("bulkhead: deadline exceeded")
)

// Budget returns ctx with a deadline d away for a piece of work that
// makes several calls: when it passes, the call in flight fails as if it
// had hit its own Timeout (the dependency's failure, not the caller's),
// and Begin refuses the next with ErrUnavailable.
func Budget(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeoutCause(ctx, d, errDeadline)
}

// ours reports whether ctx is done by a deadline of this package.
func ours(ctx context.Context) bool { return context.Cause(ctx) == errDeadline }

// Options configure a Bulkhead.
type Options struct {
	// Timeout bounds each call: Begin's context is done after it. Required
	// (positive).
	Timeout time.Duration
	// MaxInFlight bounds the calls between Begin and End. Required
	// (positive).
	MaxInFlight int
	// Answer reports whether a non-nil error of the dependency is one of
	// its answers (such as "not found") rather than a failure. Default:
	// every non-nil error is a failure.
	Answer func(err error) bool
	// Down, if set, is called once when an incident starts (the first
	// failure of a call begun since the last incident ended, or since
	// New), with the failure's error.
	Down func(err error)
	// Up, if set, is called once when an incident ends (the first success
	// of a call begun during it), with its length and how many calls
	// failed in it.
	Up func(length time.Duration, failed int64)
	// Now is the clock of the incidents' lengths. Default time.Now.
	Now func() time.Time
}

// Bulkhead bounds the calls to one dependency. It is safe for concurrent
// use.
type Bulkhead struct {
	o        Options
	inFlight atomic.Int64
	down     atomic.Bool   // an incident is open; changed under mu
	gen      atomic.Uint64 // incremented, under mu, when an incident starts or ends

	mu     sync.Mutex
	since  time.Time // the incident's first failure
	failed int64     // calls failed in the incident
}

// New returns a Bulkhead with options o.
func New(o Options) (*Bulkhead, error) {
	if o.Timeout <= 0 || o.MaxInFlight <= 0 {
		return nil, errors.New("bulkhead: Timeout and MaxInFlight must be positive")
	}
	if o.Answer == nil {
		o.Answer = func(error) bool { return false }
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Bulkhead{o: o}, nil
}

// Call is one call in flight, from Begin to End.
type Call struct {
	// Ctx is the context to make the call with: the caller's, done at the
	// latest after Options.Timeout.
	Ctx    context.Context
	b      *Bulkhead
	parent context.Context
	cancel context.CancelFunc
	gen    uint64 // the Bulkhead's gen at Begin
}

// Begin starts a call under ctx: it returns ErrFull at once when
// MaxInFlight calls are in flight (there is then nothing to End), and
// ctx's error when ctx is done, wrapped with ErrUnavailable when a Budget
// ran out. Every Call it returns must be ended with End.
func (b *Bulkhead) Begin(ctx context.Context) (Call, error) {
	if err := ctx.Err(); err != nil {
		if ours(ctx) {
			return Call{}, fmt.Errorf("%w: %w", ErrUnavailable, err)
		}
		return Call{}, err
	}
	if b.inFlight.Add(1) > int64(b.o.MaxInFlight) {
		b.inFlight.Add(-1)
		return Call{}, ErrFull
	}
	c := Call{Ctx: ctx, b: b, parent: ctx, gen: b.gen.Load()}
	if dl, ok := ctx.Deadline(); !ok || time.Until(dl) > b.o.Timeout {
		c.Ctx, c.cancel = context.WithTimeoutCause(ctx, b.o.Timeout, errDeadline)
	}
	return c, nil
}

// End ends the call, whose outcome is err, and returns the error to pass
// on: nil or an answer (Options.Answer) as it is, recording a success; a
// failure of the dependency (its own error, or the call's deadline or a
// Budget passing) wrapped with ErrUnavailable, recording a failure; and,
// when the caller's own context was canceled or hit a deadline of the
// caller's (the caller gave up, which says nothing of the dependency), err
// as it is, recording nothing.
func (c Call) End(err error) error {
	if c.cancel != nil {
		c.cancel()
	}
	b := c.b
	b.inFlight.Add(-1)
	if err == nil || b.o.Answer(err) {
		if b.down.Load() {
			b.recovered(c.gen)
		}
		return err
	}
	if c.parent.Err() != nil && !ours(c.parent) {
		return err
	}
	b.failedCall(c.gen, err)
	return fmt.Errorf("%w: %w", ErrUnavailable, err)
}

// recovered ends the incident, if one is open and the call that succeeded
// began during it.
func (b *Bulkhead) recovered(gen uint64) {
	b.mu.Lock()
	if !b.down.Load() || gen != b.gen.Load() {
		b.mu.Unlock()
		return
	}
	b.down.Store(false)
	b.gen.Add(1)
	length, failed := b.o.Now().Sub(b.since), b.failed
	b.mu.Unlock()
	if b.o.Up != nil {
		b.o.Up(length, failed)
	}
}

// failedCall counts a failure in the open incident, or starts one if the
// call began since the last ended.
func (b *Bulkhead) failedCall(gen uint64, err error) {
	b.mu.Lock()
	first := !b.down.Load() && gen == b.gen.Load()
	if first {
		b.down.Store(true)
		b.gen.Add(1)
		b.since, b.failed = b.o.Now(), 0
	}
	if b.down.Load() {
		b.failed++
	}
	b.mu.Unlock()
	if first && b.o.Down != nil {
		b.o.Down(err)
	}
}

// InFlight returns the number of calls between Begin and End.
func (b *Bulkhead) InFlight() int { return int(b.inFlight.Load()) }

// Down reports whether an incident is open.
func (b *Bulkhead) Down() bool { return b.down.Load() }
