package redis_test

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/oauthkit/oauthkit/internal/sharedtest"
	"github.com/oauthkit/oauthkit/internal/tcpproxy"
	"github.com/oauthkit/oauthkit/internal/testservices"
	"github.com/oauthkit/oauthkit/store"
	"github.com/oauthkit/oauthkit/store/redis"
	"github.com/oauthkit/oauthkit/store/storetest"
)

// clusterClient connects to the test cluster (testservices.RedisCluster),
// or skips; name, if set, names its connections in CLIENT LIST, and dial,
// if set, dials them.
func clusterClient(t testing.TB, name string, dial func(ctx context.Context, network, addr string) (net.Conn, error)) *goredis.ClusterClient {
	rdb := goredis.NewClusterClient(&goredis.ClusterOptions{Addrs: testservices.RedisCluster(t), ClientName: name, Dialer: dial})
	t.Cleanup(func() { rdb.Close() })
	return rdb
}

// clusterKeys returns every key under prefix, from every master.
func clusterKeys(ctx context.Context, rdb *goredis.ClusterClient, prefix string) ([]string, error) {
	var (
		mu  sync.Mutex
		all []string
	)
	err := rdb.ForEachMaster(ctx, func(ctx context.Context, c *goredis.Client) error {
		keys, err := c.Keys(ctx, prefix+"*").Result()
		mu.Lock()
		all = append(all, keys...)
		mu.Unlock()
		return err
	})
	slices.Sort(all)
	return all, err
}

// newClusterPrefix returns a fresh key prefix whose keys are deleted from
// every master when the test ends.
func newClusterPrefix(t testing.TB, rdb *goredis.ClusterClient) string {
	prefix := "oauthkit-test-" + rand.Text()[:10] + ":"
	t.Cleanup(func() {
		ctx := context.WithoutCancel(t.Context())
		keys, err := clusterKeys(ctx, rdb, prefix)
		if err == nil && len(keys) > 0 {
			_, err = rdb.Pipelined(ctx, func(p goredis.Pipeliner) error {
				for _, k := range keys {
					p.Del(ctx, k) // one by one: the keys are in many slots
				}
				return nil
			})
		}
		if err != nil {
			t.Errorf("delete test keys: %v", err)
		}
	})
	return prefix
}

// clusterDumpable lets the suite see every key under the store's prefix.
type clusterDumpable struct {
	*redis.Store
	rdb    *goredis.ClusterClient
	prefix string
}

// Dump returns every key under the prefix with its value.
func (d clusterDumpable) Dump(ctx context.Context) ([]byte, error) {
	keys, err := clusterKeys(ctx, d.rdb, d.prefix)
	if err != nil {
		return nil, err
	}
	var out []byte
	for _, k := range keys {
		var v any
		switch d.rdb.Type(ctx, k).Val() {
		case "hash":
			v, err = d.rdb.HGetAll(ctx, k).Result()
		case "zset":
			v, err = d.rdb.ZRangeWithScores(ctx, k, 0, -1).Result()
		case "set":
			v, err = d.rdb.SMembers(ctx, k).Result()
		default:
			v, err = d.rdb.Get(ctx, k).Result()
		}
		if err != nil && !errors.Is(err, goredis.Nil) {
			return nil, err
		}
		out = fmt.Appendf(out, "%s %v\n", k, v)
	}
	return out, nil
}

// newClusterStore opens a store on the test cluster under a fresh prefix.
func newClusterStore(t testing.TB, rdb *goredis.ClusterClient, opts ...redis.Option) (*redis.Store, string) {
	prefix := newClusterPrefix(t, rdb)
	s, err := redis.New(t.Context(), rdb, append([]redis.Option{redis.WithPrefix(prefix), quiet}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return s, prefix
}

// TestClusterConformance runs the suite against Redis Cluster.
func TestClusterConformance(t *testing.T) {
	rdb := clusterClient(t, "", nil)
	storetest.Run(t, func(t *testing.T) storetest.Store {
		s, prefix := newClusterStore(t, rdb)
		return clusterDumpable{s, rdb, prefix}
	})
}

func TestClusterObserver(t *testing.T) {
	rdb := clusterClient(t, "", nil)
	storetest.RunObserver(t, func(t *testing.T, obs store.Observer) storetest.Store {
		s, _ := newClusterStore(t, rdb, redis.WithObserver(obs))
		return s
	})
}

// slot is the cluster's slot of key.
func slot(t *testing.T, rdb *goredis.ClusterClient, key string) int64 {
	t.Helper()
	n, err := rdb.ClusterKeySlot(t.Context(), key).Result()
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestClusterKeyLayout: a family's two keys share a slot, while its tokens
// and its client's index are spread over the cluster (so the steps of
// CreateToken and RevokeFamily really cross nodes here).
func TestClusterKeyLayout(t *testing.T) {
	ctx := t.Context()
	rdb := clusterClient(t, "", nil)
	s, prefix := newClusterStore(t, rdb)
	fam := "f-" + rand.Text()
	slots := map[int64]bool{}
	for i := range 12 {
		tok := store.Token{Hash: store.HashSecret(fmt.Sprint("layout", i)), Kind: store.KindAccess, Family: fam, ClientID: "c", ExpiresAt: time.Now().Add(time.Hour)}
		if err := s.CreateToken(ctx, &tok); err != nil {
			t.Fatal(err)
		}
		slots[slot(t, rdb, tokenKey(prefix, tok.Hash))] = true
	}
	keys, err := clusterKeys(ctx, rdb, prefix)
	if err != nil {
		t.Fatal(err)
	}
	famKey, membersKey := prefix+"family:{"+fam+"}", prefix+"family-tokens:{"+fam+"}"
	if !slices.Contains(keys, famKey) || !slices.Contains(keys, membersKey) {
		t.Fatalf("no %s and %s among %v", famKey, membersKey, keys)
	}
	if a, b := slot(t, rdb, famKey), slot(t, rdb, membersKey); a != b {
		t.Errorf("the family's keys are in slots %d and %d", a, b)
	}
	slots[slot(t, rdb, famKey)] = true
	slots[slot(t, rdb, prefix+"client-tokens:c")] = true
	if len(slots) < 8 {
		t.Errorf("12 tokens, their family and their client in %d slots, want them spread", len(slots))
	}
	if err := s.RevokeFamily(ctx, fam); err != nil {
		t.Fatal(err)
	}
	for i := range 12 {
		if _, err := s.Token(ctx, store.HashSecret(fmt.Sprint("layout", i))); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("token %d after RevokeFamily: %v", i, err)
		}
	}
}

func tokenKey(prefix string, h store.Hash) string {
	return prefix + "token:" + fmt.Sprintf("%x", h[:])
}

// TestClusterInterleaving runs RevokeFamily and RevokeClient, whole,
// between the two steps of a CreateToken on the cluster (the token stored,
// not yet in its family's and client's indexes): the token must not
// survive the revocation that was acknowledged before CreateToken
// returned. A CreateToken that joined the family first and stored the
// token second would leave it live here.
func TestClusterInterleaving(t *testing.T) {
	ctx := t.Context()
	rdb := clusterClient(t, "", nil)
	s, _ := newClusterStore(t, rdb)
	t.Run("family", func(t *testing.T) {
		fam := "f-" + rand.Text()
		first := store.Token{Hash: store.HashSecret("first-" + fam), Kind: store.KindRefresh, Family: fam, ClientID: "c", ExpiresAt: time.Now().Add(time.Hour)}
		if err := s.CreateToken(ctx, &first); err != nil {
			t.Fatal(err)
		}
		redis.SetBetween(s, func() {
			redis.SetBetween(s, nil)
			if err := s.RevokeFamily(ctx, fam); err != nil {
				t.Error(err)
			}
		})
		late := store.Token{Hash: store.HashSecret("late-" + fam), Kind: store.KindAccess, Family: fam, ClientID: "c", ExpiresAt: time.Now().Add(time.Hour)}
		if err := s.CreateToken(ctx, &late); !errors.Is(err, store.ErrRevoked) {
			t.Errorf("CreateToken across RevokeFamily: %v, want ErrRevoked", err)
		}
		for _, h := range []store.Hash{first.Hash, late.Hash} {
			if _, err := s.Token(ctx, h); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("a token survived RevokeFamily: %v", err)
			}
		}
	})
	t.Run("client", func(t *testing.T) {
		// The contract lets a token created during RevokeClient escape;
		// the store's order makes it the next RevokeClient's.
		client := "c-" + rand.Text()
		redis.SetBetween(s, func() {
			redis.SetBetween(s, nil)
			if err := s.RevokeClient(ctx, client); err != nil {
				t.Error(err)
			}
		})
		tok := store.Token{Hash: store.HashSecret("client-" + client), Kind: store.KindAccess, ClientID: client, ExpiresAt: time.Now().Add(time.Hour)}
		if err := s.CreateToken(ctx, &tok); err != nil {
			t.Fatal(err)
		}
		if err := s.RevokeClient(ctx, client); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Token(ctx, tok.Hash); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("a token survived the second RevokeClient: %v", err)
		}
	})
}

// TestClusterRevokeRaces races CreateToken against RevokeFamily on many
// families at once, on the cluster: every token whose CreateToken returned
// nil is gone once both are done.
func TestClusterRevokeRaces(t *testing.T) {
	ctx := t.Context()
	rdb := clusterClient(t, "", nil)
	s, _ := newClusterStore(t, rdb)
	const families, perFamily = 20, 10
	type made struct {
		tok store.Token
		err error
	}
	results := make([][]made, families)
	var wg sync.WaitGroup
	for f := range families {
		fam := fmt.Sprintf("race-%d-%s", f, rand.Text()[:6])
		first := store.Token{Hash: store.HashSecret(fam), Kind: store.KindRefresh, Family: fam, ClientID: "c", ExpiresAt: time.Now().Add(time.Hour)}
		if err := s.CreateToken(ctx, &first); err != nil { // the family exists: RevokeFamily has something to revoke
			t.Fatal(err)
		}
		results[f] = make([]made, perFamily)
		for i := range perFamily {
			results[f][i].tok = store.Token{Hash: store.HashSecret(fam + strconv.Itoa(i)), Kind: store.KindAccess, Family: fam, ClientID: "c", ExpiresAt: time.Now().Add(time.Hour)}
			wg.Go(func() { results[f][i].err = s.CreateToken(ctx, &results[f][i].tok) })
			if i == perFamily/3 {
				wg.Go(func() {
					if err := s.RevokeFamily(ctx, fam); err != nil {
						t.Error(err)
					}
				})
			}
		}
	}
	wg.Wait()
	created := 0
	for f := range results {
		for _, m := range results[f] {
			switch {
			case m.err == nil:
				created++
			case !errors.Is(m.err, store.ErrRevoked):
				t.Errorf("CreateToken: %v", m.err)
			}
			if _, err := s.Token(ctx, m.tok.Hash); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("a token of a revoked family survived (CreateToken: %v): %v", m.err, err)
			}
		}
	}
	t.Logf("%d of %d tokens created before their family's revocation", created, families*perFamily)
}

// TestClusterRefusals: New refuses a client that reads from replicas, a
// Ring, and a prefix whose '{' would split a family's keys.
func TestClusterRefusals(t *testing.T) {
	addrs := testservices.RedisCluster(t)
	ro := goredis.NewClusterClient(&goredis.ClusterOptions{Addrs: addrs, ReadOnly: true})
	defer ro.Close()
	if _, err := redis.New(t.Context(), ro); err == nil || !strings.Contains(err.Error(), "replicas") {
		t.Errorf("ReadOnly: %v", err)
	}
	ring := goredis.NewRing(&goredis.RingOptions{Addrs: map[string]string{"a": addrs[0]}})
	defer ring.Close()
	if _, err := redis.New(t.Context(), ring); err == nil || !strings.Contains(err.Error(), "Ring") {
		t.Errorf("Ring: %v", err)
	}
	rdb := clusterClient(t, "", nil)
	for _, p := range []string{"a{b:", "{}:", "x}{:"} {
		if _, err := redis.New(t.Context(), rdb, redis.WithPrefix(p)); err == nil || !strings.Contains(err.Error(), "hash tag") {
			t.Errorf("prefix %q: %v", p, err)
		}
	}
	// A prefix with a whole hash tag puts everything in one slot: fine.
	prefix := "{" + rand.Text()[:8] + "}:"
	s, err := redis.New(t.Context(), rdb, redis.WithPrefix(prefix), quiet)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		keys, _ := clusterKeys(context.WithoutCancel(t.Context()), rdb, prefix)
		for _, k := range keys {
			rdb.Del(context.WithoutCancel(t.Context()), k)
		}
	})
	tok := store.Token{Hash: store.HashSecret("one-slot"), Kind: store.KindAccess, Family: "f", ClientID: "c", ExpiresAt: time.Now().Add(time.Hour)}
	if err := s.CreateToken(t.Context(), &tok); err != nil {
		t.Fatal(err)
	}
	if err := s.RevokeFamily(t.Context(), "f"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Token(t.Context(), tok.Hash); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("after RevokeFamily: %v", err)
	}
}

// TestClusterOpen connects through a redis+cluster:// URL, as the
// example's -store flag does, naming one node or all of them; malformed
// URLs fail without quoting a password.
func TestClusterOpen(t *testing.T) {
	addrs := testservices.RedisCluster(t)
	rdb := clusterClient(t, "", nil)
	for _, u := range []string{
		"redis+cluster://" + addrs[0],
		"redis+cluster://" + strings.Join(addrs, ",") + "/?dial_timeout=2s",
	} {
		s, err := redis.Open(t.Context(), u, redis.WithPrefix(newClusterPrefix(t, rdb)), quiet)
		if err != nil {
			t.Fatalf("%s: %v", u, err)
		}
		if _, err := s.Client(t.Context(), "none"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("%s: Client = %v, want ErrNotFound", u, err)
		}
		s.Close()
	}
	for _, u := range []string{
		"redis+cluster://:hunter2@" + addrs[0] + "/3",
		"redis+cluster://:hunter2@" + addrs[0] + ",/",
		"redis+cluster://:hunter2@" + addrs[0] + "/?nonsense=1",
		"redis+cluster://:hunter2@/",
	} {
		s, err := redis.Open(t.Context(), u)
		if err == nil {
			s.Close()
			t.Errorf("%s: opened", u)
			continue
		}
		if msg := err.Error(); !strings.HasPrefix(msg, "redis: ") || strings.Contains(msg, "hunter2") {
			t.Errorf("%s: %q", u, msg)
		}
	}
}

// clusterInstance opens a store under prefix with a cluster client of its
// own, as another service instance would, named name in CLIENT LIST.
func clusterInstance(t *testing.T, prefix, name string, dial func(ctx context.Context, network, addr string) (net.Conn, error)) *redis.Store {
	t.Helper()
	s, err := redis.New(t.Context(), clusterClient(t, name, dial), redis.WithPrefix(prefix), quiet)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// The two-instance tests, on the cluster.

func TestClusterSharedThrottle(t *testing.T) {
	prefix := newClusterPrefix(t, clusterClient(t, "", nil))
	sharedtest.Throttle(t, clusterInstance(t, prefix, "", nil), clusterInstance(t, prefix, "", nil))
}

func TestClusterSharedAssertionReplay(t *testing.T) {
	prefix := newClusterPrefix(t, clusterClient(t, "", nil))
	sharedtest.AssertionReplay(t, clusterInstance(t, prefix, "", nil), clusterInstance(t, prefix, "", nil))
}

func TestClusterSharedDevices(t *testing.T) {
	prefix := newClusterPrefix(t, clusterClient(t, "", nil))
	sharedtest.Devices(t, clusterInstance(t, prefix, "", nil), clusterInstance(t, prefix, "", nil))
}

// TestClusterSharedCachePropagation: a revocation on one instance reaches
// the validation cache of another through every master's pub/sub within
// the bound.
func TestClusterSharedCachePropagation(t *testing.T) {
	prefix := newClusterPrefix(t, clusterClient(t, "", nil))
	sharedtest.CachePropagation(t, clusterInstance(t, prefix, "oauthkit-a", nil), clusterInstance(t, prefix, "oauthkit-b", nil))
}

// clusterSubscriber returns the id and client port of the pub/sub
// connection of the client named name on the master at addr.
func clusterSubscriber(t *testing.T, addr, name string) (id string, port int) {
	t.Helper()
	node := goredis.NewClient(&goredis.Options{Addr: addr})
	defer node.Close()
	return subscriber(t, node, name)
}

// TestClusterSharedCacheSubscriberKilled: one master ends b's pub/sub
// connection to it (CLIENT KILL) mid-test.
func TestClusterSharedCacheSubscriberKilled(t *testing.T) {
	addrs := testservices.RedisCluster(t)
	prefix := newClusterPrefix(t, clusterClient(t, "", nil))
	name := "oauthkit-b-" + rand.Text()[:8]
	sharedtest.CacheFeedCut(t, clusterInstance(t, prefix, "oauthkit-a", nil), clusterInstance(t, prefix, name, nil), func(t *testing.T) {
		id, _ := clusterSubscriber(t, addrs[1], name)
		node := goredis.NewClient(&goredis.Options{Addr: addrs[1]})
		defer node.Close()
		if err := node.Do(t.Context(), "CLIENT", "KILL", "ID", id).Err(); err != nil {
			t.Fatalf("CLIENT KILL: %v", err)
		}
	})
}

// viaProxy returns a dialer that sends the connections to the master at
// addr through a proxy of the test's own, and the proxy.
func viaProxy(t *testing.T, addr string) (func(ctx context.Context, network, a string) (net.Conn, error), *tcpproxy.Proxy) {
	proxy, err := tcpproxy.Start(addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { proxy.Close() })
	var d net.Dialer
	return func(ctx context.Context, network, a string) (net.Conn, error) {
		if a == addr {
			a = proxy.Addr()
		}
		return d.DialContext(ctx, network, a)
	}, proxy
}

// TestClusterSharedCacheSubscriberSilenced: b's pub/sub connection to one
// master goes silent mid-test (a proxy drops everything on it and closes
// nothing), while its other connections, and its subscriptions to the
// other masters, still work. The changes of that master still reach b
// through the others, forwarded by the cluster bus, but with no order with
// respect to b's marks: b must stop trusting its cache.
func TestClusterSharedCacheSubscriberSilenced(t *testing.T) {
	addrs := testservices.RedisCluster(t)
	prefix := newClusterPrefix(t, clusterClient(t, "", nil))
	dial, proxy := viaProxy(t, addrs[2])
	name := "oauthkit-b-" + rand.Text()[:8]
	sharedtest.CacheFeedCut(t, clusterInstance(t, prefix, "oauthkit-a", nil), clusterInstance(t, prefix, name, dial), func(t *testing.T) {
		if _, port := clusterSubscriber(t, addrs[2], name); !proxy.Blackhole(port) {
			t.Fatalf("no proxied connection on port %d", port)
		}
	})
}

// TestClusterMarkNeedsEveryMaster: with its subscription to one master
// silenced, Subscribe passes on no mark, though each still comes through
// the other masters; before, every mark came back.
func TestClusterMarkNeedsEveryMaster(t *testing.T) {
	addrs := testservices.RedisCluster(t)
	prefix := newClusterPrefix(t, clusterClient(t, "", nil))
	dial, proxy := viaProxy(t, addrs[0])
	name := "oauthkit-marks-" + rand.Text()[:8]
	s := clusterInstance(t, prefix, name, dial)
	marks := make(chan uint64, 16)
	ready := make(chan struct{}, 1)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() {
		done <- s.Subscribe(ctx, func(c store.Change) {
			switch c.Kind {
			case store.ChangeReset:
				select {
				case ready <- struct{}{}:
				default:
				}
			case store.ChangeMark:
				marks <- c.Mark
			}
		})
	}()
	defer func() { cancel(); <-done }()
	select {
	case <-ready:
	case <-time.After(10 * time.Second):
		t.Fatal("no subscription within 10s")
	}
	came := func(m uint64, within time.Duration) bool {
		if err := s.Mark(t.Context(), m); err != nil {
			t.Fatal(err)
		}
		timeout := time.After(within)
		for {
			select {
			case got := <-marks:
				if got == m {
					return true
				}
			case <-timeout:
				return false
			}
		}
	}
	if !came(1, 5*time.Second) {
		t.Fatal("a mark did not come back through a working subscription")
	}
	if _, port := clusterSubscriber(t, addrs[0], name); !proxy.Blackhole(port) {
		t.Fatalf("no proxied connection on port %d", port)
	}
	if came(2, 500*time.Millisecond) {
		t.Error("a mark came back though one master's subscription is silent")
	}
}

// TestClusterSharedCacheClose: closing a Provider stops its cache's
// subscriptions (one per master) and heartbeat goroutines.
func TestClusterSharedCacheClose(t *testing.T) {
	prefix := newClusterPrefix(t, clusterClient(t, "", nil))
	sharedtest.CacheClose(t, clusterInstance(t, prefix, "oauthkit-close", nil))
}

// TestClusterReadiness: the readiness counters are one per master, and a
// master that loses its counter (as one restarted empty would) makes Ping
// report store.ErrReset.
func TestClusterReadiness(t *testing.T) {
	ctx := t.Context()
	rdb := clusterClient(t, "", nil)
	s, prefix := newClusterStore(t, rdb)
	keys, err := clusterKeys(ctx, rdb, prefix+"ready")
	if err != nil {
		t.Fatal(err)
	}
	masters := map[string]bool{}
	for _, k := range keys {
		m, err := rdb.MasterForKey(ctx, k)
		if err != nil {
			t.Fatal(err)
		}
		masters[m.Options().Addr] = true
	}
	if n := len(testservices.RedisCluster(t)); len(keys) != n || len(masters) != n {
		t.Fatalf("readiness counters %v on %d masters, want one on each of %d", keys, len(masters), n)
	}
	if err := s.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	if err := rdb.Del(ctx, keys[1]).Err(); err != nil {
		t.Fatal(err)
	}
	if err := s.Ping(ctx); !errors.Is(err, store.ErrReset) {
		t.Errorf("Ping with a master's counter gone: %v, want store.ErrReset", err)
	}
}

// TestClusterExchangeGivesBack: on the cluster an Exchange consumes the
// code, then stores the new tokens; when storing fails (here the family
// revoked between the two, by the test's hook) the code is given back,
// live and unconsumed, unless someone saw it consumed meanwhile (a
// ConsumeToken in the same gap): then it stays consumed, as that caller
// acted on it.
func TestClusterExchangeGivesBack(t *testing.T) {
	ctx := t.Context()
	rdb := clusterClient(t, "", nil)
	s, _ := newClusterStore(t, rdb)
	for _, seen := range []bool{false, true} {
		t.Run(fmt.Sprintf("seen=%v", seen), func(t *testing.T) {
			fam, other := "f-"+rand.Text(), "g-"+rand.Text()
			code := store.Token{Hash: store.HashSecret("code-" + fam), Kind: store.KindCode, Family: fam, ClientID: "c", ExpiresAt: time.Now().Add(time.Minute)}
			mark := store.Token{Hash: store.HashSecret("mark-" + other), Kind: store.KindAccess, Family: other, ClientID: "c", ExpiresAt: time.Now().Add(time.Hour)}
			for _, tok := range []*store.Token{&code, &mark} {
				if err := s.CreateToken(ctx, tok); err != nil {
					t.Fatal(err)
				}
			}
			redis.SetBetween(s, func() {
				redis.SetBetween(s, nil)
				if seen {
					if _, err := s.ConsumeToken(ctx, code.Hash); !errors.Is(err, store.ErrConsumed) {
						t.Errorf("ConsumeToken during the exchange: %v, want ErrConsumed", err)
					}
				}
				if err := s.RevokeFamily(ctx, other); err != nil {
					t.Error(err)
				}
			})
			at := store.Token{Hash: store.HashSecret("at-" + fam), Kind: store.KindAccess, Family: other, ClientID: "c", ExpiresAt: time.Now().Add(time.Hour)}
			if _, err := s.Exchange(ctx, code.Hash, &at); !errors.Is(err, store.ErrRevoked) {
				t.Fatalf("Exchange into a family revoked meanwhile: %v, want ErrRevoked", err)
			}
			if _, err := s.Token(ctx, at.Hash); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("the new token of the failed exchange: %v, want ErrNotFound", err)
			}
			_, err := s.ConsumeToken(ctx, code.Hash)
			switch {
			case !seen && err != nil:
				t.Errorf("the code after the failed exchange: %v, want it given back", err)
			case seen && !errors.Is(err, store.ErrConsumed):
				t.Errorf("the code, seen consumed during the failed exchange: %v, want ErrConsumed", err)
			}
		})
	}
}
