// Package sqlite is an oauthkit store in one SQLite file, for a single
// machine whose tokens must survive a restart. It is pure Go (the
// modernc.org/sqlite driver, no cgo).
//
// [Open] opens or creates the file in WAL mode with a busy timeout and
// synchronous=NORMAL, which keeps every committed token across a crash of the
// process. [New] takes a *sql.DB the host already has instead. Either way the
// schema is created or migrated on open (see README.md), and expired rows are
// deleted by a background goroutine that [Store.Close] stops.
//
// Tokens and generated client secrets are kept only as SHA-256 hashes.
// Consuming a code or refresh token is one UPDATE … RETURNING, so exactly one
// caller wins; revoking a family marks it in the families table and deletes
// its tokens in one transaction.
//
// A Store implements store.TokenStore, store.ClientRegistry and
// store.DeviceStore (device grants: a poll or an answer is one transaction
// under the store's write lock), and passes store/storetest.
package sqlite
