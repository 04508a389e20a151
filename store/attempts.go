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
// Keys are opaque strings of at most 64 bytes of printable ASCII (the
// throttle passes fixed-size hashes). A key unknown to the store has its
// full Burst. Every method takes the caller's clock reading, so that all
// instances and tests agree on time, and should be safe for concurrent
// use: ReserveAttempt in particular is atomic, so that N concurrent calls
// on a key with k attempts left grant exactly min(N, k).
type AttemptCounter interface {
	// ReserveAttempt takes one attempt under key at time now, allowed by
	// l. It returns zero if the attempt was taken; otherwise it takes
	// nothing and returns how long until one will be available.
	ReserveAttempt(ctx context.Context, key string, l Limit, now time.Time) (wait time.Duration, err error)
	// RefundAttempt gives back one attempt taken under key, as if it had
	// not been taken, never beyond l.Burst. A key with nothing taken
	// should be left alone.
	RefundAttempt(ctx context.Context, key string, l Limit, now time.Time) error
	// ResetAttempts forgets key: its next reservation has the full Burst.
	ResetAttempts(ctx context.Context, key string) error
}
