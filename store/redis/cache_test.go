package redis_test

import (
	"crypto/rand"
	"net"
	"strconv"
	"strings"
	"testing"

	goredis "github.com/redis/go-redis/v9"

	"github.com/oauthkit/oauthkit/internal/sharedtest"
	"github.com/oauthkit/oauthkit/internal/tcpproxy"
	"github.com/oauthkit/oauthkit/internal/testservices"
	"github.com/oauthkit/oauthkit/store/redis"
)

// instance opens a store under prefix with a client of its own, as another
// service instance would, named name in CLIENT LIST; via, if set, is the
// address of a proxy to the server.
func instance(t *testing.T, prefix, name, via string) *redis.Store {
	t.Helper()
	addr := testservices.Redis(t)
	if via != "" {
		addr = via
	}
	rdb := goredis.NewClient(&goredis.Options{Addr: addr, ClientName: name})
	t.Cleanup(func() { rdb.Close() })
	s, err := redis.New(t.Context(), rdb, redis.WithPrefix(prefix), quiet)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestSharedCachePropagation: a revocation on one instance reaches the
// validation cache of another through pub/sub within the bound (p50/p99 in
// the log).
func TestSharedCachePropagation(t *testing.T) {
	prefix := newPrefix(t, testClient(t))
	sharedtest.CachePropagation(t, instance(t, prefix, "oauthkit-a", ""), instance(t, prefix, "oauthkit-b", ""))
}

// subscriber returns the id and client port of the pub/sub connection of
// the client named name, from CLIENT LIST.
func subscriber(t *testing.T, rdb *goredis.Client, name string) (id string, port int) {
	t.Helper()
	list, err := rdb.ClientList(t.Context()).Result()
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.Lines(list) {
		f := map[string]string{}
		for _, kv := range strings.Fields(line) {
			k, v, _ := strings.Cut(kv, "=")
			f[k] = v
		}
		if f["name"] == name && f["sub"] != "" && f["sub"] != "0" {
			_, p, _ := net.SplitHostPort(f["addr"])
			port, _ = strconv.Atoi(p)
			return f["id"], port
		}
	}
	t.Fatalf("no pub/sub connection named %s in CLIENT LIST", name)
	return "", 0
}

// TestSharedCacheSubscriberKilled: the server ends b's pub/sub connection
// (CLIENT KILL) mid-test.
func TestSharedCacheSubscriberKilled(t *testing.T) {
	rdb := testClient(t)
	prefix := newPrefix(t, rdb)
	name := "oauthkit-b-" + rand.Text()[:8]
	sharedtest.CacheFeedCut(t, instance(t, prefix, "oauthkit-a", ""), instance(t, prefix, name, ""), func(t *testing.T) {
		id, _ := subscriber(t, rdb, name)
		if err := rdb.Do(t.Context(), "CLIENT", "KILL", "ID", id).Err(); err != nil {
			t.Fatalf("CLIENT KILL: %v", err)
		}
	})
}

// TestSharedCacheSubscriberSilenced: b's pub/sub connection goes silent (a
// proxy of the test's own between b and the server drops everything on it,
// and closes nothing) mid-test, while b's other connections still work.
func TestSharedCacheSubscriberSilenced(t *testing.T) {
	rdb := testClient(t)
	prefix := newPrefix(t, rdb)
	proxy, err := tcpproxy.Start(testservices.Redis(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { proxy.Close() })
	name := "oauthkit-b-" + rand.Text()[:8]
	sharedtest.CacheFeedCut(t, instance(t, prefix, "oauthkit-a", ""), instance(t, prefix, name, proxy.Addr()), func(t *testing.T) {
		if _, port := subscriber(t, rdb, name); !proxy.Blackhole(port) {
			t.Fatalf("no proxied connection on port %d", port)
		}
	})
}

// TestSharedCacheClose: closing a Provider stops its cache's SUBSCRIBE and
// heartbeat goroutines.
func TestSharedCacheClose(t *testing.T) {
	sharedtest.CacheClose(t, instance(t, newPrefix(t, testClient(t)), "oauthkit-close", ""))
}
