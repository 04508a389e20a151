package memory

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/oauthkit/oauthkit/store"
)

type clientTable struct {
	obs     store.Observer
	mu      sync.RWMutex
	clients map[string]*store.Client
}

func (t *clientTable) init() { t.clients = make(map[string]*store.Client) }

// Client returns the client with the given ID, or store.ErrNotFound. The
// returned Client is shared: treat it as read-only.
func (t *clientTable) Client(ctx context.Context, id string) (_ *store.Client, err error) {
	defer t.obs.Done(ctx, "Client", t.obs.Start(), &err)
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

// CreateClient stores a copy of c, or returns store.ErrExists. It refuses
// what c.Validate refuses.
func (t *clientTable) CreateClient(ctx context.Context, c *store.Client) (err error) {
	defer t.obs.Done(ctx, "CreateClient", t.obs.Start(), &err)
	if err := c.Validate(); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	cp, err := clone(c)
	if err != nil {
		return fmt.Errorf("memory: %w", err)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if _, ok := t.clients[c.ID]; ok {
		return store.ErrExists
	}
	t.clients[c.ID] = cp
	return nil
}

// UpdateClient replaces the client with c.ID by a copy of c, keeping its
// CreatedAt, or returns store.ErrNotFound. Readers holding the old Client
// keep it unchanged.
func (t *clientTable) UpdateClient(ctx context.Context, c *store.Client) (err error) {
	defer t.obs.Done(ctx, "UpdateClient", t.obs.Start(), &err)
	if err := c.Validate(); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	cp, err := clone(c)
	if err != nil {
		return fmt.Errorf("memory: %w", err)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	old, ok := t.clients[c.ID]
	if !ok {
		return store.ErrNotFound
	}
	cp.CreatedAt = old.CreatedAt
	t.clients[c.ID] = cp
	return nil
}

// clone copies c, so that the caller's changes to its slices never reach
// the store. The metadata fields are copied through
// [store.Client.MarshalMetadata], as the other backends store them, so
// that a field added later is copied too.
func clone(c *store.Client) (*store.Client, error) {
	md, err := c.MarshalMetadata()
	if err != nil {
		return nil, err
	}
	cp := *c
	if err := cp.UnmarshalMetadata(md); err != nil {
		return nil, err
	}
	cp.RedirectURIs = slices.Clone(c.RedirectURIs)
	cp.GrantTypes = slices.Clone(c.GrantTypes)
	cp.Scopes = slices.Clone(c.Scopes)
	return &cp, nil
}

// DeleteClient removes the client with the given ID, if any.
func (t *clientTable) DeleteClient(ctx context.Context, id string) (err error) {
	defer t.obs.Done(ctx, "DeleteClient", t.obs.Start(), &err)
	if err := ctx.Err(); err != nil {
		return err
	}
	t.mu.Lock()
	delete(t.clients, id)
	t.mu.Unlock()
	return nil
}

// Clients returns every client, ordered by ID.
func (t *clientTable) Clients(ctx context.Context) (_ []*store.Client, err error) {
	defer t.obs.Done(ctx, "Clients", t.obs.Start(), &err)
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
