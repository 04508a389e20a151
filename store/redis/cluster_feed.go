package redis

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/oauthkit/oauthkit/internal/changewire"
	"github.com/oauthkit/oauthkit/store"
)

// The change feed on Redis Cluster. A revocation script runs on the master
// of its keys' slot and PUBLISHes from within, so that master delivers the
// change to its own subscribers atomically with it and in the order it ran
// its scripts; the cluster bus forwards it to the other nodes, with no
// order between nodes. So Subscribe holds one subscription on every
// master, and passes a mark on only once it has come back through all of
// them: a mark published after a change was committed on master M reaches
// M's subscribers after the change, so a mark back through every master
// has followed every change committed before it was published, wherever.
// Each change comes once through each master, forwarded or not: Subscribe
// passes the first copy of each on (copyTally), so that a subscriber (the
// validation cache, which declines to cache a lookup that a change
// overlapped) is not held up by the others. A change of the cluster's masters
// (a failover, a master added or removed; CLUSTER SHARDS, Redis 7) ends the
// subscription within topologyCheck, and the subscriber subscribes again
// to the new set.

// topologyCheck is how often a cluster subscription compares the masters
// it holds with the cluster's.
const topologyCheck = time.Second

// errTopology ends a cluster subscription whose masters changed.
var errTopology = errors.New("the cluster's masters changed")

// pendingMarks bounds the marks a cluster subscription tallies that have
// not come back through every master yet.
const pendingMarks = 64

// nodeEvent is what one master's subscription received.
type nodeEvent struct {
	node int
	msg  any
	err  error
}

// subscribeCluster is Subscribe on a cluster.
func (s *Store) subscribeCluster(ctx context.Context, fn func(store.Change)) error {
	parent := ctx
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	held, err := s.clusterMasters(ctx)
	if err != nil {
		return fmt.Errorf("redis: change feed: %w", isDone(parent, err))
	}
	nodes, err := s.masters(ctx)
	if err == nil && len(nodes) != len(held) {
		// go-redis's view of the cluster is behind: ask it to reload, and
		// let the subscriber try again.
		s.cluster.ReloadState(ctx)
		err = fmt.Errorf("%w: the client knows %d masters, the cluster has %d", errTopology, len(nodes), len(held))
	}
	if err != nil {
		return fmt.Errorf("redis: change feed: %w", isDone(parent, err))
	}
	channel := s.ChangeChannel()
	events := make(chan nodeEvent)
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel(nil) // before wg.Wait: stops the receivers
	for i, c := range nodes {
		ps := c.Subscribe(ctx)
		// A blocked Receive does not watch ctx: closing the connection ends it.
		stop := context.AfterFunc(ctx, func() { _ = ps.Close() })
		wg.Go(func() {
			defer stop()
			defer ps.Close()
			if err := ps.Subscribe(ctx, channel); err != nil {
				cancel(err)
				return
			}
			for {
				msg, err := ps.Receive(ctx)
				select {
				case events <- nodeEvent{i, msg, err}:
				case <-ctx.Done():
					return
				}
				if err != nil {
					return
				}
			}
		})
	}
	wg.Go(func() { s.watchMasters(ctx, held, cancel) })

	confirmed, tally, copies := make([]bool, len(nodes)), newMarkTally(len(nodes)), newCopyTally(len(nodes))
	serving := false
	for {
		var ev nodeEvent
		select {
		case ev = <-events:
		case <-ctx.Done():
			if err := parent.Err(); err != nil {
				return err
			}
			return fmt.Errorf("redis: change feed: %w", context.Cause(ctx))
		}
		if ev.err != nil {
			return fmt.Errorf("redis: change feed: %s: %w", nodes[ev.node].Options().Addr, isDone(parent, ev.err))
		}
		switch m := ev.msg.(type) {
		case *goredis.Subscription:
			if m.Kind == "subscribe" && m.Channel == channel && !confirmed[ev.node] {
				confirmed[ev.node] = true
				if !serving && !slices.Contains(confirmed, false) {
					serving = true
					fn(store.Change{Kind: store.ChangeReset})
				}
			}
		case *goredis.Message:
			if m.Channel != channel || !serving {
				continue // before the first reset, which covers it
			}
			c, err := changewire.Decode(m.Payload)
			switch {
			case err != nil:
				fn(store.Change{Kind: store.ChangeReset})
			case c.Kind == store.ChangeMark:
				if tally.back(c.Mark, ev.node) {
					fn(c)
				}
			case copies.first(m.Payload, ev.node):
				fn(c)
			}
		}
	}
}

// masters returns a client of each master of the cluster, ordered by
// address.
func (s *Store) masters(ctx context.Context) ([]*goredis.Client, error) {
	var (
		mu    sync.Mutex
		nodes []*goredis.Client
	)
	err := s.cluster.ForEachMaster(ctx, func(_ context.Context, c *goredis.Client) error {
		mu.Lock()
		nodes = append(nodes, c)
		mu.Unlock()
		return nil
	})
	if err == nil && len(nodes) == 0 {
		err = errors.New("the cluster has no master")
	}
	slices.SortFunc(nodes, func(a, b *goredis.Client) int {
		return strings.Compare(a.Options().Addr, b.Options().Addr)
	})
	return nodes, err
}

// clusterMasters returns the IDs of the cluster's masters that serve
// slots, from CLUSTER SHARDS, sorted.
func (s *Store) clusterMasters(ctx context.Context) ([]string, error) {
	shards, err := s.cluster.ClusterShards(ctx).Result()
	if err != nil {
		return nil, err
	}
	var ids []string
	for _, sh := range shards {
		if len(sh.Slots) == 0 {
			continue
		}
		for _, n := range sh.Nodes {
			if n.Role == "master" {
				ids = append(ids, n.ID)
			}
		}
	}
	slices.Sort(ids)
	return ids, nil
}

// watchMasters ends the subscription (cancel) when the cluster's masters
// (CLUSTER SHARDS, every topologyCheck) are no longer held, those the
// subscription started with. A failed check ends it too: the
// subscription cannot vouch for a cluster it cannot see.
func (s *Store) watchMasters(ctx context.Context, held []string, cancel context.CancelCauseFunc) {
	t := time.NewTicker(topologyCheck)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		cctx, done := context.WithTimeout(ctx, topologyCheck)
		now, err := s.clusterMasters(cctx)
		done()
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			cancel(fmt.Errorf("checking the cluster's masters: %w", err))
			return
		}
		if !slices.Equal(now, held) {
			cancel(fmt.Errorf("%w (from %v to %v)", errTopology, held, now))
			return
		}
	}
}

// markTally counts, for the marks received recently, the masters they came
// back through.
type markTally struct {
	nodes int
	seen  map[uint64][]bool
	order []uint64 // oldest first, for eviction
}

func newMarkTally(nodes int) *markTally {
	return &markTally{nodes: nodes, seen: make(map[uint64][]bool)}
}

// back records mark m received through master node, and reports whether
// it has now come back through every master (once).
func (t *markTally) back(m uint64, node int) bool {
	if t.nodes == 1 {
		return true
	}
	got, ok := t.seen[m]
	if !ok {
		if len(t.order) == pendingMarks {
			delete(t.seen, t.order[0])
			t.order = t.order[1:]
		}
		got = make([]bool, t.nodes)
		t.seen[m] = got
		t.order = append(t.order, m)
	}
	got[node] = true
	if slices.Contains(got, false) {
		return false
	}
	delete(t.seen, m)
	t.order = slices.DeleteFunc(t.order, func(x uint64) bool { return x == m })
	return true
}

// pendingCopies bounds the changes a cluster subscription remembers, to
// know their other copies.
const pendingCopies = 4096

// copyTally tells the first copy of each change received through the
// masters' subscriptions from the others. A payload is always published
// by the master of one slot (t:<hash> by the token's, and so on), and each
// master delivers what one master published in the order it was
// published, so the k-th copy of a payload through any master is a copy of
// its k-th publication: a copy is passed on when it is the first through
// its master to outnumber those passed on. Forgetting a payload (beyond
// pendingCopies) can only pass a copy on again, which a subscriber
// tolerates.
type copyTally struct {
	nodes int
	seen  map[string]*copiesOf
	order []string // oldest first, for eviction
}

type copiesOf struct {
	through []int // copies received through each master
	passed  int   // copies passed on
}

func newCopyTally(nodes int) *copyTally {
	return &copyTally{nodes: nodes, seen: make(map[string]*copiesOf)}
}

// first records a copy of payload p received through master node, and
// reports whether to pass it on.
func (t *copyTally) first(p string, node int) bool {
	if t.nodes == 1 {
		return true
	}
	c, ok := t.seen[p]
	if !ok {
		if len(t.order) == pendingCopies {
			delete(t.seen, t.order[0])
			t.order = t.order[1:]
		}
		c = &copiesOf{through: make([]int, t.nodes)}
		t.seen[p] = c
		t.order = append(t.order, p)
	}
	c.through[node]++
	if c.through[node] > c.passed {
		c.passed++
		return true
	}
	return false
}
