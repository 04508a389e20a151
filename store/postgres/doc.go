// Package postgres is an oauthkit store in PostgreSQL, shared by every
// instance of a service that has outgrown one machine. It uses pgx v5.
//
// [New] takes the host's *pgxpool.Pool; [Open] makes a pool from a DSN. The
// tables (see README.md) live in one schema, public unless [WithSchema] says
// otherwise, and are created or migrated on open under an advisory lock, so
// instances starting together migrate once.
//
// Tokens and generated client secrets are kept only as SHA-256 hashes. Every
// token operation is one statement except RevokeFamily: CreateToken checks
// the family and inserts in one INSERT … WITH, ConsumeToken is one
// UPDATE … RETURNING that counts uses (the caller that makes the count 1
// wins), and RevokeFamily marks the family and deletes its tokens in one
// transaction. Expired rows are deleted by a background goroutine that
// [Store.Close] stops.
//
// A Store implements store.TokenStore, store.ClientRegistry,
// store.AttemptCounter, store.DeviceStore (device grants: a poll or an
// answer locks the grant's row in one transaction) and store.ChangeFeed
// (revocations NOTIFY in the statement or transaction that makes them;
// Subscribe LISTENs on a connection of its own; see README.md for the
// channel), and passes store/storetest.
package postgres
