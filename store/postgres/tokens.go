package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/oauthkit/oauthkit/store"
)

// CreateToken stores t. It returns store.ErrRevoked if t's family was
// revoked and store.ErrExists if a token with t's hash is stored.
func (s *Store) CreateToken(ctx context.Context, t *store.Token) (err error) {
	defer s.obs.Done(ctx, "CreateToken", s.obs.Start(), &err)
	if err := s.createToken(ctx, s.pool, t); err != nil {
		if isSentinel(err) {
			return err
		}
		return fmt.Errorf("postgres: create token: %w", isDone(ctx, err))
	}
	return nil
}

// querier is what runs a statement: the pool, or a transaction.
type querier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// createToken stores t through q; store.ErrRevoked and store.ErrExists are
// returned as they are, other errors unwrapped.
func (s *Store) createToken(ctx context.Context, q querier, t *store.Token) error {
	var revoked, inserted bool
	stmt := s.q.createToken
	if t.Family == "" {
		stmt = s.q.createLoneToken
	}
	var authTime *time.Time // NULL when unknown
	if !t.AuthTime.IsZero() {
		authTime = &t.AuthTime
	}
	err := q.QueryRow(ctx, stmt, t.Hash[:], int16(t.Kind), t.Family, t.ClientID,
		t.Subject, t.Username, list(t.Scopes), t.IssuedAt, t.ExpiresAt, t.RedirectURI, t.CodeChallenge,
		list(t.Audience), t.JKT, t.Nonce, authTime,
	).Scan(&revoked, &inserted)
	switch {
	case errors.Is(err, pgx.ErrNoRows): // a lone token whose hash is taken
		return store.ErrExists
	case err != nil:
		return err
	case revoked:
		return store.ErrRevoked
	case !inserted:
		return store.ErrExists
	}
	return nil
}

// isSentinel reports whether err is one of the store's answers rather than
// a failure.
func isSentinel(err error) bool {
	return err == store.ErrExists || err == store.ErrRevoked || err == store.ErrNotFound || err == store.ErrConsumed
}

// Token returns the live, unconsumed token with hash h, or store.ErrNotFound.
func (s *Store) Token(ctx context.Context, h store.Hash) (_ store.Token, err error) {
	defer s.obs.Done(ctx, "Token", s.obs.Start(), &err)
	t, err := scanToken(s.pool.QueryRow(ctx, s.q.token, h[:], s.now()))
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return store.Token{}, store.ErrNotFound
	case err != nil:
		return store.Token{}, fmt.Errorf("postgres: token: %w", isDone(ctx, err))
	}
	return t, nil
}

// ConsumeToken marks the live token with hash h used, in one UPDATE that
// counts its uses: the caller that makes the count 1 wins, later callers get
// the token and store.ErrConsumed.
func (s *Store) ConsumeToken(ctx context.Context, h store.Hash) (_ store.Token, err error) {
	defer s.obs.Done(ctx, "ConsumeToken", s.obs.Start(), &err)
	t, err := s.consumeToken(ctx, s.pool, h)
	if err != nil && !isSentinel(err) {
		return store.Token{}, fmt.Errorf("postgres: consume token: %w", isDone(ctx, err))
	}
	return t, err
}

// consumeToken is ConsumeToken through q, its errors unwrapped.
func (s *Store) consumeToken(ctx context.Context, q querier, h store.Hash) (store.Token, error) {
	var (
		uses       int32
		consumedAt time.Time
	)
	t, err := scanToken(q.QueryRow(ctx, s.q.consumeToken, h[:], s.now()), &uses, &consumedAt)
	t.ConsumedAt = consumedAt
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return store.Token{}, store.ErrNotFound
	case err != nil:
		return store.Token{}, err
	case uses > 1:
		return t, store.ErrConsumed
	}
	return t, nil
}

var _ store.Exchanger = (*Store)(nil)

// errRollback ends an Exchange's transaction without a commit.
var errRollback = errors.New("postgres: rolled back")

// Exchange implements store.Exchanger: ConsumeToken's UPDATE and
// CreateToken's statement for each new token, in one transaction (READ
// COMMITTED: the UPDATE's row lock makes racing exchanges of one token
// wait for each other, and the later sees uses > 0). An answer other than
// success rolls it all back.
func (s *Store) Exchange(ctx context.Context, h store.Hash, issue ...*store.Token) (_ store.Token, err error) {
	defer s.obs.Done(ctx, "Exchange", s.obs.Start(), &err)
	var (
		old     store.Token
		outcome error // an answer of the store, after a rollback
	)
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var err error
		if old, err = s.consumeToken(ctx, tx, h); err != nil {
			if isSentinel(err) {
				outcome = err
				return errRollback
			}
			return err
		}
		for _, t := range issue {
			if err := s.createToken(ctx, tx, t); err != nil {
				if isSentinel(err) {
					outcome = err
					return errRollback
				}
				return err
			}
		}
		return nil
	})
	switch {
	case outcome == store.ErrConsumed:
		return old, outcome
	case outcome != nil:
		return store.Token{}, outcome
	case err != nil:
		return store.Token{}, fmt.Errorf("postgres: exchange: %w", isDone(ctx, err))
	}
	return old, nil
}

// RevokeToken deletes the token with hash h, if any, and announces it
// (changes.go).
func (s *Store) RevokeToken(ctx context.Context, h store.Hash) (err error) {
	defer s.obs.Done(ctx, "RevokeToken", s.obs.Start(), &err)
	c := payload(store.Change{Kind: store.ChangeToken, Hash: h})
	if _, err := s.pool.Exec(ctx, s.q.revokeToken, h[:], s.channel, c); err != nil {
		return fmt.Errorf("postgres: revoke token: %w", isDone(ctx, err))
	}
	return nil
}

// RevokeFamily marks the family revoked, so that CreateToken refuses it until
// its last token would have expired, and deletes its tokens. The two run as
// separate statements of one transaction: the DELETE then sees every token a
// racing CreateToken committed before the mark. The DELETE announces the
// revocation (changes.go).
func (s *Store) RevokeFamily(ctx context.Context, family string) (err error) {
	defer s.obs.Done(ctx, "RevokeFamily", s.obs.Start(), &err)
	if family == "" { // tokens of no family are revoked one by one
		return ctx.Err()
	}
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, s.q.revokeFamily, family); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, s.q.deleteFamily, family, s.channel, payload(store.Change{Kind: store.ChangeFamily, Family: family}))
		return err
	})
	if err != nil {
		return fmt.Errorf("postgres: revoke family: %w", isDone(ctx, err))
	}
	return nil
}

// RevokeClient deletes every token issued to the client, in one statement
// (by the index on client_id) that announces it (changes.go). Its families
// are left as they are: with the client deleted, nothing can issue tokens in
// them.
func (s *Store) RevokeClient(ctx context.Context, clientID string) (err error) {
	defer s.obs.Done(ctx, "RevokeClient", s.obs.Start(), &err)
	c := payload(store.Change{Kind: store.ChangeClient, ClientID: clientID})
	if _, err := s.pool.Exec(ctx, s.q.revokeClient, clientID, s.channel, c); err != nil {
		return fmt.Errorf("postgres: revoke client: %w", isDone(ctx, err))
	}
	return nil
}

// scanToken reads tokenCols from row, after the destinations in pre.
func scanToken(row pgx.Row, pre ...any) (store.Token, error) {
	var (
		t        store.Token
		hash     []byte
		kind     int16
		authTime *time.Time
	)
	dest := append(pre, &hash, &kind, &t.Family, &t.ClientID, &t.Subject, &t.Username, &t.Scopes,
		&t.IssuedAt, &t.ExpiresAt, &t.RedirectURI, &t.CodeChallenge, &t.Audience, &t.JKT, &t.Nonce, &authTime)
	if err := row.Scan(dest...); err != nil {
		return store.Token{}, err
	}
	if authTime != nil {
		t.AuthTime = *authTime
	}
	if len(hash) != len(t.Hash) {
		return store.Token{}, fmt.Errorf("stored hash has %d bytes", len(hash))
	}
	copy(t.Hash[:], hash)
	t.Kind = store.Kind(kind)
	return t, nil
}

// list makes a nil slice an empty one, which pgx sends as '{}' not NULL.
func list(l []string) []string {
	if l == nil {
		return []string{}
	}
	return l
}
