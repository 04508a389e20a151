package redis

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"

	goredis "github.com/redis/go-redis/v9"

	"github.com/oauthkit/oauthkit/store"
)

// The readiness counter. New and every Ping increment a counter that never
// expires, P ready (on a cluster, one per master, P ready:{n} with n
// chosen so that the key is on that master), and each Store remembers the
// last value it saw. A server that came back empty, or from an older
// snapshot, answers with a value not above it: the store has lost
// acknowledged writes (clients, revocations), and Ping says so
// (store.ErrReset) until the process restarts. A rollback to a snapshot
// taken after this process's last Ping goes unseen; health checks every
// few seconds make that window a few seconds.
type readiness struct {
	mu   sync.Mutex
	keys []string         // the counters
	last map[string]int64 // the last value seen of each
	lost error            // wraps store.ErrReset once a counter went back
}

// startReadiness chooses the counters and increments them.
func (s *Store) startReadiness(ctx context.Context) error {
	if s.connect > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, s.connect)
		defer cancel()
	}
	keys, err := s.readinessKeys(ctx)
	if err != nil {
		return fmt.Errorf("redis: readiness counter: %w", isDone(ctx, err))
	}
	s.ready.keys, s.ready.last = keys, make(map[string]int64, len(keys))
	if err := s.bumpReadiness(ctx); err != nil {
		return fmt.Errorf("redis: readiness counter: %w", isDone(ctx, err))
	}
	return nil
}

// readinessKeys is P ready on one server (or under a prefix with a hash
// tag of its own, which keeps every key on one node); on a cluster, one
// P ready:{n} on each master (each shard, by CLUSTER SHARDS), n the
// smallest that CLUSTER KEYSLOT puts in one of its slots.
func (s *Store) readinessKeys(ctx context.Context) ([]string, error) {
	base := s.prefix + "ready"
	if s.cluster == nil || strings.Contains(s.prefix, "{") {
		return []string{base}, nil
	}
	shards, err := s.cluster.ClusterShards(ctx).Result()
	if err != nil {
		return nil, err
	}
	masters := map[int]string{} // shard → counter key
	for i, sh := range shards {
		if len(sh.Slots) > 0 {
			masters[i] = ""
		}
	}
	owner := func(slot int64) int {
		for i, sh := range shards {
			for _, r := range sh.Slots {
				if r.Start <= slot && slot <= r.End {
					return i
				}
			}
		}
		return -1
	}
	const batch = 64
	found := 0
	for n := 0; found < len(masters); n += batch {
		if n >= 64*batch {
			return nil, fmt.Errorf("no key found on each of the %d masters", len(masters))
		}
		cmds := make([]*goredis.IntCmd, batch)
		_, err := s.cluster.Pipelined(ctx, func(p goredis.Pipeliner) error {
			for i := range cmds {
				cmds[i] = p.ClusterKeySlot(ctx, base+":{"+strconv.Itoa(n+i)+"}")
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		for i, c := range cmds {
			if m := owner(c.Val()); m >= 0 && masters[m] == "" {
				masters[m] = base + ":{" + strconv.Itoa(n+i) + "}"
				found++
			}
		}
	}
	keys := make([]string, 0, len(masters))
	for _, k := range masters {
		keys = append(keys, k)
	}
	return keys, nil
}

// bumpReadiness increments every counter in one pipeline and compares each
// with the last value seen.
func (s *Store) bumpReadiness(ctx context.Context) error {
	cmds := make([]*goredis.IntCmd, len(s.ready.keys))
	_, err := s.rdb.Pipelined(ctx, func(p goredis.Pipeliner) error {
		for i, k := range s.ready.keys {
			cmds[i] = p.Incr(ctx, k)
		}
		return nil
	})
	if err != nil {
		return err
	}
	r := &s.ready
	r.mu.Lock()
	defer r.mu.Unlock()
	for i, k := range r.keys {
		n, last := cmds[i].Val(), r.last[k]
		if n <= last && r.lost == nil {
			r.lost = fmt.Errorf("redis: %w: the readiness counter %s counted %d, not above the %d it had reached (the server restarted empty, or from an older copy): clients may be gone and revoked tokens valid again; restart the service once it is checked", store.ErrReset, k, n, last)
		}
		r.last[k] = max(n, last)
	}
	return r.lost
}
