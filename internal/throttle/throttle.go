package throttle

import (
	"context"
	"time"

	"github.com/oauthkit/oauthkit/store"
)

// refundTimeout bounds how long giving back an attempt may take once the
// request that took it has ended.
const refundTimeout = 2 * time.Second

// Throttle limits attempts per (account, address group) pair, by Pair, and
// per address group across accounts, by Addr. Counting by pair means that
// nobody can lock an account out from another address; the per-address
// limit, higher, slows one address guessing across many accounts.
type Throttle struct {
	c          store.AttemptCounter
	pair, addr store.Limit
	now        func() time.Time
}

// New returns a Throttle counting in c, with the clock now.
func New(c store.AttemptCounter, pair, addr store.Limit, now func() time.Time) *Throttle {
	return &Throttle{c: c, pair: pair, addr: addr, now: now}
}

// Attempt is one reserved attempt. It counts as a failure unless
// Succeeded or Unused is called.
type Attempt struct {
	t                *Throttle
	pairKey, addrKey string // pairKey is empty for an address-only attempt
}

// Reserve takes an attempt for account from addr, before it is checked.
// An empty account takes from the address limit only (for an account that
// does not exist, so that guessing names fills no table). When the limits
// allow no attempt now, Reserve takes nothing and returns how long to wait;
// a counter error (or [ErrFull]) is returned as is, with any wait it gave.
func (t *Throttle) Reserve(ctx context.Context, account, addr string) (*Attempt, time.Duration, error) {
	group := AddrGroup(addr)
	a := &Attempt{t: t, addrKey: Key("addr", group)}
	now := t.now()
	if account != "" {
		a.pairKey = Key("pair", account, group)
		if wait, err := t.c.ReserveAttempt(ctx, a.pairKey, t.pair, now); err != nil || wait > 0 {
			return nil, wait, err
		}
	}
	wait, err := t.c.ReserveAttempt(ctx, a.addrKey, t.addr, now)
	if err != nil || wait > 0 {
		if a.pairKey != "" {
			_ = t.c.RefundAttempt(detach(ctx), a.pairKey, t.pair, now)
		}
		return nil, wait, err
	}
	return a, 0, nil
}

// Succeeded ends an attempt that proved the account's secret: the pair's
// count is cleared, and the address gets its attempt back.
func (a *Attempt) Succeeded(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(detach(ctx), refundTimeout)
	defer cancel()
	if a.pairKey != "" {
		if err := a.t.c.ResetAttempts(ctx, a.pairKey); err != nil {
			return err
		}
	}
	return a.t.c.RefundAttempt(ctx, a.addrKey, a.t.addr, a.t.now())
}

// Unused ends an attempt that was never checked (the server was busy, or a
// store failed): everything it took is given back.
func (a *Attempt) Unused(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(detach(ctx), refundTimeout)
	defer cancel()
	now := a.t.now()
	if a.pairKey != "" {
		if err := a.t.c.RefundAttempt(ctx, a.pairKey, a.t.pair, now); err != nil {
			return err
		}
	}
	return a.t.c.RefundAttempt(ctx, a.addrKey, a.t.addr, now)
}

// detach keeps ctx's values but not its end: an attempt is given back
// even when the request that took it was cancelled meanwhile.
func detach(ctx context.Context) context.Context { return context.WithoutCancel(ctx) }
