// Package outage holds the fault-injection tests: a grant.Provider and
// middleware.RequireOAuth on PostgreSQL and on Redis, each reached through
// a TCP proxy of the tests' own (internal/faultproxy) that drops
// connections, refuses them, blackholes them or adds 500 ms of latency
// while eight clients issue and validate tokens. Every answer must leave
// within the stores' deadline (grant.Config.Store) and a small margin,
// with 503 and Retry-After (never 500, never a hang); service must resume
// by itself within 2 seconds of the store's return; no token answered 200
// may be lost; and goroutines and heap must come back to their baseline.
// Beside them: reuse detection that fails closed when the revocation
// fails, and consume-and-issue transactions (store.Exchanger) that roll
// back, on PostgreSQL and SQLite. It has no code outside its tests; it
// lives apart so that the store drivers stay out of the core packages'
// imports.
//
//	go test ./internal/outage
//
// PostgreSQL and Redis are found as internal/testservices says (skipped,
// with one line saying so, when absent).
package outage
