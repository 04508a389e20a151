package store

import (
	"context"
	"time"
)

// Limit is a rate of attempts: Burst at once, then one more each Every (a
// token bucket of Burst tokens refilled one per Every; equivalently the
// generic cell rate algorithm with emission interval Every and tolerance
// (Burst-1)·Every).
type Limit struct {
	Burst int           // attempts allowed at once; at least 1
	Every time.Duration // time to win back one attempt; positive
}

// AttemptCounter is an optional capability of a store: rate limits on
// attempts (password or client-secret guesses) shared by every instance
// that uses the store, so that throttling holds however requests are
// spread over them. The Provider looks for it with a type assertion on
// its token store; backends without it (memory, SQLite) leave the
// counting to each process. The PostgreSQL and Redis backends implement
// it, and store/storetest checks it.
//
// A key's state is a bucket of l.Burst attempts refilled one per l.Every.
// Keys are opaque strings of at most 64 bytes of printable ASCII (the
// throttle passes fixed-size hashes); a key unknown to the store has a
// full bucket. Every method takes the caller's clock reading, so that all
// instances and tests agree on time, and should be safe for concurrent
// use; ChargeAttempt in particular is atomic, so that of N concurrent
// charges on a bucket with k attempts left exactly min(N, k) report no
// excess.
type AttemptCounter interface {
	// AttemptWait reports how long until key has an attempt left at time
	// now: zero if it has one. It changes nothing.
	AttemptWait(ctx context.Context, key string, l Limit, now time.Time) (time.Duration, error)
	// ChargeAttempt takes one attempt under key, whether or not one is
	// left: beyond the bucket it is a debt that lengthens the wait. It
	// returns the excess: zero if the attempt was within the limit,
	// otherwise how long until the bucket, debt paid, has one again.
	ChargeAttempt(ctx context.Context, key string, l Limit, now time.Time) (excess time.Duration, err error)
	// RefundAttempt gives back one charged attempt, never beyond a full
	// bucket. A key with nothing charged should be left alone.
	RefundAttempt(ctx context.Context, key string, l Limit, now time.Time) error
	// ResetAttempts forgets key: its bucket is full again.
	ResetAttempts(ctx context.Context, key string) error
}
