package store

import (
	"context"
	"time"
)

// Observer is told of every call to a backend's store methods, for metrics:
// op is the method's name ("Token", "ConsumeToken", "UseOnce", …), d how
// long the call took, err what it returned (nil, one of this package's
// sentinels, or a failure). Every backend of this module takes one with its
// WithObserver option; storetest.RunObserver checks that each method
// reports itself once. An Observer must be safe for concurrent use, return
// quickly, and not call the store.
//
// A nil Observer observes nothing, and the backend then reads no clock: the
// cost of the hook is a nil check per call.
type Observer func(ctx context.Context, op string, d time.Duration, err error)

// Start returns the time a call begins: now, or the zero time when o is
// nil. Backends pair it with Done.
func (o Observer) Start() time.Time {
	if o == nil {
		return time.Time{}
	}
	return time.Now()
}

// Done reports that op, begun at start, returned *err. Backends call it
// deferred, with the method's named error result:
//
//	func (s *Store) Token(ctx context.Context, h store.Hash) (_ store.Token, err error) {
//		defer s.obs.Done(ctx, "Token", s.obs.Start(), &err)
func (o Observer) Done(ctx context.Context, op string, start time.Time, err *error) {
	if o != nil {
		o(ctx, op, time.Since(start), *err)
	}
}
