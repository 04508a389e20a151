package grant

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/oauthkit/oauthkit/store"
)

// Reuse detection fails closed. When a replayed code or a reused refresh
// token calls for its whole grant to be revoked (RFC 9700 §4.14.2) and the
// store fails to, the request is refused with 503, not granted, and the
// revocation is kept pending in this process:
//
//   - retried in the background, 50 ms after the failure and then twice as
//     long after each, at most 2 seconds apart, for up to 10 minutes
//     (each attempt bounded by Config.Store.Timeout);
//   - retried at the next presentation of the reused token, which the
//     store still holds as consumed (it is what failed to be deleted), on
//     any instance;
//   - meanwhile this instance treats the family as revoked: its access
//     tokens are refused (401 invalid_token) and nothing more is issued in
//     it (503 until the revocation goes through, then invalid_grant).
//
// At most maxPendingRevocations families wait at once; beyond that a
// failed revocation is not queued (the next presentation still retries
// it), and the request is refused all the same.

// Bounds of the pending revocations.
const (
	maxPendingRevocations = 10_000
	revokeRetryFirst      = 50 * time.Millisecond
	revokeRetryMax        = 2 * time.Second
	revokeRetryFor        = 10 * time.Minute
)

// pendingRevocations are the families whose revocation failed, retried
// until it succeeds. A field of Provider, ready at its zero value.
type pendingRevocations struct {
	n       atomic.Int32 // len(fams), for the fast path of has
	mu      sync.Mutex
	fams    map[string]pendingRevocation
	running bool // the retry goroutine runs
}

type pendingRevocation struct {
	t      store.Token // the token whose reuse called for it: family, client, subject
	reason string
	since  time.Time
}

// has reports whether family waits for its revocation.
func (pr *pendingRevocations) has(family string) bool {
	if pr.n.Load() == 0 || family == "" {
		return false
	}
	pr.mu.Lock()
	defer pr.mu.Unlock()
	_, ok := pr.fams[family]
	return ok
}

// revokeFamily revokes a whole grant, reporting why. It returns nil once
// the family is revoked, and otherwise the answer to refuse the request
// with (503): the revocation is then pending, retried in the background
// and at the next presentation (see above).
func (p *Provider) revokeFamily(ctx context.Context, t store.Token, reason string) *Error {
	err := p.tokens.RevokeFamily(ctx, t.Family)
	if err == nil {
		p.revoked(ctx, t, reason)
		return nil
	}
	p.cfg.Logger.ErrorContext(ctx, "grant: revoking a token family failed; refusing the request and retrying the revocation",
		"family", t.Family, "client_id", t.ClientID, "reason", reason, "err", err)
	p.pending.add(p, t, reason)
	if e, ok := unavailable(err); ok {
		return e
	}
	return errUnavailable // fail closed whatever the error: the client may retry
}

// revoked reports a revoked family and forgets its pending revocation.
func (p *Provider) revoked(ctx context.Context, t store.Token, reason string) {
	p.pending.done(t.Family)
	p.forget(store.Change{Kind: store.ChangeFamily, Family: t.Family}) // validation_cache.go
	p.cfg.Logger.WarnContext(ctx, "grant: token family revoked", "family", t.Family, "client_id", t.ClientID, "reason", reason)
	p.emit(ctx, Event{Kind: EventRevoked, ClientID: t.ClientID, Subject: t.Subject, Family: t.Family, Reason: reason})
}

// familyPending is the answer to a request that would issue tokens in a
// family whose revocation is pending: it tries the revocation again, and
// refuses either way (invalid_grant once revoked, 503 while it fails).
// nil when the family is not pending.
func (p *Provider) familyPending(ctx context.Context, family string) *Error {
	if !p.pending.has(family) {
		return nil
	}
	p.pending.mu.Lock()
	pr := p.pending.fams[family]
	p.pending.mu.Unlock()
	if e := p.revokeFamily(ctx, pr.t, pr.reason); e != nil {
		return e
	}
	return errGrant("the grant was revoked")
}

// add keeps t's family pending and starts the retries if they are not
// running.
func (pr *pendingRevocations) add(p *Provider, t store.Token, reason string) {
	if t.Family == "" {
		return
	}
	pr.mu.Lock()
	defer pr.mu.Unlock()
	if _, ok := pr.fams[t.Family]; !ok {
		if len(pr.fams) >= maxPendingRevocations {
			return
		}
		if pr.fams == nil {
			pr.fams = make(map[string]pendingRevocation)
		}
		pr.fams[t.Family] = pendingRevocation{t: t, reason: reason, since: time.Now()}
		pr.n.Store(int32(len(pr.fams)))
	}
	if !pr.running {
		pr.running = true
		go pr.retry(p)
	}
}

func (pr *pendingRevocations) done(family string) {
	if pr.n.Load() == 0 {
		return
	}
	pr.mu.Lock()
	delete(pr.fams, family)
	pr.n.Store(int32(len(pr.fams)))
	pr.mu.Unlock()
}

// retry revokes the pending families, with backoff, until none is left.
func (pr *pendingRevocations) retry(p *Provider) {
	wait := revokeRetryFirst
	for {
		time.Sleep(wait)
		wait = min(2*wait, revokeRetryMax)
		pr.mu.Lock()
		batch := make([]pendingRevocation, 0, len(pr.fams))
		for fam, r := range pr.fams {
			if time.Since(r.since) > revokeRetryFor {
				delete(pr.fams, fam)
				p.cfg.Logger.Error("grant: gave up retrying a family revocation; it is retried when the reused token is presented again",
					"family", fam, "client_id", r.t.ClientID, "reason", r.reason)
				continue
			}
			batch = append(batch, r)
		}
		pr.n.Store(int32(len(pr.fams)))
		if len(batch) == 0 {
			pr.running = false
			pr.mu.Unlock()
			return
		}
		pr.mu.Unlock()
		ctx := context.Background()
		for _, r := range batch {
			if err := p.tokens.RevokeFamily(ctx, r.t.Family); err != nil {
				break // the store is still down: wait longer
			}
			p.revoked(ctx, r.t, r.reason)
		}
	}
}
