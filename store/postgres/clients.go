package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/oauthkit/oauthkit/store"
)

// Client returns the client with the given ID, or store.ErrNotFound.
func (s *Store) Client(ctx context.Context, id string) (*store.Client, error) {
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
func (s *Store) Clients(ctx context.Context) ([]*store.Client, error) {
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

// CreateClient stores c, or returns store.ErrExists.
func (s *Store) CreateClient(ctx context.Context, c *store.Client) error {
	var secret []byte // NULL for a public client
	if !c.SecretHash.IsZero() {
		secret = c.SecretHash[:]
	}
	tag, err := s.pool.Exec(ctx, s.q.createClient, c.ID, secret, c.Name, list(c.RedirectURIs),
		list(c.GrantTypes), list(c.Scopes), c.AuthMethod, c.FirstParty, c.CreatedAt)
	if err != nil {
		return fmt.Errorf("postgres: create client: %w", isDone(ctx, err))
	}
	if tag.RowsAffected() == 0 {
		return store.ErrExists
	}
	return nil
}

// DeleteClient removes the client with the given ID, if any. Tokens already
// issued to it stay until they expire or are revoked: [Store.RevokeClient],
// called next, revokes them all.
func (s *Store) DeleteClient(ctx context.Context, id string) error {
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
			c      store.Client
			secret []byte
		)
		if err := rows.Scan(&c.ID, &secret, &c.Name, &c.RedirectURIs, &c.GrantTypes, &c.Scopes,
			&c.AuthMethod, &c.FirstParty, &c.CreatedAt); err != nil {
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
