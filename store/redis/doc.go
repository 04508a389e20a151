// Package redis is an oauthkit store in Redis, shared by every instance of a
// service: one server, a primary with replicas, or Redis Cluster. It uses
// github.com/redis/go-redis/v9.
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
// # Redis Cluster
//
// New takes a *goredis.ClusterClient as well as a *goredis.Client, and Open
// a redis+cluster://host:port[,host:port…] URL. In a cluster every key a
// script touches must hash to one slot, and a token is looked up by its
// hash alone; so a token keeps a key of its own (Token, ConsumeToken and
// RevokeToken stay one round trip on one key), a family's revocation mark
// and token index share the family as a hash tag ({family}), and the
// operations that span a token, its family and its client run in ordered
// steps: CreateToken stores the token, then adds it to its family's index
// (refused once the family is marked revoked) and its client's; RevokeFamily
// marks the family and reads its index in one script, then deletes each
// token on its own node. The family's slot orders the join and the mark:
// either the join comes first and the revocation finds and deletes the
// token (stored before it joined), or the mark comes first and the join is
// refused, and CreateToken deletes the token it stored and returns
// store.ErrRevoked. No token of a revoked family survives its RevokeFamily,
// under any interleaving (TestClusterInterleaving places a RevokeFamily
// between the steps). Exchange, whose keys span slots, consumes first and
// gives the token back if storing the new ones fails. The change feed
// subscribes on every master and
// passes a heartbeat on only once it came back through all of them, as
// only one master's messages arrive in its order. README.md gives the
// details and the costs.
//
// # Durability
//
// A revocation holds only if the server keeps it: New reads the server's
// persistence settings (every master's) and warns, or with
// WithDurability(RequireAOF) refuses, unless it has the append-only file
// with appendfsync everysec or always and no eviction. New and Ping
// increment a readiness counter and remember it: a server that comes back
// empty or from an older copy makes Ping fail with store.ErrReset, which the
// Provider's health check reports. Keep client registrations in a durable
// store (PostgreSQL, SQLite, the host's configuration) and tokens in Redis.
//
// Tokens and generated client secrets are kept only as SHA-256 hashes.
//
// A Store implements store.TokenStore, store.ClientRegistry,
// store.AttemptCounter, store.ReplayCache, store.DeviceStore (device
// grants: a hash per grant and one per user code, expiring with it; polls
// and answers are Lua scripts), store.Pinger and store.ChangeFeed
// (revocation scripts PUBLISH from within; Subscribe holds a pub/sub
// connection of its own, one per master on a cluster; see README.md for the
// channel), and passes store/storetest on one server and on a cluster.
package redis
