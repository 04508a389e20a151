package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/oauthkit/oauthkit/store"
)

const clientCols = `id, secret_hash, name, redirect_uris, grant_types, scopes, auth_method, first_party, created_at, metadata`

// Client returns the client with the given ID, or store.ErrNotFound.
func (s *Store) Client(ctx context.Context, id string) (_ *store.Client, err error) {
	defer s.obs.Done(ctx, "Client", s.obs.Start(), &err)
	rows, err := s.db.QueryContext(ctx, `SELECT `+clientCols+` FROM oauthkit_clients WHERE id = ?`, id)
	if err != nil {
		return nil, fmt.Errorf("sqlite: client: %w", isDone(ctx, err))
	}
	cs, err := scanClients(rows)
	if err != nil {
		return nil, fmt.Errorf("sqlite: client: %w", isDone(ctx, err))
	}
	if len(cs) == 0 {
		return nil, store.ErrNotFound
	}
	return cs[0], nil
}

// Clients returns every registered client, ordered by ID.
func (s *Store) Clients(ctx context.Context) (_ []*store.Client, err error) {
	defer s.obs.Done(ctx, "Clients", s.obs.Start(), &err)
	rows, err := s.db.QueryContext(ctx, `SELECT `+clientCols+` FROM oauthkit_clients ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("sqlite: clients: %w", isDone(ctx, err))
	}
	cs, err := scanClients(rows)
	if err != nil {
		return nil, fmt.Errorf("sqlite: clients: %w", isDone(ctx, err))
	}
	return cs, nil
}

// CreateClient stores c, or returns store.ErrExists. It refuses what
// c.Validate refuses.
func (s *Store) CreateClient(ctx context.Context, c *store.Client) (err error) {
	defer s.obs.Done(ctx, "CreateClient", s.obs.Start(), &err)
	args, err := clientArgs(c)
	if err != nil {
		return fmt.Errorf("sqlite: create client: %w", err)
	}
	if err := s.lock(ctx); err != nil {
		return err
	}
	defer s.unlock()
	res, err := s.db.ExecContext(ctx, `INSERT INTO oauthkit_clients (`+clientCols+`)
		VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) ON CONFLICT (id) DO NOTHING`, args...)
	if err != nil {
		return fmt.Errorf("sqlite: create client: %w", isDone(ctx, err))
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
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
		return fmt.Errorf("sqlite: update client: %w", err)
	}
	if err := s.lock(ctx); err != nil {
		return err
	}
	defer s.unlock()
	res, err := s.db.ExecContext(ctx, `UPDATE oauthkit_clients SET secret_hash = ?2, name = ?3, redirect_uris = ?4,
		grant_types = ?5, scopes = ?6, auth_method = ?7, first_party = ?8, metadata = ?10 WHERE id = ?1`, args...)
	if err != nil {
		return fmt.Errorf("sqlite: update client: %w", isDone(ctx, err))
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return store.ErrNotFound
	}
	return nil
}

// clientArgs validates c and returns its clientCols values, in order.
func clientArgs(c *store.Client) ([]any, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	var lists [3]string
	for i, l := range [][]string{c.RedirectURIs, c.GrantTypes, c.Scopes} {
		var err error
		if lists[i], err = encodeList(l); err != nil {
			return nil, err
		}
	}
	md, err := c.MarshalMetadata()
	if err != nil {
		return nil, err
	}
	var secret []byte // NULL for a public client
	if !c.SecretHash.IsZero() {
		secret = c.SecretHash[:]
	}
	return []any{c.ID, secret, c.Name, lists[0], lists[1], lists[2], c.AuthMethod, c.FirstParty,
		c.CreatedAt.UnixMicro(), string(md)}, nil
}

// DeleteClient removes the client with the given ID, if any. Tokens already
// issued to it stay until they expire or are revoked: [Store.RevokeClient],
// called next, revokes them all.
func (s *Store) DeleteClient(ctx context.Context, id string) (err error) {
	defer s.obs.Done(ctx, "DeleteClient", s.obs.Start(), &err)
	if err := s.lock(ctx); err != nil {
		return err
	}
	defer s.unlock()
	if _, err := s.db.ExecContext(ctx, `DELETE FROM oauthkit_clients WHERE id = ?`, id); err != nil {
		return fmt.Errorf("sqlite: delete client: %w", isDone(ctx, err))
	}
	return nil
}

func scanClients(rows *sql.Rows) ([]*store.Client, error) {
	defer rows.Close()
	var out []*store.Client
	for rows.Next() {
		var (
			c         store.Client
			secret    []byte
			lists     [3]string
			createdAt int64
			metadata  string
		)
		if err := rows.Scan(&c.ID, &secret, &c.Name, &lists[0], &lists[1], &lists[2],
			&c.AuthMethod, &c.FirstParty, &createdAt, &metadata); err != nil {
			return nil, err
		}
		if err := c.UnmarshalMetadata([]byte(metadata)); err != nil {
			return nil, err
		}
		if secret != nil && len(secret) != len(c.SecretHash) {
			return nil, errors.New("stored client secret hash has the wrong length")
		}
		copy(c.SecretHash[:], secret)
		c.CreatedAt = time.UnixMicro(createdAt)
		var err error
		for i, dst := range []*[]string{&c.RedirectURIs, &c.GrantTypes, &c.Scopes} {
			if *dst, err = decodeList(lists[i]); err != nil {
				return nil, err
			}
		}
		out = append(out, &c)
	}
	return out, rows.Err()
}
