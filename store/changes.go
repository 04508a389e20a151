package store

import "context"

// ChangeKind says what a [Change] announces.
type ChangeKind uint8

// The changes a [ChangeFeed] announces.
const (
	// ChangeReset: anything may have changed. A subscriber forgets all it
	// learnt from the store. Every subscription starts with one.
	ChangeReset ChangeKind = 1
	// ChangeToken: the token with Hash was revoked (RevokeToken).
	ChangeToken ChangeKind = 2
	// ChangeFamily: the tokens of Family were revoked (RevokeFamily).
	ChangeFamily ChangeKind = 3
	// ChangeClient: tokens issued to ClientID were revoked (RevokeClient).
	ChangeClient ChangeKind = 4
	// ChangeMark: the mark Mark, published with ChangeFeed.Mark.
	ChangeMark ChangeKind = 5
)

// Change is one announcement of a [ChangeFeed]. Only the field its Kind
// names is set.
type Change struct {
	Kind     ChangeKind
	Hash     Hash   // ChangeToken
	Family   string // ChangeFamily
	ClientID string // ChangeClient
	Mark     uint64 // ChangeMark
}

// ChangeFeed is an optional capability of a token store: it announces
// revocations to every subscriber of every handle on the same store, so
// that an instance may keep what it looked up (the Provider's validation
// cache) and still learn within a bounded time that it no longer holds.
// Detected by type assertion. The memory store implements it in process;
// PostgreSQL (LISTEN/NOTIFY) and Redis (pub/sub) across instances; SQLite,
// whose file other processes may share unannounced, does not. The suite in
// store/storetest checks it.
//
// A store that implements it should announce every RevokeToken,
// RevokeFamily and RevokeClient that took a token out of service, with
// ChangeToken, ChangeFamily and ChangeClient, and may announce the others
// (a subscriber tolerates spurious changes). An announcement is atomic with
// its change and comes after it is committed: a subscriber that receives it
// and then reads the store sees the change. A change it cannot announce
// (a name too long for the transport) is announced as a ChangeReset. Expiry
// and ConsumeToken are not announced: a subscriber checks expiry itself,
// and keeps no token that can be consumed (codes, refresh tokens).
//
// Changes reach each subscriber in the order they were committed, and a
// mark after every change committed before Mark was called: a subscriber
// that receives its own mark, published at time T, has received every
// change committed before T.
type ChangeFeed interface {
	// Subscribe calls fn with each announced change until ctx is done or
	// the subscription is lost, and then returns: ctx.Err() when ctx is
	// done, otherwise the error that ended it (changes may have been
	// missed: the subscriber should forget what it learnt and subscribe
	// again). It calls fn one change at a time (never concurrently), in
	// order; fn should return quickly, as it holds up the next change, and
	// may read the store but not change it. The first call of fn is a
	// ChangeReset, made once the subscription is in place: every change
	// committed after that call began reaches fn. A store
	// that may have missed changes without losing the subscription calls fn
	// with a ChangeReset again.
	Subscribe(ctx context.Context, fn func(Change)) error

	// Mark publishes a ChangeMark carrying mark to every subscriber (the
	// caller's own subscription included), after every change committed
	// before the call. Subscribers use marks as heartbeats, to prove that
	// their subscription still delivers. It returns once the mark is
	// published.
	Mark(ctx context.Context, mark uint64) error
}
