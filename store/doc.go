// Package store defines the records oauthkit keeps and the small interfaces a
// storage backend implements. It is the Go form of Flask-OAuthlib's getters and
// setters: [ClientStore] is the clientgetter, [UserStore] the usergetter, and
// [TokenStore] the grantgetter/grantsetter and tokengetter/tokensetter.
//
// Optional capabilities are small interfaces of their own, found by type
// assertion: [AttemptCounter] (throttling counts shared by instances),
// [ReplayCache] (one-time values, such as DPoP proof jti, seen by every
// instance), [ChangeFeed] (revocations announced to every instance, for
// the Provider's validation cache), [Exchanger] (consume a code or refresh
// token and store what it is exchanged for in one transaction), [Pinger]
// (health checks) and [Local] (a store in the process, which callers need
// not bound with deadlines). Every oauthkit backend implements ReplayCache
// and Pinger; memory, PostgreSQL and Redis implement ChangeFeed; SQLite,
// PostgreSQL and Redis implement Exchanger; memory is Local.
//
// Backends live in sub-packages, one per database: memory (the embedded
// default), sqlite, postgres and redis. Each imports only its own driver; this
// package imports nothing outside the standard library. Every backend, and any
// third-party one, should pass the conformance suite in store/storetest.
// Every backend of this module takes an [Observer] (its WithObserver option),
// told of each call's method, duration and error, for metrics
// (grant/otelmetrics); storetest.RunObserver checks a backend's.
//
// Secrets never reach a store in the clear. Tokens, authorization codes and
// generated client secrets are kept only as a SHA-256 [Hash]; user passwords
// only as an argon2id hash (see store/password). A dump of any backend
// therefore cannot be replayed against the server.
package store
