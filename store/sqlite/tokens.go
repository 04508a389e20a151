package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/oauthkit/oauthkit/store"
)

const tokenCols = `hash, kind, family, client_id, subject, username, scopes, issued_at, expires_at, redirect_uri, code_challenge,
	audience, jkt, nonce, auth_time`

// prepare makes the statements of the hot paths.
func (s *Store) prepare(ctx context.Context) error {
	for _, p := range []struct {
		dst **sql.Stmt
		q   string
	}{
		// The trigger oauthkit_tokens_join_family refuses a revoked family
		// and records the family's latest expiry, in the same statement.
		{&s.insertToken, `INSERT INTO oauthkit_tokens (` + tokenCols + `)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (hash) DO NOTHING`},
		{&s.selectToken, `SELECT ` + tokenCols + ` FROM oauthkit_tokens
			WHERE hash = ? AND uses = 0 AND expires_at > ?`},
		// Counting uses makes consumption one statement: the caller that
		// makes the count 1 wins.
		{&s.consumeToken, `UPDATE oauthkit_tokens SET uses = uses + 1,
			consumed_at = CASE uses WHEN 0 THEN ?2 ELSE consumed_at END
			WHERE hash = ?1 AND expires_at > ?2 RETURNING uses, consumed_at, ` + tokenCols},
	} {
		st, err := s.db.PrepareContext(ctx, p.q)
		if err != nil {
			return fmt.Errorf("sqlite: prepare: %w", err)
		}
		*p.dst = st
	}
	return nil
}

// CreateToken stores t. It returns store.ErrRevoked if t's family was
// revoked and store.ErrExists if a token with t's hash is stored.
func (s *Store) CreateToken(ctx context.Context, t *store.Token) (err error) {
	defer s.obs.Done(ctx, "CreateToken", s.obs.Start(), &err)
	if err := s.lock(ctx); err != nil {
		return err
	}
	defer s.unlock()
	if err := s.createToken(ctx, s.insertToken, t); err != nil {
		if isSentinel(err) {
			return err
		}
		return fmt.Errorf("sqlite: create token: %w", isDone(ctx, err))
	}
	return nil
}

// createToken stores t with the insert statement st (the prepared one, or
// the transaction's); store.ErrRevoked and store.ErrExists are returned as
// they are, other errors unwrapped. The caller holds the write lock.
func (s *Store) createToken(ctx context.Context, st *sql.Stmt, t *store.Token) error {
	scopes, err := encodeList(t.Scopes)
	if err != nil {
		return err
	}
	audience, err := encodeList(t.Audience)
	if err != nil {
		return err
	}
	res, err := st.ExecContext(ctx, t.Hash[:], int(t.Kind), t.Family, t.ClientID, t.Subject,
		t.Username, scopes, t.IssuedAt.UnixMicro(), t.ExpiresAt.UnixMicro(), t.RedirectURI, t.CodeChallenge,
		audience, t.JKT, t.Nonce, micros(t.AuthTime))
	if err != nil {
		if strings.Contains(err.Error(), "oauthkit: family revoked") {
			return store.ErrRevoked
		}
		return err
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
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
	row := s.selectToken.QueryRowContext(ctx, h[:], s.now().UnixMicro())
	t, err := scanToken(row)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return store.Token{}, store.ErrNotFound
	case err != nil:
		return store.Token{}, fmt.Errorf("sqlite: token: %w", isDone(ctx, err))
	}
	return t, nil
}

// ConsumeToken marks the live token with hash h used, in one UPDATE that
// counts its uses: the caller that makes the count 1 wins, later callers get
// the token and store.ErrConsumed.
func (s *Store) ConsumeToken(ctx context.Context, h store.Hash) (_ store.Token, err error) {
	defer s.obs.Done(ctx, "ConsumeToken", s.obs.Start(), &err)
	if err := s.lock(ctx); err != nil {
		return store.Token{}, err
	}
	defer s.unlock()
	t, err := s.consumeWith(ctx, s.consumeToken, h)
	if err != nil && !isSentinel(err) {
		return store.Token{}, fmt.Errorf("sqlite: consume token: %w", isDone(ctx, err))
	}
	return t, err
}

// consumeWith is ConsumeToken with the statement st (the prepared one, or
// the transaction's), its errors unwrapped. The caller holds the write
// lock.
func (s *Store) consumeWith(ctx context.Context, st *sql.Stmt, h store.Hash) (store.Token, error) {
	row := st.QueryRowContext(ctx, h[:], s.now().UnixMicro())
	var uses, consumedAt int64
	t, err := scanToken(row, &uses, &consumedAt)
	t.ConsumedAt = time.UnixMicro(consumedAt)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return store.Token{}, store.ErrNotFound
	case err != nil:
		return store.Token{}, err
	case uses > 1:
		return t, store.ErrConsumed
	}
	return t, nil
}

var _ store.Exchanger = (*Store)(nil)

// Exchange implements store.Exchanger: ConsumeToken's UPDATE and
// CreateToken's INSERT for each new token, in one transaction under the
// write lock (BEGIN IMMEDIATE); any answer but success rolls it back.
func (s *Store) Exchange(ctx context.Context, h store.Hash, issue ...*store.Token) (_ store.Token, err error) {
	defer s.obs.Done(ctx, "Exchange", s.obs.Start(), &err)
	if err := s.lock(ctx); err != nil {
		return store.Token{}, err
	}
	defer s.unlock()
	old, err := s.exchange(ctx, h, issue)
	if err != nil && !isSentinel(err) {
		return store.Token{}, fmt.Errorf("sqlite: exchange: %w", isDone(ctx, err))
	}
	return old, err
}

func (s *Store) exchange(ctx context.Context, h store.Hash, issue []*store.Token) (store.Token, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return store.Token{}, err
	}
	defer tx.Rollback()
	old, err := s.consumeWith(ctx, tx.StmtContext(ctx, s.consumeToken), h)
	if err != nil {
		return old, err
	}
	insert := tx.StmtContext(ctx, s.insertToken)
	for _, t := range issue {
		if err := s.createToken(ctx, insert, t); err != nil {
			return store.Token{}, err
		}
	}
	if err := tx.Commit(); err != nil {
		return store.Token{}, err
	}
	return old, nil
}

// RevokeToken deletes the token with hash h, if any.
func (s *Store) RevokeToken(ctx context.Context, h store.Hash) (err error) {
	defer s.obs.Done(ctx, "RevokeToken", s.obs.Start(), &err)
	if err := s.lock(ctx); err != nil {
		return err
	}
	defer s.unlock()
	if _, err := s.db.ExecContext(ctx, `DELETE FROM oauthkit_tokens WHERE hash = ?`, h[:]); err != nil {
		return fmt.Errorf("sqlite: revoke token: %w", isDone(ctx, err))
	}
	return nil
}

// RevokeFamily marks the family revoked, so that CreateToken refuses it until
// its last token would have expired, and deletes its tokens.
func (s *Store) RevokeFamily(ctx context.Context, family string) (err error) {
	defer s.obs.Done(ctx, "RevokeFamily", s.obs.Start(), &err)
	if family == "" { // tokens of no family are revoked one by one
		return ctx.Err()
	}
	if err := s.lock(ctx); err != nil {
		return err
	}
	defer s.unlock()
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite: revoke family: %w", isDone(ctx, err))
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `UPDATE oauthkit_families SET revoked = 1 WHERE name = ?`, family); err != nil {
		return fmt.Errorf("sqlite: revoke family: %w", isDone(ctx, err))
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM oauthkit_tokens WHERE family = ?`, family); err != nil {
		return fmt.Errorf("sqlite: revoke family: %w", isDone(ctx, err))
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlite: revoke family: %w", isDone(ctx, err))
	}
	return nil
}

// RevokeClient deletes every token issued to the client, in one statement
// (by the index on client_id). Its families are left as they are: with the
// client deleted, nothing can issue tokens in them.
func (s *Store) RevokeClient(ctx context.Context, clientID string) (err error) {
	defer s.obs.Done(ctx, "RevokeClient", s.obs.Start(), &err)
	if err := s.lock(ctx); err != nil {
		return err
	}
	defer s.unlock()
	if _, err := s.db.ExecContext(ctx, `DELETE FROM oauthkit_tokens WHERE client_id = ?`, clientID); err != nil {
		return fmt.Errorf("sqlite: revoke client: %w", isDone(ctx, err))
	}
	return nil
}

// scanToken reads tokenCols from row, after the destinations in pre.
func scanToken(row *sql.Row, pre ...any) (store.Token, error) {
	var (
		t                             store.Token
		hash                          []byte
		kind                          int
		scopes, audience              string
		issuedAt, expiresAt, authTime int64
	)
	dest := append(pre, &hash, &kind, &t.Family, &t.ClientID, &t.Subject, &t.Username, &scopes,
		&issuedAt, &expiresAt, &t.RedirectURI, &t.CodeChallenge, &audience, &t.JKT, &t.Nonce, &authTime)
	if err := row.Scan(dest...); err != nil {
		return store.Token{}, err
	}
	if len(hash) != len(t.Hash) {
		return store.Token{}, fmt.Errorf("stored hash has %d bytes", len(hash))
	}
	copy(t.Hash[:], hash)
	t.Kind = store.Kind(kind)
	t.IssuedAt, t.ExpiresAt = time.UnixMicro(issuedAt), time.UnixMicro(expiresAt)
	if authTime != 0 {
		t.AuthTime = time.UnixMicro(authTime)
	}
	var err error
	if t.Scopes, err = decodeList(scopes); err != nil {
		return store.Token{}, err
	}
	if t.Audience, err = decodeList(audience); err != nil {
		return store.Token{}, err
	}
	return t, nil
}

// micros returns t in Unix microseconds, 0 for the zero time.
func micros(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMicro()
}

// encodeList turns a string list into the JSON array stored for it.
func encodeList(l []string) (string, error) {
	if len(l) == 0 {
		return "[]", nil
	}
	b, err := json.Marshal(l)
	return string(b), err
}

// decodeList reads a list stored by encodeList; an empty list is nil.
func decodeList(s string) ([]string, error) {
	if s == "[]" || s == "" {
		return nil, nil
	}
	var l []string
	if err := json.Unmarshal([]byte(s), &l); err != nil {
		return nil, fmt.Errorf("stored list %q: %w", s, err)
	}
	return l, nil
}
