package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/oauthkit/oauthkit/store"
)

// Client returns the client with the given ID, or store.ErrNotFound.
func (s *Store) Client(ctx context.Context, id string) (_ *store.Client, err error) {
	defer s.obs.Done(ctx, "Client", s.obs.Start(), &err)
	rows, err := s.pool.Query(ctx, s.q.client, id)
	if err != nil {
		return nil, fmt.Errorf("postgres: client: %w", isDone(ctx, err))
	}
	cs, err := scanClients(rows)
	if err != nil {
		return nil, fmt.Errorf("postgres: client: %w", isDone(ctx, err))
	}
	if len(cs) == 0 {
		return nil, store.ErrNotFound
	}
	return cs[0], nil
}

// Clients returns every registered client, ordered by ID.
func (s *Store) Clients(ctx context.Context) (_ []*store.Client, err error) {
	defer s.obs.Done(ctx, "Clients", s.obs.Start(), &err)
	rows, err := s.pool.Query(ctx, s.q.clients)
	if err != nil {
		return nil, fmt.Errorf("postgres: clients: %w", isDone(ctx, err))
	}
	cs, err := scanClients(rows)
	if err != nil {
		return nil, fmt.Errorf("postgres: clients: %w", isDone(ctx, err))
	}
	return cs, nil
}

// CreateClient stores c, or returns store.ErrExists. It refuses what
// c.Validate refuses.
func (s *Store) CreateClient(ctx context.Context, c *store.Client) (err error) {
	defer s.obs.Done(ctx, "CreateClient", s.obs.Start(), &err)
	args, err := clientArgs(c)
	if err != nil {
		return fmt.Errorf("postgres: create client: %w", err)
	}
	tag, err := s.pool.Exec(ctx, s.q.createClient, append(args, c.CreatedAt)...)
	if err != nil {
		return fmt.Errorf("postgres: create client: %w", isDone(ctx, err))
	}
	if tag.RowsAffected() == 0 {
		return store.ErrExists
	}
	return nil
}

// UpdateClient replaces the client with c.ID by c, keeping its created_at,
// or returns store.ErrNotFound. It refuses what c.Validate refuses.
func (s *Store) UpdateClient(ctx context.Context, c *store.Client) (err error) {
	defer s.obs.Done(ctx, "UpdateClient", s.obs.Start(), &err)
	args, err := clientArgs(c)
	if err != nil {
		return fmt.Errorf("postgres: update client: %w", err)
	}
	tag, err := s.pool.Exec(ctx, s.q.updateClient, args...)
	if err != nil {
		return fmt.Errorf("postgres: update client: %w", isDone(ctx, err))
	}
	if tag.RowsAffected() == 0 {
		return store.ErrNotFound
	}
	return nil
}

// clientArgs validates c and returns its values for $1 to $9 of
// createClient and updateClient: every column but created_at.
func clientArgs(c *store.Client) ([]any, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	md, err := c.MarshalMetadata()
	if err != nil {
		return nil, err
	}
	var secret []byte // NULL for a public client
	if !c.SecretHash.IsZero() {
		secret = c.SecretHash[:]
	}
	return []any{c.ID, secret, c.Name, list(c.RedirectURIs), list(c.GrantTypes), list(c.Scopes),
		c.AuthMethod, c.FirstParty, md}, nil
}

// DeleteClient removes the client with the given ID, if any. Tokens already
// issued to it stay until they expire or are revoked: [Store.RevokeClient],
// called next, revokes them all.
func (s *Store) DeleteClient(ctx context.Context, id string) (err error) {
	defer s.obs.Done(ctx, "DeleteClient", s.obs.Start(), &err)
	if _, err := s.pool.Exec(ctx, s.q.deleteClient, id); err != nil {
		return fmt.Errorf("postgres: delete client: %w", isDone(ctx, err))
	}
	return nil
}

func scanClients(rows pgx.Rows) ([]*store.Client, error) {
	defer rows.Close()
	var out []*store.Client
	for rows.Next() {
		var (
			c        store.Client
			secret   []byte
			metadata []byte
		)
		if err := rows.Scan(&c.ID, &secret, &c.Name, &c.RedirectURIs, &c.GrantTypes, &c.Scopes,
			&c.AuthMethod, &c.FirstParty, &c.CreatedAt, &metadata); err != nil {
			return nil, err
		}
		if err := c.UnmarshalMetadata(metadata); err != nil {
			return nil, err
		}
		if secret != nil && len(secret) != len(c.SecretHash) {
			return nil, errors.New("stored client secret hash has the wrong length")
		}
		copy(c.SecretHash[:], secret)
		out = append(out, &c)
	}
	return out, rows.Err()
}
