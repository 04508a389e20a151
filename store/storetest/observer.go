package storetest

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/oauthkit/oauthkit/store"
)

// RunObserver checks a backend's [store.Observer] hook: newStore returns
// an empty store that reports its calls to obs (the backend's WithObserver
// option). Every method of every store capability the store has
// (ClientRegistry, TokenStore, UserStore, AttemptCounter, ReplayCache,
// DeviceStore, Pinger, and Clean where it exists) is called once, and must report
// exactly one call, under its own name, with the error it returned and a
// duration no longer than the call took. Calls that fail (a token not
// found, a canceled context) must be reported too.
func RunObserver(t *testing.T, newStore func(t *testing.T, obs store.Observer) Store) {
	t.Helper()
	rec := &recorder{}
	s := newStore(t, rec.observe)
	ctx := t.Context()
	now := deviceT0()
	tok, _ := newToken(store.KindRefresh, newFamily(), time.Hour)
	code, _ := newToken(store.KindCode, newFamily(), time.Hour)
	canceled, cancel := context.WithCancel(ctx)
	cancel()
	calls := []observedCall{
		{"CreateClient", func() error { return s.CreateClient(ctx, newClient("observed")) }},
		{"Client", func() error { _, err := s.Client(ctx, "observed"); return err }},
		{"Client", func() error { _, err := s.Client(ctx, "unknown"); return err }},
		{"Clients", func() error { _, err := s.Clients(ctx); return err }},
		{"UpdateClient", func() error { return s.UpdateClient(ctx, newClient("observed")) }},
		{"CreateToken", func() error { return s.CreateToken(ctx, &tok) }},
		{"CreateToken", func() error { return s.CreateToken(ctx, &code) }},
		{"CreateToken", func() error { return s.CreateToken(ctx, &tok) }},
		{"Token", func() error { _, err := s.Token(ctx, tok.Hash); return err }},
		{"Token", func() error { _, err := s.Token(ctx, store.HashSecret(rawToken())); return err }},
		{"Token", func() error { _, err := s.Token(canceled, tok.Hash); return err }},
		{"ConsumeToken", func() error { _, err := s.ConsumeToken(ctx, code.Hash); return err }},
		{"ConsumeToken", func() error { _, err := s.ConsumeToken(ctx, code.Hash); return err }},
		{"RevokeToken", func() error { return s.RevokeToken(ctx, tok.Hash) }},
		{"RevokeFamily", func() error { return s.RevokeFamily(ctx, code.Family) }},
		{"RevokeClient", func() error { return s.RevokeClient(ctx, tok.ClientID) }},
		{"DeleteClient", func() error { return s.DeleteClient(ctx, "observed") }},
	}
	if u, ok := s.(store.UserStore); ok {
		calls = append(calls, observedCall{"Authenticate", func() error { _, err := u.Authenticate(ctx, "nobody", "wrong"); return err }})
	}
	if a, ok := s.(store.AttemptCounter); ok {
		l, key := store.Limit{Burst: 2, Every: time.Minute}, "observed-"+rawToken()[4:20]
		calls = append(calls,
			observedCall{"AttemptWait", func() error { _, err := a.AttemptWait(ctx, key, l, now); return err }},
			observedCall{"ChargeAttempt", func() error { _, err := a.ChargeAttempt(ctx, key, l, now); return err }},
			observedCall{"RefundAttempt", func() error { return a.RefundAttempt(ctx, key, l, now) }},
			observedCall{"ResetAttempts", func() error { return a.ResetAttempts(ctx, key) }},
		)
	}
	if r, ok := s.(store.ReplayCache); ok {
		key := "observed-" + rawToken()[4:]
		calls = append(calls, observedCall{"UseOnce", func() error { _, err := r.UseOnce(ctx, key, now.Add(time.Hour)); return err }})
	}
	if d, ok := s.(store.DeviceStore); ok {
		g := newDeviceGrant(now)
		calls = append(calls,
			observedCall{"CreateDeviceGrant", func() error { return d.CreateDeviceGrant(ctx, &g) }},
			observedCall{"DeviceGrantByUserCode", func() error { _, err := d.DeviceGrantByUserCode(ctx, g.UserCodeHash, now); return err }},
			observedCall{"DecideDeviceGrant", func() error {
				return d.DecideDeviceGrant(ctx, g.UserCodeHash, store.DeviceDecision{Approved: true, Subject: "user-42", Scopes: g.Scopes}, now)
			}},
			observedCall{"PollDeviceGrant", func() error { _, err := d.PollDeviceGrant(ctx, g.DeviceCodeHash, g.ClientID, now); return err }},
		)
	}
	if p, ok := s.(store.Pinger); ok {
		calls = append(calls,
			observedCall{"Ping", func() error { return p.Ping(ctx) }},
			observedCall{"Ping", func() error { return p.Ping(canceled) }},
		)
	}
	if f, ok := s.(store.ChangeFeed); ok { // Subscribe lasts as long as the subscription: not observed
		calls = append(calls, observedCall{"Mark", func() error { return f.Mark(ctx, 1) }})
	}
	if c, ok := s.(interface{ Clean(context.Context) error }); ok {
		calls = append(calls, observedCall{"Clean", func() error { return c.Clean(ctx) }})
	}
	var failed int
	for i, c := range calls {
		rec.take() // forget background calls made since the last check
		start := time.Now()
		err := c.fn()
		took := time.Since(start)
		got := rec.take()
		if c.op != "Clean" {
			got = slices.DeleteFunc(got, func(o observation) bool { return o.op == "Clean" }) // a background cleanup
		}
		if err != nil {
			failed++
		}
		if len(got) != 1 {
			t.Errorf("call %d, %s: observed %d calls %v, want one", i, c.op, len(got), got)
			continue
		}
		o := got[0]
		if o.op != c.op {
			t.Errorf("call %d, %s: observed as %q", i, c.op, o.op)
		}
		if (o.err == nil) != (err == nil) || (err != nil && !errors.Is(o.err, err)) {
			t.Errorf("call %d, %s: observed error %v, the call returned %v", i, c.op, o.err, err)
		}
		if o.d < 0 || o.d > took {
			t.Errorf("call %d, %s: observed duration %v, the call took %v", i, c.op, o.d, took)
		}
	}
	if failed < 4 {
		t.Errorf("only %d calls failed: the test meant to observe failures (not found, exists, consumed, canceled)", failed)
	}
}

type observedCall struct {
	op string
	fn func() error
}

type observation struct {
	op  string
	d   time.Duration
	err error
}

// recorder is an Observer that keeps what it is told.
type recorder struct {
	mu  sync.Mutex
	obs []observation
}

func (r *recorder) observe(_ context.Context, op string, d time.Duration, err error) {
	r.mu.Lock()
	r.obs = append(r.obs, observation{op, d, err})
	r.mu.Unlock()
}

// take returns the observations since the last take.
func (r *recorder) take() []observation {
	r.mu.Lock()
	defer r.mu.Unlock()
	o := r.obs
	r.obs = nil
	return o
}
