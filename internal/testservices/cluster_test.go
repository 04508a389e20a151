package testservices

import (
	"context"
	"strings"
	"testing"

	goredis "github.com/redis/go-redis/v9"
)

// TestRedisCluster: the cluster the tests start has every slot served, by
// three masters, and a key written through one node is read through
// another.
func TestRedisCluster(t *testing.T) {
	addrs := RedisCluster(t)
	ctx := t.Context()
	rdb := goredis.NewClusterClient(&goredis.ClusterOptions{Addrs: addrs})
	defer rdb.Close()
	shards, err := rdb.ClusterShards(ctx).Result()
	if err != nil {
		t.Fatal(err)
	}
	masters, served := 0, int64(0)
	for _, sh := range shards {
		if len(sh.Slots) > 0 {
			masters++
		}
		for _, r := range sh.Slots {
			served += r.End - r.Start + 1
		}
	}
	if served != 16384 || masters != clusterMasters {
		t.Fatalf("%d slots served by %d masters: %v", served, masters, shards)
	}
	// {a} and {b} hash to different slots; both are reachable.
	for _, k := range []string{"oauthkit-testservices:{a}", "oauthkit-testservices:{b}"} {
		if err := rdb.Set(ctx, k, "v", 0).Err(); err != nil {
			t.Fatal(err)
		}
		if v, err := rdb.Get(ctx, k).Result(); err != nil || v != "v" {
			t.Fatalf("get %s: %q %v", k, v, err)
		}
		rdb.Del(ctx, k)
	}
}

// TestStartRedisKillRestart: a server started with AOF (appendfsync
// always) keeps an acknowledged write across SIGKILL and Restart.
func TestStartRedisKillRestart(t *testing.T) {
	r := StartRedis(t, "--appendonly", "yes", "--appendfsync", "always")
	ctx := context.Background()
	rdb := goredis.NewClient(&goredis.Options{Addr: r.Addr, MaxRetries: -1})
	defer rdb.Close()
	if err := rdb.Set(ctx, "k", "v", 0).Err(); err != nil {
		t.Fatal(err)
	}
	r.Kill(t)
	if err := probeRedis(ctx, r.Addr); err == nil {
		t.Fatal("the killed server answers")
	}
	r.Restart(t)
	if v, err := rdb.Get(ctx, "k").Result(); err != nil || v != "v" {
		t.Fatalf("after restart: %q %v", v, err)
	}
	if info := rdb.Info(ctx, "persistence").Val(); !strings.Contains(info, "aof_enabled:1") {
		t.Fatalf("AOF is off after restart:\n%s", info)
	}
}

// TestMain stops the cluster TestRedisCluster starts.
func TestMain(m *testing.M) { Main(m) }
