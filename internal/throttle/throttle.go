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
//
// It offers two disciplines. [Throttle.Reserve] takes an attempt before an
// expensive check (a password hash), so that N parallel requests check at
// most the limit. [Throttle.Wait] then [Throttle.Failed] or
// [Throttle.Succeeded] suit a cheap check that many legitimate requests
// run at once (a client secret's SHA-256): a correct secret takes nothing,
// however many are in flight, and every failure is charged in full,
// beyond the limit as a debt, so that parallel guesses buy a longer wait,
// not more guesses over time.
type Throttle struct {
	c          store.AttemptCounter
	pair, addr store.Limit
	now        func() time.Time
}

// New returns a Throttle counting in c, with the clock now.
func New(c store.AttemptCounter, pair, addr store.Limit, now func() time.Time) *Throttle {
	return &Throttle{c: c, pair: pair, addr: addr, now: now}
}

// keys returns the pair's key (empty for an empty account) and the
// address group's.
func (t *Throttle) keys(account, addr string) (pair, group string) {
	g := AddrGroup(addr)
	if account != "" {
		pair = Key("pair", account, g)
	}
	return pair, Key("addr", g)
}

// Wait reports how long account from addr must wait before its next
// attempt; zero means go ahead. It takes nothing. A counter error (or
// [ErrFull], when a failure could not be counted) is returned as is. An empty account
// consults the address limit only (for an account that does not exist, so
// that guessing names fills no table).
func (t *Throttle) Wait(ctx context.Context, account, addr string) (time.Duration, error) {
	pair, group := t.keys(account, addr)
	now := t.now()
	var w time.Duration
	if pair != "" {
		d, err := t.c.AttemptWait(ctx, pair, t.pair, now)
		if err != nil {
			return d, err
		}
		w = d
	}
	d, err := t.c.AttemptWait(ctx, group, t.addr, now)
	return max(w, d), err
}

// Failed charges a failed attempt that was checked without a
// reservation, in full, to the pair and to the address.
func (t *Throttle) Failed(ctx context.Context, account, addr string) error {
	pair, group := t.keys(account, addr)
	now := t.now()
	if pair != "" {
		if _, err := t.c.ChargeAttempt(ctx, pair, t.pair, now); err != nil {
			return err
		}
	}
	_, err := t.c.ChargeAttempt(ctx, group, t.addr, now)
	return err
}

// Succeeded clears account's count at addr after a check that needed no
// reservation.
func (t *Throttle) Succeeded(ctx context.Context, account, addr string) error {
	pair, _ := t.keys(account, addr)
	if pair == "" {
		return nil
	}
	return t.c.ResetAttempts(ctx, pair)
}

// Attempt is one reserved attempt. It counts as a failure unless
// Succeeded or Unused is called.
type Attempt struct {
	t                *Throttle
	pairKey, addrKey string // pairKey is empty for an address-only attempt
}

// Reserve takes an attempt for account from addr, before it is checked,
// from the pair's limit and then the address's. When either has none left
// now, Reserve takes nothing and returns how long to wait; a counter
// error (or [ErrFull]) is returned as is, with any wait it gave.
func (t *Throttle) Reserve(ctx context.Context, account, addr string) (*Attempt, time.Duration, error) {
	a := &Attempt{t: t}
	a.pairKey, a.addrKey = t.keys(account, addr)
	now := t.now()
	if a.pairKey != "" {
		if wait, err := t.take(ctx, a.pairKey, t.pair, now); err != nil || wait > 0 {
			return nil, wait, err
		}
	}
	if wait, err := t.take(ctx, a.addrKey, t.addr, now); err != nil || wait > 0 {
		if a.pairKey != "" {
			t.giveBack(ctx, a.pairKey, t.pair, now)
		}
		return nil, wait, err
	}
	return a, 0, nil
}

func (t *Throttle) take(ctx context.Context, key string, l store.Limit, now time.Time) (time.Duration, error) {
	return Take(ctx, t.c, key, l, now)
}

// Take takes one attempt under key in c if one is left at now: it charges
// one and gives it back at once if it was beyond the limit, so that of N
// racing takes on a bucket with k left exactly k stay, and a refused take
// costs nothing. It returns how long until an attempt is left: zero when
// this one was taken. It suits a plain rate limit on one key, such as
// requests per address.
func Take(ctx context.Context, c store.AttemptCounter, key string, l store.Limit, now time.Time) (time.Duration, error) {
	excess, err := c.ChargeAttempt(ctx, key, l, now)
	if err == nil && excess > 0 {
		err = giveBack(ctx, c, key, l, now)
	}
	return excess, err
}

func (t *Throttle) giveBack(ctx context.Context, key string, l store.Limit, now time.Time) error {
	return giveBack(ctx, t.c, key, l, now)
}

// giveBack refunds an attempt, even when the request that took it has
// ended meanwhile.
func giveBack(ctx context.Context, c store.AttemptCounter, key string, l store.Limit, now time.Time) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), refundTimeout)
	defer cancel()
	return c.RefundAttempt(ctx, key, l, now)
}

// Succeeded ends an attempt that proved the account's secret: the pair's
// count is cleared, and the address gets its attempt back.
func (a *Attempt) Succeeded(ctx context.Context) error {
	if a.pairKey != "" {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), refundTimeout)
		defer cancel()
		if err := a.t.c.ResetAttempts(ctx, a.pairKey); err != nil {
			return err
		}
	}
	return a.t.giveBack(ctx, a.addrKey, a.t.addr, a.t.now())
}

// Unused ends an attempt that was never checked (the server was busy, or a
// store failed): everything it took is given back.
func (a *Attempt) Unused(ctx context.Context) error {
	now := a.t.now()
	if a.pairKey != "" {
		if err := a.t.giveBack(ctx, a.pairKey, a.t.pair, now); err != nil {
			return err
		}
	}
	return a.t.giveBack(ctx, a.addrKey, a.t.addr, now)
}
