package redis

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"

	goredis "github.com/redis/go-redis/v9"
)

// Durability says what New does about the server's persistence settings,
// which decide whether what the store acknowledged survives a restart of
// the server: a revocation, a rotated refresh token's use, a client
// registration. See WithDurability.
type Durability int

const (
	// WarnDurability, the default, reads the settings and logs a warning
	// (WithLogger) naming each one that does not keep acknowledged writes,
	// or saying that they could not be read (CONFIG refused, as on some
	// managed services).
	WarnDurability Durability = iota
	// RequireAOF makes New fail unless every server (every master, on a
	// cluster) has appendonly yes, appendfsync everysec or always, and no
	// eviction (maxmemory 0, or maxmemory-policy noeviction); and when the
	// settings cannot be read.
	RequireAOF
	// SkipDurabilityCheck reads nothing: for a service whose persistence
	// is known and CONFIG refused.
	SkipDurabilityCheck
)

// WithDurability sets what New does about the server's persistence
// settings (default WarnDurability). The store needs the append-only file
// (AOF) with appendfsync everysec (a machine's crash loses at most about a
// second of acknowledged writes; a crash of the redis-server process
// alone loses none) or always (none, at the cost of an fsync per write),
// and no eviction. RDB snapshots alone bring back, after a restart,
// whatever the snapshot held: revoked grants whose tokens work again,
// rotated refresh tokens that can be used again. Eviction deletes keys under
// memory pressure: family revocation marks, replay records, clients.
func WithDurability(d Durability) Option {
	return func(s *Store) { s.durability = d }
}

// checkDurability applies s.durability to the servers' settings.
func (s *Store) checkDurability(ctx context.Context) error {
	if s.durability == SkipDurabilityCheck {
		return nil
	}
	if s.connect > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, s.connect)
		defer cancel()
	}
	problems, err := s.persistence(ctx)
	switch {
	case err != nil && s.durability == RequireAOF:
		return fmt.Errorf("redis: RequireAOF: cannot read the server's persistence settings: %w", isDone(ctx, err))
	case err != nil:
		s.log.WarnContext(ctx, "redis: cannot read the server's persistence settings (CONFIG GET); the store needs appendonly yes with appendfsync everysec or always, and no eviction, or a restart of the server may bring back revoked tokens or lose clients (redis.WithDurability)", "err", err)
	case len(problems) > 0 && s.durability == RequireAOF:
		return fmt.Errorf("redis: RequireAOF: the server does not keep what the store acknowledges: %s", strings.Join(problems, "; "))
	case len(problems) > 0:
		s.log.WarnContext(ctx, "redis: the server does not keep what the store acknowledges: a restart may bring back revoked tokens and rotated refresh tokens, or lose clients (redis.WithDurability)", "problems", strings.Join(problems, "; "))
	}
	return nil
}

// persistence reads the persistence settings of the server, or of every
// master of a cluster, and returns what is wrong with them (on a cluster,
// each with the masters it concerns).
func (s *Store) persistence(ctx context.Context) ([]string, error) {
	if s.cluster == nil {
		return nodePersistence(ctx, s.rdb)
	}
	var (
		mu    sync.Mutex
		nodes = map[string][]string{} // problem → the masters that have it
	)
	err := s.cluster.ForEachMaster(ctx, func(ctx context.Context, c *goredis.Client) error {
		p, err := nodePersistence(ctx, c)
		mu.Lock()
		for _, problem := range p {
			nodes[problem] = append(nodes[problem], c.Options().Addr)
		}
		mu.Unlock()
		return err
	})
	var all []string
	for problem, addrs := range nodes {
		slices.Sort(addrs)
		all = append(all, strings.Join(addrs, ", ")+": "+problem)
	}
	slices.Sort(all)
	return all, err
}

// nodePersistence reads one server's settings.
func nodePersistence(ctx context.Context, c goredis.Cmdable) ([]string, error) {
	names := []string{"appendonly", "appendfsync", "maxmemory", "maxmemory-policy"}
	cmds := make([]*goredis.MapStringStringCmd, len(names))
	_, err := c.Pipelined(ctx, func(p goredis.Pipeliner) error {
		for i, n := range names {
			cmds[i] = p.ConfigGet(ctx, n)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	v := map[string]string{}
	for i, n := range names {
		got, ok := cmds[i].Val()[n]
		if !ok {
			return nil, fmt.Errorf("CONFIG GET %s: no such setting", n)
		}
		v[n] = got
	}
	var problems []string
	if v["appendonly"] != "yes" {
		problems = append(problems, "appendonly is "+v["appendonly"]+" (want yes: without the append-only file a restart keeps only the last RDB snapshot, if any)")
	} else if f := v["appendfsync"]; f != "everysec" && f != "always" {
		problems = append(problems, "appendfsync is "+f+" (want everysec or always)")
	}
	if v["maxmemory"] != "0" && v["maxmemory-policy"] != "noeviction" {
		problems = append(problems, "maxmemory-policy is "+v["maxmemory-policy"]+" (want noeviction: eviction deletes revocation marks, replay records and clients)")
	}
	return problems, nil
}
