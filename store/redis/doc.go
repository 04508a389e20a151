// Package redis is an oauthkit store in Redis, shared by every instance of a
// service. It uses github.com/redis/go-redis/v9.
//
// Every token is a Redis hash that expires with the token (PEXPIREAT), so
// Redis itself drops expired tokens. Creating a token, consuming one and
// revoking a family are Lua scripts, each atomic on the server: exactly one
// of any number of racing ConsumeToken calls wins, and a family's revocation
// mark lives as long as the family's longest-lived token, however the keys
// expire. Looking a token up is one HGETALL. RevokeClient deletes a client's
// tokens found by a per-client index, in atomic batches. See README.md for
// the keys.
//
// Tokens and generated client secrets are kept only as SHA-256 hashes. The
// scripts touch keys they compute from stored values (a family's tokens), so
// the store needs a single Redis server (or a primary with replicas), not
// Redis Cluster.
//
// A Store implements store.TokenStore, store.ClientRegistry,
// store.AttemptCounter, store.DeviceStore (device grants: a hash per grant
// and one per user code, expiring with it; polls and answers are Lua
// scripts) and store.ChangeFeed (revocation scripts PUBLISH from within;
// Subscribe holds a pub/sub connection of its own; see README.md for the
// channel), and passes store/storetest.
package redis
