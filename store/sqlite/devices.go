package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/oauthkit/oauthkit/store"
)

var _ store.DeviceStore = (*Store)(nil)

const deviceCols = `device_code_hash, user_code_hash, client_id, scopes, family, issued_at, expires_at,
	interval_us, last_polled_at, status, subject, username, auth_time`

// CreateDeviceGrant implements store.DeviceStore: one transaction deletes
// an expired grant holding either code, then inserts g unless a live one
// holds it.
func (s *Store) CreateDeviceGrant(ctx context.Context, g *store.DeviceGrant) (err error) {
	defer s.obs.Done(ctx, "CreateDeviceGrant", s.obs.Start(), &err)
	scopes, err := encodeList(g.Scopes)
	if err != nil {
		return fmt.Errorf("sqlite: create device grant: %w", err)
	}
	inserted := false
	err = s.deviceTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM oauthkit_device_grants
			WHERE (device_code_hash = ? OR user_code_hash = ?) AND expires_at <= ?`,
			g.DeviceCodeHash[:], g.UserCodeHash[:], g.IssuedAt.UnixMicro()); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO oauthkit_device_grants (`+deviceCols+`)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
			g.DeviceCodeHash[:], g.UserCodeHash[:], g.ClientID, scopes, g.Family, g.IssuedAt.UnixMicro(),
			g.ExpiresAt.UnixMicro(), g.Interval.Microseconds(), micros(g.LastPolledAt), int(g.Status),
			g.Subject, g.Username, micros(g.AuthTime))
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		inserted = n == 1
		return err
	})
	switch {
	case err != nil:
		return fmt.Errorf("sqlite: create device grant: %w", isDone(ctx, err))
	case !inserted:
		return store.ErrExists
	}
	return nil
}

// DeviceGrantByUserCode implements store.DeviceStore.
func (s *Store) DeviceGrantByUserCode(ctx context.Context, h store.Hash, now time.Time) (_ store.DeviceGrant, err error) {
	defer s.obs.Done(ctx, "DeviceGrantByUserCode", s.obs.Start(), &err)
	g, err := scanDevice(s.db.QueryRowContext(ctx, `SELECT `+deviceCols+` FROM oauthkit_device_grants
		WHERE user_code_hash = ? AND expires_at > ?`, h[:], now.UnixMicro()))
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return store.DeviceGrant{}, store.ErrNotFound
	case err != nil:
		return store.DeviceGrant{}, fmt.Errorf("sqlite: device grant: %w", isDone(ctx, err))
	}
	return g, nil
}

// DecideDeviceGrant implements store.DeviceStore, in one transaction under
// the write lock.
func (s *Store) DecideDeviceGrant(ctx context.Context, h store.Hash, d store.DeviceDecision, now time.Time) (err error) {
	defer s.obs.Done(ctx, "DecideDeviceGrant", s.obs.Start(), &err)
	var decided error
	err = s.deviceTx(ctx, func(tx *sql.Tx) error {
		g, err := scanDevice(tx.QueryRowContext(ctx, `SELECT `+deviceCols+` FROM oauthkit_device_grants
			WHERE user_code_hash = ? AND expires_at > ?`, h[:], now.UnixMicro()))
		if err != nil {
			return err
		}
		if decided = g.Decide(d); decided != nil {
			return nil
		}
		scopes, err := encodeList(g.Scopes)
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE oauthkit_device_grants
			SET status = ?, subject = ?, username = ?, auth_time = ?, scopes = ? WHERE device_code_hash = ?`,
			int(g.Status), g.Subject, g.Username, micros(g.AuthTime), scopes, g.DeviceCodeHash[:])
		return err
	})
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return store.ErrNotFound
	case err != nil:
		return fmt.Errorf("sqlite: decide device grant: %w", isDone(ctx, err))
	}
	return decided
}

// PollDeviceGrant implements store.DeviceStore, in one transaction under
// the write lock.
func (s *Store) PollDeviceGrant(ctx context.Context, h store.Hash, clientID string, now time.Time) (_ store.DeviceGrant, err error) {
	defer s.obs.Done(ctx, "PollDeviceGrant", s.obs.Start(), &err)
	var (
		out    store.DeviceGrant
		polled error
	)
	err = s.deviceTx(ctx, func(tx *sql.Tx) error {
		g, err := scanDevice(tx.QueryRowContext(ctx, `SELECT `+deviceCols+` FROM oauthkit_device_grants
			WHERE device_code_hash = ? AND client_id = ? AND expires_at > ?`, h[:], clientID, now.UnixMicro()))
		if err != nil {
			return err
		}
		out, polled = g.Poll(now)
		_, err = tx.ExecContext(ctx, `UPDATE oauthkit_device_grants
			SET last_polled_at = ?, interval_us = ?, status = ? WHERE device_code_hash = ?`,
			micros(g.LastPolledAt), g.Interval.Microseconds(), int(g.Status), g.DeviceCodeHash[:])
		return err
	})
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return store.DeviceGrant{}, store.ErrNotFound
	case err != nil:
		return store.DeviceGrant{}, fmt.Errorf("sqlite: poll device grant: %w", isDone(ctx, err))
	}
	return out, polled
}

// deviceTx runs fn in a transaction under the write lock, committing when
// it returns nil.
func (s *Store) deviceTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	if err := s.lock(ctx); err != nil {
		return err
	}
	defer s.unlock()
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		return err
	}
	return tx.Commit()
}

// scanDevice reads deviceCols from row.
func scanDevice(row *sql.Row) (store.DeviceGrant, error) {
	var (
		g                                    store.DeviceGrant
		dh, uh                               []byte
		scopes                               string
		issued, expires, interval, polled, a int64
		status                               int
	)
	err := row.Scan(&dh, &uh, &g.ClientID, &scopes, &g.Family, &issued, &expires, &interval, &polled, &status,
		&g.Subject, &g.Username, &a)
	if err != nil {
		return store.DeviceGrant{}, err
	}
	if len(dh) != len(g.DeviceCodeHash) || len(uh) != len(g.UserCodeHash) {
		return store.DeviceGrant{}, fmt.Errorf("stored hashes have %d and %d bytes", len(dh), len(uh))
	}
	copy(g.DeviceCodeHash[:], dh)
	copy(g.UserCodeHash[:], uh)
	if g.Scopes, err = decodeList(scopes); err != nil {
		return store.DeviceGrant{}, err
	}
	g.IssuedAt, g.ExpiresAt = time.UnixMicro(issued), time.UnixMicro(expires)
	g.Interval, g.Status = time.Duration(interval)*time.Microsecond, store.DeviceStatus(status)
	if polled != 0 {
		g.LastPolledAt = time.UnixMicro(polled)
	}
	if a != 0 {
		g.AuthTime = time.UnixMicro(a)
	}
	return g, nil
}
