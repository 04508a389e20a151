package redis

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"

	goredis "github.com/redis/go-redis/v9"

	"github.com/oauthkit/oauthkit/store"
)

// createClientLua stores a client unless its ID is taken. (CreateClient
// adds the ID to the set of IDs first, a key of its own, which may be on
// another node of a cluster.)
// KEYS: client. ARGV: fields….
const createClientLua = `
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV))
return 1`

// updateClientLua replaces the fields of a registered client, keeping its
// created_at.
// KEYS: client. ARGV: fields….
const updateClientLua = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local created = redis.call('HGET', KEYS[1], 'created_at') or '0'
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'created_at', created, unpack(ARGV))
return 1`

func (s *Store) clientKey(id string) string { return s.prefix + "client:" + id }
func (s *Store) clientsKey() string         { return s.prefix + "clients" }

// Client returns the client with the given ID, or store.ErrNotFound.
func (s *Store) Client(ctx context.Context, id string) (_ *store.Client, err error) {
	defer s.obs.Done(ctx, "Client", s.obs.Start(), &err)
	m, err := s.rdb.HGetAll(ctx, s.clientKey(id)).Result()
	if err != nil {
		return nil, fmt.Errorf("redis: client: %w", isDone(ctx, err))
	}
	if len(m) == 0 {
		return nil, store.ErrNotFound
	}
	c, err := decodeClient(id, m)
	if err != nil {
		return nil, fmt.Errorf("redis: client: %w", err)
	}
	return c, nil
}

// Clients returns every registered client, ordered by ID.
func (s *Store) Clients(ctx context.Context) (_ []*store.Client, err error) {
	defer s.obs.Done(ctx, "Clients", s.obs.Start(), &err)
	ids, err := s.rdb.SMembers(ctx, s.clientsKey()).Result()
	if err != nil {
		return nil, fmt.Errorf("redis: clients: %w", isDone(ctx, err))
	}
	slices.Sort(ids)
	cmds := make([]*goredis.MapStringStringCmd, len(ids))
	_, err = s.rdb.Pipelined(ctx, func(p goredis.Pipeliner) error {
		for i, id := range ids {
			cmds[i] = p.HGetAll(ctx, s.clientKey(id))
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("redis: clients: %w", isDone(ctx, err))
	}
	out := make([]*store.Client, 0, len(ids))
	for i, cmd := range cmds {
		if len(cmd.Val()) == 0 {
			continue // deleted meanwhile
		}
		c, err := decodeClient(ids[i], cmd.Val())
		if err != nil {
			return nil, fmt.Errorf("redis: clients: %w", err)
		}
		out = append(out, c)
	}
	return out, nil
}

// CreateClient stores c, or returns store.ErrExists. It refuses what
// c.Validate refuses. It adds the ID to the set of IDs, then stores the
// client unless its key exists: an ID whose client was not stored (a
// failure, or a taken ID) is in the set for nothing, which Clients skips.
func (s *Store) CreateClient(ctx context.Context, c *store.Client) (err error) {
	defer s.obs.Done(ctx, "CreateClient", s.obs.Start(), &err)
	fields, err := clientFields(c)
	if err != nil {
		return fmt.Errorf("redis: create client: %w", err)
	}
	if err := s.rdb.SAdd(ctx, s.clientsKey(), c.ID).Err(); err != nil {
		return fmt.Errorf("redis: create client: %w", isDone(ctx, err))
	}
	args := append([]any{"created_at", micros(c.CreatedAt)}, fields...)
	n, err := s.createClient.Run(ctx, s.rdb, []string{s.clientKey(c.ID)}, args...).Int()
	switch {
	case err != nil:
		return fmt.Errorf("redis: create client: %w", isDone(ctx, err))
	case n == 0:
		return store.ErrExists
	}
	return nil
}

// UpdateClient replaces the client with c.ID by c, keeping its created_at,
// or returns store.ErrNotFound. It refuses what c.Validate refuses.
func (s *Store) UpdateClient(ctx context.Context, c *store.Client) (err error) {
	defer s.obs.Done(ctx, "UpdateClient", s.obs.Start(), &err)
	fields, err := clientFields(c)
	if err != nil {
		return fmt.Errorf("redis: update client: %w", err)
	}
	n, err := s.updateClient.Run(ctx, s.rdb, []string{s.clientKey(c.ID)}, fields...).Int()
	switch {
	case err != nil:
		return fmt.Errorf("redis: update client: %w", isDone(ctx, err))
	case n == 0:
		return store.ErrNotFound
	}
	return nil
}

// clientFields validates c and returns the fields of its hash but
// created_at, as name, value pairs.
func clientFields(c *store.Client) ([]any, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	var lists [3][]byte
	for i, l := range [][]string{c.RedirectURIs, c.GrantTypes, c.Scopes} {
		var err error
		if lists[i], err = json.Marshal(l); err != nil {
			return nil, err
		}
	}
	md, err := c.MarshalMetadata()
	if err != nil {
		return nil, err
	}
	secret := ""
	if !c.SecretHash.IsZero() {
		secret = hex.EncodeToString(c.SecretHash[:])
	}
	return []any{"secret_hash", secret, "name", c.Name, "redirect_uris", lists[0], "grant_types", lists[1],
		"scopes", lists[2], "auth_method", c.AuthMethod, "first_party", c.FirstParty, "metadata", md}, nil
}

// DeleteClient removes the client with the given ID, if any: its key and
// its ID in the set of IDs, in one pipeline (two keys, which on a cluster
// may be on two nodes). Tokens already issued to it stay until they expire
// or are revoked: [Store.RevokeClient], called next, revokes them all.
func (s *Store) DeleteClient(ctx context.Context, id string) (err error) {
	defer s.obs.Done(ctx, "DeleteClient", s.obs.Start(), &err)
	_, err = s.rdb.Pipelined(ctx, func(p goredis.Pipeliner) error {
		p.Del(ctx, s.clientKey(id))
		p.SRem(ctx, s.clientsKey(), id)
		return nil
	})
	if err != nil {
		return fmt.Errorf("redis: delete client: %w", isDone(ctx, err))
	}
	return nil
}

// decodeClient makes a Client of the fields of its hash.
func decodeClient(id string, m map[string]string) (*store.Client, error) {
	c := &store.Client{ID: id, Name: m["name"], AuthMethod: m["auth_method"], FirstParty: m["first_party"] == "1"}
	if sh := m["secret_hash"]; sh != "" {
		b, err := hex.DecodeString(sh)
		if err != nil || len(b) != len(c.SecretHash) {
			return nil, fmt.Errorf("stored secret hash of client %q is malformed", id)
		}
		copy(c.SecretHash[:], b)
	}
	for _, f := range []struct {
		name string
		dst  *[]string
	}{{"redirect_uris", &c.RedirectURIs}, {"grant_types", &c.GrantTypes}, {"scopes", &c.Scopes}} {
		if err := json.Unmarshal([]byte(m[f.name]), f.dst); err != nil {
			return nil, fmt.Errorf("stored %s of client %q: %w", f.name, id, err)
		}
	}
	// metadata is absent from clients stored before it existed: none.
	if err := c.UnmarshalMetadata([]byte(m["metadata"])); err != nil {
		return nil, fmt.Errorf("client %q: %w", id, err)
	}
	var err error
	c.CreatedAt, err = parseMicros(m["created_at"])
	return c, err
}
