package otelmetrics

import (
	"context"
	"errors"
	"time"

	"go.opentelemetry.io/otel/attribute"

	"github.com/oauthkit/oauthkit/store"
)

// StoreCall records a store call and its duration, by method and result:
// it is a store.Observer, for a backend's WithObserver option
// (memory.WithObserver(m.StoreCall), postgres.WithObserver(m.StoreCall), …).
// Errors count as "error", except the store's sentinels, which are
// outcomes (a token not found, a code already consumed), and context
// errors, which say that the caller gave up ("canceled") or a deadline
// passed ("timeout").
func (m *Metrics) StoreCall(ctx context.Context, op string, d time.Duration, err error) {
	k := opKey{op: label(op), result: storeResult(err)}
	ms := cached(&m.ops, k, func() []attribute.KeyValue {
		return []attribute.KeyValue{attribute.String("op", k.op), attribute.String("result", k.result)}
	})
	m.storeTime.Record(ctx, d.Seconds(), ms.record...)
}

type opKey struct{ op, result string }

// storeResult names the outcome err.
func storeResult(err error) string {
	switch {
	case err == nil:
		return resultOK
	case errors.Is(err, store.ErrNotFound):
		return "not_found"
	case errors.Is(err, store.ErrConsumed):
		return "consumed"
	case errors.Is(err, store.ErrExists):
		return "exists"
	case errors.Is(err, store.ErrRevoked):
		return "revoked"
	case errors.Is(err, store.ErrInvalidCredentials):
		return "invalid_credentials"
	case errors.Is(err, store.ErrInvalidClient):
		return "invalid_client"
	case errors.Is(err, store.ErrSlowDown):
		return "slow_down"
	case errors.Is(err, context.DeadlineExceeded):
		return "timeout"
	case errors.Is(err, context.Canceled):
		return "canceled"
	}
	return resultError
}
