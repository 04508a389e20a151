package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/oauthkit/oauthkit/store"
)

var _ store.DeviceStore = (*Store)(nil)

const deviceCols = `device_code_hash, user_code_hash, client_id, scopes, family, issued_at, expires_at,
	interval_us, last_polled_at, status, subject, username, auth_time`

// deviceQueries holds the device grant statements, with the schema filled
// in.
type deviceQueries struct {
	deleteExpired, create, byUserCode, lockByUserCode, decide string
	lockByDeviceCode, poll, clean                             string
}

func newDeviceQueries(schema string) deviceQueries {
	r := strings.NewReplacer("T.", pgx.Identifier{schema}.Sanitize()+".")
	return deviceQueries{
		deleteExpired: r.Replace(`DELETE FROM T.oauthkit_device_grants
			WHERE (device_code_hash = $1 OR user_code_hash = $2) AND expires_at <= $3`),
		create: r.Replace(`INSERT INTO T.oauthkit_device_grants (` + deviceCols + `)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) ON CONFLICT DO NOTHING`),
		byUserCode: r.Replace(`SELECT ` + deviceCols + ` FROM T.oauthkit_device_grants
			WHERE user_code_hash = $1 AND expires_at > $2`),
		lockByUserCode: r.Replace(`SELECT ` + deviceCols + ` FROM T.oauthkit_device_grants
			WHERE user_code_hash = $1 AND expires_at > $2 FOR UPDATE`),
		decide: r.Replace(`UPDATE T.oauthkit_device_grants
			SET status = $2, subject = $3, username = $4, auth_time = $5, scopes = $6 WHERE device_code_hash = $1`),
		lockByDeviceCode: r.Replace(`SELECT ` + deviceCols + ` FROM T.oauthkit_device_grants
			WHERE device_code_hash = $1 AND client_id = $2 AND expires_at > $3 FOR UPDATE`),
		poll: r.Replace(`UPDATE T.oauthkit_device_grants
			SET last_polled_at = $2, interval_us = $3, status = $4 WHERE device_code_hash = $1`),
		clean: r.Replace(`DELETE FROM T.oauthkit_device_grants WHERE device_code_hash IN
			(SELECT device_code_hash FROM T.oauthkit_device_grants WHERE expires_at <= $1 LIMIT $2)`),
	}
}

// CreateDeviceGrant implements store.DeviceStore: one transaction deletes
// an expired grant holding either code, then inserts g unless a live one
// holds it (the unique indexes decide races).
func (s *Store) CreateDeviceGrant(ctx context.Context, g *store.DeviceGrant) (err error) {
	defer s.obs.Done(ctx, "CreateDeviceGrant", s.obs.Start(), &err)
	inserted := false
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, s.dq.deleteExpired, g.DeviceCodeHash[:], g.UserCodeHash[:], g.IssuedAt); err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, s.dq.create, g.DeviceCodeHash[:], g.UserCodeHash[:], g.ClientID, list(g.Scopes),
			g.Family, g.IssuedAt, g.ExpiresAt, g.Interval.Microseconds(), orNull(g.LastPolledAt), int16(g.Status),
			g.Subject, g.Username, orNull(g.AuthTime))
		inserted = tag.RowsAffected() == 1
		return err
	})
	switch {
	case err != nil:
		return fmt.Errorf("postgres: create device grant: %w", isDone(ctx, err))
	case !inserted:
		return store.ErrExists
	}
	return nil
}

// DeviceGrantByUserCode implements store.DeviceStore.
func (s *Store) DeviceGrantByUserCode(ctx context.Context, h store.Hash, now time.Time) (_ store.DeviceGrant, err error) {
	defer s.obs.Done(ctx, "DeviceGrantByUserCode", s.obs.Start(), &err)
	g, err := scanDevice(s.pool.QueryRow(ctx, s.dq.byUserCode, h[:], now))
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return store.DeviceGrant{}, store.ErrNotFound
	case err != nil:
		return store.DeviceGrant{}, fmt.Errorf("postgres: device grant: %w", isDone(ctx, err))
	}
	return g, nil
}

// DecideDeviceGrant implements store.DeviceStore: the row is locked, the
// answer applied by store.DeviceGrant.Decide and written back, in one
// transaction.
func (s *Store) DecideDeviceGrant(ctx context.Context, h store.Hash, d store.DeviceDecision, now time.Time) (err error) {
	defer s.obs.Done(ctx, "DecideDeviceGrant", s.obs.Start(), &err)
	var decided error
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		g, err := scanDevice(tx.QueryRow(ctx, s.dq.lockByUserCode, h[:], now))
		if err != nil {
			return err
		}
		if decided = g.Decide(d); decided != nil {
			return nil
		}
		_, err = tx.Exec(ctx, s.dq.decide, g.DeviceCodeHash[:], int16(g.Status), g.Subject, g.Username,
			orNull(g.AuthTime), list(g.Scopes))
		return err
	})
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return store.ErrNotFound
	case err != nil:
		return fmt.Errorf("postgres: decide device grant: %w", isDone(ctx, err))
	}
	return decided
}

// PollDeviceGrant implements store.DeviceStore: the row is locked, the poll
// applied by store.DeviceGrant.Poll and written back, in one transaction.
func (s *Store) PollDeviceGrant(ctx context.Context, h store.Hash, clientID string, now time.Time) (_ store.DeviceGrant, err error) {
	defer s.obs.Done(ctx, "PollDeviceGrant", s.obs.Start(), &err)
	var (
		out    store.DeviceGrant
		polled error
	)
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		g, err := scanDevice(tx.QueryRow(ctx, s.dq.lockByDeviceCode, h[:], clientID, now))
		if err != nil {
			return err
		}
		out, polled = g.Poll(now)
		_, err = tx.Exec(ctx, s.dq.poll, g.DeviceCodeHash[:], g.LastPolledAt, g.Interval.Microseconds(), int16(g.Status))
		return err
	})
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return store.DeviceGrant{}, store.ErrNotFound
	case err != nil:
		return store.DeviceGrant{}, fmt.Errorf("postgres: poll device grant: %w", isDone(ctx, err))
	}
	return out, polled
}

// scanDevice reads deviceCols from row.
func scanDevice(row pgx.Row) (store.DeviceGrant, error) {
	var (
		g              store.DeviceGrant
		dh, uh         []byte
		interval       int64
		status         int16
		polled, authAt *time.Time
	)
	err := row.Scan(&dh, &uh, &g.ClientID, &g.Scopes, &g.Family, &g.IssuedAt, &g.ExpiresAt, &interval, &polled,
		&status, &g.Subject, &g.Username, &authAt)
	if err != nil {
		return store.DeviceGrant{}, err
	}
	if len(dh) != len(g.DeviceCodeHash) || len(uh) != len(g.UserCodeHash) {
		return store.DeviceGrant{}, fmt.Errorf("stored hashes have %d and %d bytes", len(dh), len(uh))
	}
	copy(g.DeviceCodeHash[:], dh)
	copy(g.UserCodeHash[:], uh)
	g.Interval, g.Status = time.Duration(interval)*time.Microsecond, store.DeviceStatus(status)
	if polled != nil {
		g.LastPolledAt = *polled
	}
	if authAt != nil {
		g.AuthTime = *authAt
	}
	return g, nil
}

// orNull makes the zero time NULL.
func orNull(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}
