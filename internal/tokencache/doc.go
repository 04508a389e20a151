// Package tokencache keeps the access tokens an instance looked up in a
// shared token store, so that a token seen again costs one map lookup, and
// keeps them honest by the store's change feed (store.ChangeFeed): a
// revocation committed anywhere stops being served here within a bound, the
// feed lost or not.
//
// # How it stays honest
//
// Every revocation is announced on the feed after it commits, and the feed
// delivers in commit order. The cache publishes a mark of its own (a random
// 64-bit value) every Bound/4 and remembers when it sent each; when its own
// mark comes back, every change committed before the mark was sent has come
// back before it and been applied. So if the latest mark back was sent at
// S, whatever the cache holds is at most now−S out of date, and the cache
// serves entries only while now−S is under the bound (less a tenth, for the
// time between the check and the answer). When marks stop coming back, for
// any reason (a dropped connection, a silent network, a stalled server),
// the cache stops serving on its own, before the bound; after twice Bound
// without a mark it takes the feed for lost: it forgets every entry, subscribes
// again, and serves again only after a mark sent on the new subscription
// comes back. Every lookup meanwhile goes to the store.
//
// A lookup that misses reads a generation counter before asking the store
// and inserts its answer only if no change arrived since (checked under the
// shard's lock, which every change takes after bumping the counter), so a
// revocation announced while the lookup was in flight never leaves the
// revoked token cached. A subscription starts with a reset that bumps the
// counter too, so nothing read from the store before the subscription was
// in place survives it.
//
// # What it keeps
//
// Only live access tokens: not refresh tokens or codes (consumed, never
// announced) and not negative answers, so that a token created on another
// instance is accepted at once (creations are not announced). Entries are
// served until the token expires (on the caller's clock), and for at most
// MaxAge, which bounds what an unannounced change (a row deleted by hand)
// can cost. The cache is bounded in entries and in bytes, and spread over 64
// shards, each with its own lock, so that a hit takes one read lock and no
// allocation.
package tokencache
