package memory

import (
	"context"
	"fmt"
	"testing"

	"github.com/oauthkit/oauthkit/store"
	"github.com/oauthkit/oauthkit/store/storetest"
)

// dumpable lets the suite see everything the memory store keeps.
type dumpable struct{ *Store }

// Dump prints every stored client and token entry with all their fields.
func (d dumpable) Dump(ctx context.Context) ([]byte, error) {
	var out []byte
	d.clientTable.mu.RLock()
	for id, c := range d.clients {
		out = fmt.Appendf(out, "client %q %+v\n", id, *c)
	}
	d.clientTable.mu.RUnlock()
	for i := range d.shards {
		sh := &d.shards[i]
		sh.mu.RLock()
		for h, n := range sh.index {
			out = fmt.Appendf(out, "token %x %+v\n", h, sh.token(h, &sh.slots[n]))
		}
		for _, m := range sh.metas {
			out = fmt.Appendf(out, "meta %+v\n", m)
		}
		sh.mu.RUnlock()
	}
	return out, nil
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) storetest.Store { return dumpable{New()} })
}

func BenchmarkStore(b *testing.B) {
	storetest.Bench(b, New())
}

func TestObserver(t *testing.T) {
	storetest.RunObserver(t, func(t *testing.T, obs store.Observer) storetest.Store { return New(WithObserver(obs)) })
}
