package postgres_test

import (
	"crypto/rand"
	"net"
	"strconv"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/oauthkit/oauthkit/internal/sharedtest"
	"github.com/oauthkit/oauthkit/internal/tcpproxy"
	"github.com/oauthkit/oauthkit/internal/testservices"
	"github.com/oauthkit/oauthkit/store/postgres"
)

// instance opens a store on schema with a pool of its own, as another
// service instance would, named name in pg_stat_activity; via, if set, is
// the address of a proxy to the database.
func instance(t *testing.T, schema, name, via string) *postgres.Store {
	t.Helper()
	cfg, err := pgxpool.ParseConfig(testservices.Postgres(t))
	if err != nil {
		t.Fatal(err)
	}
	cfg.ConnConfig.RuntimeParams["application_name"] = name
	if via != "" {
		host, port, _ := net.SplitHostPort(via)
		p, _ := strconv.Atoi(port)
		cfg.ConnConfig.Host, cfg.ConnConfig.Port = host, uint16(p)
		cfg.ConnConfig.Fallbacks = nil
	}
	pool, err := pgxpool.NewWithConfig(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	s, err := postgres.New(t.Context(), pool, postgres.WithSchema(schema))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// TestSharedCachePropagation: a revocation on one instance reaches the
// validation cache of another through LISTEN/NOTIFY within the bound
// (p50/p99 in the log).
func TestSharedCachePropagation(t *testing.T) {
	pool := testPool(t)
	schema := newSchema(t, pool)
	sharedtest.CachePropagation(t, instance(t, schema, "oauthkit-a", ""), instance(t, schema, "oauthkit-b", ""))
}

// listener returns the backend pid and client port of the LISTEN
// connection of the instance named name.
func listener(t *testing.T, pool *pgxpool.Pool, name string) (pid, port int) {
	t.Helper()
	err := pool.QueryRow(t.Context(), `SELECT pid, coalesce(client_port, 0) FROM pg_stat_activity
		WHERE application_name = $1 AND query LIKE 'LISTEN %'`, name).Scan(&pid, &port)
	if err != nil {
		t.Fatalf("the LISTEN connection of %s: %v", name, err)
	}
	return pid, port
}

// TestSharedCacheListenerKilled: the server ends b's LISTEN connection
// (pg_terminate_backend) mid-test.
func TestSharedCacheListenerKilled(t *testing.T) {
	pool := testPool(t)
	schema := newSchema(t, pool)
	name := "oauthkit-b-" + rand.Text()[:8]
	sharedtest.CacheFeedCut(t, instance(t, schema, "oauthkit-a", ""), instance(t, schema, name, ""), func(t *testing.T) {
		pid, _ := listener(t, pool, name)
		var ok bool
		if err := pool.QueryRow(t.Context(), `SELECT pg_terminate_backend($1)`, pid).Scan(&ok); err != nil || !ok {
			t.Fatalf("pg_terminate_backend: %v, %v", ok, err)
		}
	})
}

// TestSharedCacheListenerSilenced: b's LISTEN connection goes silent (a
// proxy of the test's own between b and the server drops everything on it,
// and closes nothing) mid-test, while b's other connections still work.
func TestSharedCacheListenerSilenced(t *testing.T) {
	pool := testPool(t)
	schema := newSchema(t, pool)
	cfg := pool.Config().ConnConfig
	proxy, err := tcpproxy.Start(net.JoinHostPort(cfg.Host, strconv.Itoa(int(cfg.Port))))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { proxy.Close() })
	name := "oauthkit-b-" + rand.Text()[:8]
	sharedtest.CacheFeedCut(t, instance(t, schema, "oauthkit-a", ""), instance(t, schema, name, proxy.Addr()), func(t *testing.T) {
		if _, port := listener(t, pool, name); !proxy.Blackhole(port) {
			t.Fatalf("no proxied connection on port %d", port)
		}
	})
}

// TestSharedCacheClose: closing a Provider stops its cache's LISTEN and
// heartbeat goroutines.
func TestSharedCacheClose(t *testing.T) {
	pool := testPool(t)
	sharedtest.CacheClose(t, instance(t, newSchema(t, pool), "oauthkit-close", ""))
}
