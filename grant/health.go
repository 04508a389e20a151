package grant

import (
	"context"
	"errors"
	"net/http"
	"reflect"
	"time"

	"github.com/oauthkit/oauthkit/store"
)

// healthTimeout bounds a health check: a store that has not answered its
// ping by then is reported down.
const healthTimeout = 2 * time.Second

// HealthHandler returns a health endpoint for load balancers and
// orchestrators. GET (and HEAD) answers 200 {"status":"ok"} when
// Config.Tokens and Config.Clients each answer a ping within 2 seconds, and
// 503 {"status":"unavailable","reason":"the token store does not answer"}
// (or "the client store") when one does not, and
// {"status":"unavailable","reason":"the token store lost its data"} when
// its ping reports store.ErrReset (the server came back empty or from an
// older copy: see the store's README). A store is pinged if it
// implements store.Pinger, as every oauthkit backend does; one that does
// not counts as answering, and one object serving as both stores is pinged
// once. The reason never carries the store's error, which is logged at
// Error. Concurrent checks share one ping of each store, so a flood of
// checks against a hung store costs one waiting ping, not one per request.
//
// It is not among Routes: mount it where the host wants it (the example
// serves it at GET /healthz).
func (p *Provider) HealthHandler() http.Handler {
	return http.HandlerFunc(p.serveHealth)
}

func (p *Provider) serveHealth(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		writeError(w, newError(http.StatusMethodNotAllowed, CodeInvalidRequest, "this endpoint accepts GET and HEAD only"))
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), healthTimeout)
	defer cancel()
	for _, s := range p.pingers() {
		if err := p.ping(ctx, s.name, s.pinger); err != nil {
			reason := "the " + s.name + " does not answer"
			if errors.Is(err, store.ErrReset) {
				reason = "the " + s.name + " lost its data"
			}
			p.cfg.Logger.ErrorContext(ctx, "grant: health check: "+reason, "err", err)
			writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "unavailable", "reason": reason})
			return
		}
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

// namedPinger is a store to ping, and what to call it.
type namedPinger struct {
	name   string
	pinger store.Pinger
}

// pingers lists the stores that health checks ping.
func (p *Provider) pingers() []namedPinger {
	var out []namedPinger
	tp, tok := p.cfg.Tokens.(store.Pinger)
	if tok {
		out = append(out, namedPinger{"token store", tp})
	}
	if cp, ok := p.cfg.Clients.(store.Pinger); ok && !(tok && same(cp, tp)) {
		out = append(out, namedPinger{"client store", cp})
	}
	return out
}

// same reports whether a and b are one value, without the panic that ==
// gives on interfaces holding values of an incomparable type.
func same(a, b any) bool {
	ta, tb := reflect.TypeOf(a), reflect.TypeOf(b)
	return ta == tb && ta.Comparable() && a == b
}

// ping pings s, sharing one ping with the checks running at the same time.
// The ping runs on its own context (bounded by healthTimeout) so that the
// request that started it may go away; the caller waits at most until ctx
// is done.
func (p *Provider) ping(ctx context.Context, name string, s store.Pinger) error {
	ch := p.health.DoChan(name, func() (any, error) {
		pctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), healthTimeout)
		defer cancel()
		return nil, s.Ping(pctx)
	})
	select {
	case res := <-ch:
		return res.Err
	case <-ctx.Done():
		return ctx.Err()
	}
}
