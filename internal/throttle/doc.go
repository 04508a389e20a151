// Package throttle limits guessing: attempts at a password or a client
// secret are reserved before they are checked, per (account, address
// group) pair and per address group, so that parallel requests cannot
// check more than the limit allows, a success gives back what it took, and
// nobody can lock an account out from another address.
//
// The counts live in a [store.AttemptCounter]: a shared store's (PostgreSQL,
// Redis) when instances must agree, or a [Table] in this process, whose
// rate arithmetic is golang.org/x/time/rate's token bucket and whose size
// is bounded in bytes. Keys are fixed-size hashes of what the caller
// passes, so a long username costs no more than a short one.
//
// The package knows nothing of OAuth: the caller names the account (for
// example "user\x00alice" or "client\x00svc") and the address.
package throttle
