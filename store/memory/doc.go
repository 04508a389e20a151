// Package memory is oauthkit's embedded default store: clients, users and
// tokens in process memory, lost on restart.
//
// A [Store] is safe for concurrent use. Token lookups are O(1) in one of 64
// shards under a read lock, so validations on different tokens do not contend;
// expired tokens are swept a few at a time by the writes that land in their
// shard, so no reader ever waits for a sweep. Only SHA-256 hashes of tokens and
// client secrets, and argon2id hashes of passwords, are kept.
//
// Use it for tests, development and single-instance services that can afford
// to lose tokens on restart; store/sqlite persists, store/postgres and
// store/redis are shared between instances.
package memory
