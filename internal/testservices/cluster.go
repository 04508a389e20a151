package testservices

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// RedisClusterEnv names the Redis Cluster that the cluster tests run
// against: "start" (what .ci/run sets) has the tests start one of their
// own, comma-separated host:port addresses name a running cluster. Unset,
// the tests start one when redis-server is in PATH, and skip otherwise.
// Set to anything, it also makes the tests that start a redis-server of
// their own (StartRedis) fail rather than skip when there is none.
const RedisClusterEnv = "OAUTHKIT_TEST_REDIS_CLUSTER"

// clusterMasters is how many masters the cluster the tests start has (no
// replicas): enough that a family, its tokens and its client land on
// different nodes.
const clusterMasters = 3

// clusterJoinTimeout bounds how long the started cluster may take to be
// ready (cluster_state:ok on every node; Redis waits about 2 s after a
// master starts before it says so).
const clusterJoinTimeout = 30 * time.Second

// testCluster is the Redis Cluster a test binary starts, once, on its first
// use, and Run tears down.
var testCluster struct {
	once  sync.Once
	addrs []string
	err   error
	nodes []*RedisServer
	dir   string
}

// RedisCluster returns the addresses of the masters of the Redis Cluster to
// test against (see RedisClusterEnv), starting it on first use; or skips
// t. Tests share it: each uses key prefixes of its own.
func RedisCluster(t testing.TB) []string {
	t.Helper()
	if v := os.Getenv(RedisClusterEnv); v != "" && v != "start" {
		return strings.Split(v, ",")
	}
	bin := redisBinary(t, "redis-server")
	testCluster.once.Do(func() { testCluster.addrs, testCluster.err = startCluster(bin) })
	if testCluster.err != nil {
		t.Fatal(testCluster.err)
	}
	return testCluster.addrs
}

// startCluster starts clusterMasters redis-servers in cluster mode on free
// loopback ports, gives each a third of the slots and introduces them to
// each other.
func startCluster(bin string) ([]string, error) {
	dir, err := os.MkdirTemp("", "oauthkit-redis-cluster-")
	if err != nil {
		return nil, err
	}
	testCluster.dir = dir
	ports, err := freePorts(2 * clusterMasters) // a client port and a bus port each
	if err != nil {
		return nil, err
	}
	var addrs []string
	for i := range clusterMasters {
		port, bus := ports[2*i], ports[2*i+1]
		r, err := startServer(bin, dir, port, []string{
			"--cluster-enabled", "yes", "--cluster-port", strconv.Itoa(bus),
			"--cluster-config-file", "nodes-" + strconv.Itoa(port) + ".conf",
		})
		if err != nil {
			return nil, err
		}
		testCluster.nodes = append(testCluster.nodes, r)
		addrs = append(addrs, r.Addr)
	}
	ctx, cancel := context.WithTimeout(context.Background(), clusterJoinTimeout)
	defer cancel()
	clients := make([]*goredis.Client, len(addrs))
	for i, a := range addrs {
		clients[i] = goredis.NewClient(&goredis.Options{Addr: a})
		defer clients[i].Close()
	}
	for i, c := range clients {
		first, last := i*16384/clusterMasters, (i+1)*16384/clusterMasters-1
		if err := c.Do(ctx, "CLUSTER", "ADDSLOTSRANGE", first, last).Err(); err != nil {
			return nil, fmt.Errorf("testservices: cluster: ADDSLOTSRANGE on %s: %w", addrs[i], err)
		}
		if i > 0 {
			err := clients[0].Do(ctx, "CLUSTER", "MEET", "127.0.0.1", ports[2*i], ports[2*i+1]).Err()
			if err != nil {
				return nil, fmt.Errorf("testservices: cluster: MEET %s: %w", addrs[i], err)
			}
		}
	}
	for i, c := range clients {
		for {
			info, err := c.ClusterInfo(ctx).Result()
			if err == nil && strings.Contains(info, "cluster_state:ok") &&
				strings.Contains(info, "cluster_known_nodes:"+strconv.Itoa(clusterMasters)) {
				break
			}
			if ctx.Err() != nil {
				return nil, fmt.Errorf("testservices: cluster: %s not ready within %v (%v): %s", addrs[i], clusterJoinTimeout, err, info)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	return addrs, nil
}

// stopCluster kills the cluster the tests started, if any, and removes its
// files.
func stopCluster() {
	for _, n := range testCluster.nodes {
		n.stop()
	}
	if testCluster.dir != "" {
		os.RemoveAll(testCluster.dir)
	}
}
