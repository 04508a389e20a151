// Package testservices finds the PostgreSQL and Redis servers that the
// tests of store/postgres, store/redis, the example and internal/soak run
// against, for `go test ./...` on any machine:
//
//   - OAUTHKIT_TEST_POSTGRES (a DSN) and OAUTHKIT_TEST_REDIS (host:port),
//     when set, name the servers, and a test fails if they do not answer
//     (.ci/run sets both, so CI never skips).
//   - Unset, a server answering at the default local address is used:
//     DefaultPostgres and DefaultRedis.
//   - Otherwise the tests that need the service skip, and [Main] (the
//     package's TestMain, or [Run] in a TestMain of its own) prints one
//     line saying why, once per package. go
//     test shows a passing package's output only under -v, so the line goes
//     to the terminal (/dev/tty) when there is one, and to stderr otherwise.
//
// The Redis Cluster tests get their cluster from [RedisCluster]: three
// redis-servers in cluster mode on free loopback ports, started on first
// use, once per test binary, and stopped by [Run] (RedisClusterEnv names
// a running cluster instead). [StartRedis] starts a redis-server of a
// test's own, which the test can kill (SIGKILL) and restart on the same
// files: the crash tests. Both skip when redis-server is not in PATH,
// unless RedisClusterEnv is set (.ci/run sets it to "start"): then they
// fail.
//
// It also gives [Blackhole], a server that accepts connections and never
// answers, for the tests of connect timeouts. Only _test.go files import
// this package.
package testservices
