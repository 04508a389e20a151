package memory

import (
	"context"
	"slices"
	"strings"
	"sync"

	"github.com/oauthkit/oauthkit/store"
)

type clientTable struct {
	mu      sync.RWMutex
	clients map[string]*store.Client
}

func (t *clientTable) init() { t.clients = make(map[string]*store.Client) }

// Client returns the client with the given ID, or store.ErrNotFound. The
// returned Client is shared: treat it as read-only.
func (t *clientTable) Client(ctx context.Context, id string) (*store.Client, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	t.mu.RLock()
	c, ok := t.clients[id]
	t.mu.RUnlock()
	if !ok {
		return nil, store.ErrNotFound
	}
	return c, nil
}

// CreateClient stores a copy of c, or returns store.ErrExists.
func (t *clientTable) CreateClient(ctx context.Context, c *store.Client) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	cp := *c
	cp.RedirectURIs = slices.Clone(c.RedirectURIs)
	cp.GrantTypes = slices.Clone(c.GrantTypes)
	cp.Scopes = slices.Clone(c.Scopes)
	t.mu.Lock()
	defer t.mu.Unlock()
	if _, ok := t.clients[c.ID]; ok {
		return store.ErrExists
	}
	t.clients[c.ID] = &cp
	return nil
}

// DeleteClient removes the client with the given ID, if any.
func (t *clientTable) DeleteClient(ctx context.Context, id string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	t.mu.Lock()
	delete(t.clients, id)
	t.mu.Unlock()
	return nil
}

// Clients returns every client, ordered by ID.
func (t *clientTable) Clients(ctx context.Context) ([]*store.Client, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	t.mu.RLock()
	out := make([]*store.Client, 0, len(t.clients))
	for _, c := range t.clients {
		out = append(out, c)
	}
	t.mu.RUnlock()
	slices.SortFunc(out, func(a, b *store.Client) int { return strings.Compare(a.ID, b.ID) })
	return out, nil
}
