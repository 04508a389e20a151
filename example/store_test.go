package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	goredis "github.com/redis/go-redis/v9"

	"github.com/oauthkit/oauthkit/internal/testservices"
)

// randomName returns prefix and 12 random hex digits.
func randomName(prefix string) string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return prefix + hex.EncodeToString(b)
}

// postgresSpec returns a -store value for the test PostgreSQL server
// (testservices.Postgres), in a schema of its own that is dropped when the
// test ends; or skips.
func postgresSpec(t testing.TB) string {
	t.Helper()
	dsn := testservices.Postgres(t)
	schema := randomName("oauthkit_example_")
	t.Cleanup(func() {
		ctx := context.Background()
		conn, err := pgx.Connect(ctx, dsn)
		if err != nil {
			t.Errorf("drop test schema: %v", err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP SCHEMA IF EXISTS "+pgx.Identifier{schema}.Sanitize()+" CASCADE"); err != nil {
			t.Errorf("drop test schema: %v", err)
		}
	})
	sep := "?"
	if strings.Contains(dsn, "?") {
		sep = "&"
	}
	return dsn + sep + "schema=" + schema
}

// redisSpec returns a -store value for the test Redis server
// (testservices.Redis), under a key prefix of its own whose keys are deleted
// when the test ends; or skips.
func redisSpec(t testing.TB) string {
	t.Helper()
	addr := testservices.Redis(t)
	prefix := randomName("oauthkit-example-") + ":"
	t.Cleanup(func() {
		ctx := context.Background()
		rdb := goredis.NewClient(&goredis.Options{Addr: addr})
		defer rdb.Close()
		keys, err := rdb.Keys(ctx, prefix+"*").Result()
		if err == nil && len(keys) > 0 {
			err = rdb.Del(ctx, keys...).Err()
		}
		if err != nil {
			t.Errorf("delete test keys: %v", err)
		}
	})
	return "redis://" + addr + "/0?prefix=" + url.QueryEscape(prefix)
}

// redisClusterSpec returns a -store value for the test Redis Cluster
// (testservices.RedisCluster), under a key prefix of its own whose keys
// are deleted from every master when the test ends; or skips.
func redisClusterSpec(t testing.TB) string {
	t.Helper()
	addrs := testservices.RedisCluster(t)
	prefix := randomName("oauthkit-example-") + ":"
	t.Cleanup(func() {
		ctx := context.Background()
		rdb := goredis.NewClusterClient(&goredis.ClusterOptions{Addrs: addrs})
		defer rdb.Close()
		err := rdb.ForEachMaster(ctx, func(ctx context.Context, c *goredis.Client) error {
			keys, err := c.Keys(ctx, prefix+"*").Result()
			for _, k := range keys { // one by one: they are in many slots
				if err == nil {
					err = c.Del(ctx, k).Err()
				}
			}
			return err
		})
		if err != nil {
			t.Errorf("delete test keys: %v", err)
		}
	})
	return "redis+cluster://" + strings.Join(addrs, ",") + "/?prefix=" + url.QueryEscape(prefix)
}

// sqliteSpec returns a -store value for a new SQLite file.
func sqliteSpec(t testing.TB) string {
	return "sqlite:" + filepath.Join(t.TempDir(), "oauthkit.db")
}

// persistentSpecs are the -store values of every persistent backend this
// machine can test, by name.
func persistentSpecs(t *testing.T) map[string]func(testing.TB) string {
	return map[string]func(testing.TB) string{"sqlite": sqliteSpec, "postgres": postgresSpec, "redis": redisSpec, "redis-cluster": redisClusterSpec}
}

func TestOpenStoreBadSpecs(t *testing.T) {
	for _, spec := range []string{
		"sqlite:", "sqlite://x.db", "mysql://localhost/db", "memory:", "bolt:x.db",
		"postgres://u:hunter2@127.0.0.1:1/db?schema=a&schema=b", "redis://127.0.0.1:1/0?prefix=",
		"postgres://u:hunter2@[::1/db",
	} {
		st, _, err := openStore(t.Context(), spec)
		if err == nil {
			st.Close()
			t.Errorf("%q: opened", spec)
			continue
		}
		if !errors.Is(err, errStoreSpec) || exitStatus(err) != 2 {
			t.Errorf("%q: %v, want a -store error", spec, err)
		}
		if strings.Contains(err.Error(), "hunter2") {
			t.Errorf("%q: the error shows the password: %v", spec, err)
		}
	}
}

func TestOpenStoreUnreachable(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	for _, spec := range []string{"postgres://u:hunter2@127.0.0.1:1/db?connect_timeout=1", "redis://:hunter2@127.0.0.1:1/0"} {
		st, _, err := openStore(ctx, spec)
		if err == nil {
			st.Close()
			t.Fatalf("%q: opened", spec)
		}
		if exitStatus(err) != 1 {
			t.Errorf("%q: %v, want exit status 1", spec, err)
		}
	}
}

func TestSplitParam(t *testing.T) {
	rest, v, shown, err := splitParam("postgres://u:hunter2@db:5432/app?sslmode=disable&schema=auth", "schema")
	if err != nil || v != "auth" || strings.Contains(rest, "schema") || !strings.Contains(rest, "sslmode=disable") ||
		!strings.Contains(rest, "hunter2") || strings.Contains(shown, "hunter2") {
		t.Errorf("got %q %q %q %v", rest, v, shown, err)
	}
	raw := "redis://127.0.0.1:6379/0"
	if rest, v, _, err := splitParam(raw, "prefix"); err != nil || rest != raw || v != "" {
		t.Errorf("without the parameter: %q %q %v", rest, v, err)
	}
}

// TestStoreBackends starts the example on every backend and uses it.
func TestStoreBackends(t *testing.T) {
	for name, spec := range persistentSpecs(t) {
		t.Run(name, func(t *testing.T) {
			s := spec(t)
			base, stdout := startExample(t, "-store", s)
			banner := stdout.String()
			if !strings.Contains(banner, "Store: "+name) || !strings.Contains(banner, "demo-service") || !strings.Contains(banner, "secret=okcs_") {
				t.Errorf("banner:\n%s", banner)
			}
			if strings.Contains(banner, "hunter2") {
				t.Error("the banner shows the store's password")
			}
			tok := login(t, base, "user1", "password1")
			if status, _, body := call(t, "GET", base+"/api/data", "", "Bearer "+tok.AccessToken, ""); status != 200 {
				t.Fatalf("GET /api/data: %d %s", status, body)
			}
		})
	}
}

// login is the tutorial's POST /login.
func login(t *testing.T, base, user, password string) tokenJSON {
	t.Helper()
	status, _, body := call(t, "POST", base+"/login", "application/json", "", `{"username": "`+user+`", "password": "`+password+`"}`)
	var tok tokenJSON
	if err := json.Unmarshal([]byte(body), &tok); err != nil || status != 200 || tok.AccessToken == "" {
		t.Fatalf("POST /login: %d %s", status, body)
	}
	return tok
}
