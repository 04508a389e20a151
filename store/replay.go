package store

import (
	"context"
	"time"
)

// ReplayCache is an optional capability of a store: one-time values, such
// as the jti of DPoP proofs and of client assertions, that every instance
// sharing the store sees. Detected by type assertion.
type ReplayCache interface {
	// UseOnce records key until the given time and reports whether this
	// was its first use (true) or a replay (false). Keys are opaque and at
	// most 128 bytes (callers hash what clients send); after until, the
	// key may be forgotten. It should be atomic: of concurrent uses of one
	// key, exactly one sees true.
	UseOnce(ctx context.Context, key string, until time.Time) (bool, error)
}

// MaxReplayKey is the longest key a [ReplayCache] must accept, in bytes.
const MaxReplayKey = 128
