package grant

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/oauthkit/oauthkit/internal/throttle"
	"github.com/oauthkit/oauthkit/store"
)

// Throttle configures brute-force throttling of password and client-secret
// checks (RFC 6749 §10.10, RFC 9700 §4.1). Every attempt is reserved before
// it is checked, per (account, address) and per address, IPv6 addresses
// counted per /64; a success gives back what it took. The zero value is
// the default.
type Throttle struct {
	// Counter keeps the counts. Default: Config.Tokens when it implements
	// store.AttemptCounter (the PostgreSQL and Redis stores), so that
	// every instance sharing the store shares the counts; otherwise a
	// table in this process, bounded by TableBytes.
	Counter store.AttemptCounter
	// PerAccount limits attempts at one account (a username, as the
	// UserStore's store.AccountKeyer names it, or a client) from one
	// address. Default 5 at once, then one per minute; a success clears
	// it.
	PerAccount store.Limit
	// PerAddress limits attempts from one address across accounts.
	// Default 30 at once, then one per 30 seconds; a success gives its
	// attempt back, so only failures use it up.
	PerAddress store.Limit
	// MaxPasswordChecks bounds the password hashes computed at once
	// (argon2id at its default cost takes 64 MiB each). A password check
	// beyond it is answered at once with 503 temporarily_unavailable and
	// Retry-After: 1 rather than queued. Default 4.
	MaxPasswordChecks int
	// TableBytes bounds the in-process table. Default 16 MiB (about
	// 100,000 keys).
	TableBytes int
}

// The default limits.
var (
	pairAttempts = store.Limit{Burst: 5, Every: time.Minute}
	addrAttempts = store.Limit{Burst: 30, Every: 30 * time.Second}
)

const defaultPasswordChecks = 4

func (t *Throttle) setDefaults(tokens store.TokenStore) error {
	if t.MaxPasswordChecks < 0 || t.TableBytes < 0 {
		return errors.New("grant: Throttle.MaxPasswordChecks and TableBytes must not be negative")
	}
	if t.Counter == nil {
		if c, ok := tokens.(store.AttemptCounter); ok {
			t.Counter = c
		} else {
			t.Counter = throttle.NewTable(t.TableBytes)
		}
	}
	if t.PerAccount == (store.Limit{}) {
		t.PerAccount = pairAttempts
	}
	if t.PerAddress == (store.Limit{}) {
		t.PerAddress = addrAttempts
	}
	for _, l := range []*store.Limit{&t.PerAccount, &t.PerAddress} {
		if l.Burst < 1 || l.Every <= 0 {
			return fmt.Errorf("grant: Throttle limits need Burst ≥ 1 and a positive Every, not %+v", *l)
		}
	}
	if t.MaxPasswordChecks == 0 {
		t.MaxPasswordChecks = defaultPasswordChecks
	}
	return nil
}

func newThrottle(cfg *Config) *throttle.Throttle {
	return throttle.New(cfg.Throttle.Counter, cfg.Throttle.PerAccount, cfg.Throttle.PerAddress, cfg.Now)
}

// reserve takes an attempt for account from addr before it is checked
// (account "" for an address-only attempt). A refusal is the answer to
// send: 429 slow_down with Retry-After while throttled, 503 when the
// in-process table cannot count more or the counter's store is unavailable,
// 500 when the counter fails otherwise.
func (p *Provider) reserve(ctx context.Context, account, addr string) (*throttle.Attempt, *Error) {
	a, wait, err := p.throttle.Reserve(ctx, account, addr)
	switch {
	case errors.Is(err, throttle.ErrFull):
		return nil, errBusy(wait)
	case err != nil:
		return nil, p.counterFailure(ctx, err)
	case wait > 0:
		return nil, errSlowDown(wait)
	}
	return a, nil
}

// throttleWait refuses an attempt for account from addr while it must
// wait, before anything is checked, without taking anything.
func (p *Provider) throttleWait(ctx context.Context, account, addr string) *Error {
	wait, err := p.throttle.Wait(ctx, account, addr)
	return p.waitError(ctx, wait, err)
}

// waitError is the answer to a request that a counter says must wait
// (nil when it need not): 429 slow_down while throttled, 503 when the
// in-process table cannot count more or the counter's store is unavailable,
// 500 when the counter fails otherwise.
func (p *Provider) waitError(ctx context.Context, wait time.Duration, err error) *Error {
	switch {
	case errors.Is(err, throttle.ErrFull):
		return errBusy(wait)
	case err != nil:
		return p.counterFailure(ctx, err)
	case wait > 0:
		return errSlowDown(wait)
	}
	return nil
}

// throttleFailed charges a failed check; throttleSucceeded clears the
// count after a successful one.
func (p *Provider) throttleFailed(ctx context.Context, account, addr string) {
	if err := p.throttle.Failed(ctx, account, addr); err != nil && !errors.Is(err, throttle.ErrFull) {
		p.logCounterError(ctx, err)
	}
}

func (p *Provider) throttleSucceeded(ctx context.Context, account, addr string) {
	if err := p.throttle.Succeeded(ctx, account, addr); err != nil {
		p.logCounterError(ctx, err)
	}
}

// settle ends attempt a when it did not fail: cleared when it succeeded,
// given back when it was never checked. A failure needs nothing: the
// attempt stays taken.
func (p *Provider) settle(ctx context.Context, a *throttle.Attempt, succeeded bool) {
	var err error
	if succeeded {
		err = a.Succeeded(ctx)
	} else {
		err = a.Unused(ctx)
	}
	if err != nil {
		p.logCounterError(ctx, err)
	}
}

// counterFailure is the answer to a request whose throttle counter failed:
// 503 while its store is unavailable (logged once by its bulkhead), else
// 500, logged.
func (p *Provider) counterFailure(ctx context.Context, err error) *Error {
	if e, ok := unavailable(err); ok {
		return e
	}
	p.logCounterError(ctx, err)
	return errServer
}

// logCounterError logs a failure of the throttle's counter at Error,
// sampled: when a shared store is down, every request would say so. An
// unavailable store is logged once per outage by its bulkhead instead.
func (p *Provider) logCounterError(ctx context.Context, err error) {
	if _, ok := unavailable(err); ok {
		return
	}
	if ok, held := p.logs.Allow("counter error"); ok {
		p.cfg.Logger.ErrorContext(ctx, "grant: throttle counter failed", "err", err, "suppressed", held)
	}
}

// errSlowDown is the answer while an account or address is throttled: 429
// (RFC 6585) with Retry-After and the slow_down code.
func errSlowDown(wait time.Duration) *Error {
	e := newError(http.StatusTooManyRequests, CodeSlowDown, "too many failed attempts; retry later")
	e.retryAfter = wait
	return e
}

// errBusy is the answer when the server cannot take on the check now: 503
// temporarily_unavailable with Retry-After. Not 429, which would blame the
// caller: this is the server's capacity, spent by others.
func errBusy(wait time.Duration) *Error {
	e := newError(http.StatusServiceUnavailable, CodeTemporarilyUnavailable, "the server is busy; retry shortly")
	e.retryAfter = max(wait, time.Second)
	return e
}
