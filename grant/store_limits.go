package grant

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/oauthkit/oauthkit/internal/bulkhead"
	"github.com/oauthkit/oauthkit/store"
)

// StoreLimits bounds every call the Provider makes to its stores, so that a
// store that is down, refuses connections or is slow gets a fast, clear
// answer (503 temporarily_unavailable with Retry-After: 1; middleware's
// Guard answers 503 too) instead of requests that hang and pile up. Each
// store object (Config.Tokens, Config.Clients and Config.Users, one
// object serving several counting once, and the capabilities taken from
// them: throttle counts, replay caches, device grants) gets its own bound.
// Stores that live in the process (store.Local: the memory backend) are
// called directly. There is no circuit breaker: every request after an
// outage tries the store, so service resumes with its first answer. An
// outage is logged once when it starts (at Error) and once when it ends
// (at Warn), however many requests it refuses. The zero value is the
// default.
type StoreLimits struct {
	// Timeout bounds each store call, waiting for a pooled connection and
	// connecting included: a call that has not answered by then fails,
	// and the request is answered 503. Default 2 seconds, so that every
	// answer leaves within about 3 seconds even when a request makes two
	// calls that each hit it (most make one or two, and stop at the first
	// failure).
	Timeout time.Duration
	// MaxInFlight bounds the calls in flight to each store. A call beyond
	// it is refused at once (503 temporarily_unavailable, Retry-After: 1),
	// not queued: a slow store then holds at most this many requests,
	// whatever the load. Default 256; keep it above the store's
	// connection pool (the PostgreSQL store's default pool is
	// max(10, 4×GOMAXPROCS) connections) so that a healthy store under
	// load is not refused.
	MaxInFlight int
}

// The defaults of StoreLimits, and the Retry-After of its refusals.
const (
	defaultStoreTimeout     = 2 * time.Second
	defaultStoreMaxInFlight = 256
	storeRetryAfter         = time.Second
)

func (l *StoreLimits) setDefaults() error {
	if l.Timeout < 0 || l.MaxInFlight < 0 {
		return errors.New("grant: Config.Store.Timeout and MaxInFlight must not be negative")
	}
	if l.Timeout == 0 {
		l.Timeout = defaultStoreTimeout
	}
	if l.MaxInFlight == 0 {
		l.MaxInFlight = defaultStoreMaxInFlight
	}
	return nil
}

// errUnavailable answers a request that a store failed: it is down,
// refused, or did not answer within StoreLimits.Timeout. RFC 6749 defines
// temporarily_unavailable for the authorization endpoint (§4.1.2.1); the
// token endpoint's list (§5.2) has neither it nor server_error, and this
// is not a server error the client should give up on, so every endpoint
// answers with it (as Ory Fosite does), status 503 and Retry-After.
var errUnavailable = func() *Error {
	e := newError(http.StatusServiceUnavailable, CodeTemporarilyUnavailable, "the service is temporarily unavailable; retry shortly")
	e.retryAfter = storeRetryAfter
	return e
}()

// errStoreFull answers a request refused because too many calls to a store
// are in flight.
var errStoreFull = errBusy(storeRetryAfter)

// unavailable returns the answer to a store error that the store's
// bulkhead marked as unavailable or full, and false for any other error.
func unavailable(err error) (*Error, bool) {
	switch {
	case errors.Is(err, bulkhead.ErrUnavailable):
		return errUnavailable, true
	case errors.Is(err, bulkhead.ErrFull):
		return errStoreFull, true
	}
	return nil, false
}

// failure is the answer to an internal error: 503 when a store is
// unavailable or full (logged once per outage by the store's bulkhead,
// not here), otherwise 500 server_error, logged at Error with msg and
// attrs.
func (p *Provider) failure(ctx context.Context, msg string, err error, attrs ...any) *Error {
	if e, ok := unavailable(err); ok {
		return e
	}
	p.cfg.Logger.ErrorContext(ctx, msg, append(attrs, "err", err)...)
	return errServer
}

// storeAnswer reports whether err is one of the answers stores give by
// contract (record not found, consumed, revoked, exists, refused
// registration or credentials, slow down): the store answered. Any other
// error is the store's failure.
func storeAnswer(err error) bool {
	for _, s := range [...]error{store.ErrNotFound, store.ErrConsumed, store.ErrRevoked, store.ErrExists,
		store.ErrInvalidClient, store.ErrInvalidCredentials, store.ErrSlowDown} {
		if errors.Is(err, s) {
			return true
		}
	}
	return false
}
