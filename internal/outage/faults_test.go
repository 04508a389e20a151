package outage

import (
	"context"
	"log/slog"
	"os"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/oauthkit/oauthkit/grant"
	"github.com/oauthkit/oauthkit/internal/faultproxy"
)

// The load and the phases of a fault.
const (
	clients    = 8
	before     = 300 * time.Millisecond // of normal service under load
	faultFor   = time.Second
	resumeBy   = 2 * time.Second        // service resumes within this of the store's return
	margin     = 500 * time.Millisecond // beyond the budget: scheduling on a busy machine, -race
	pauseAfter = 10 * time.Millisecond  // a client's pause after a refusal
)

// fault is one way the store goes away.
type fault struct {
	name  string
	apply func(*faultproxy.Proxy) error
}

var faults = []fault{
	{"drop", (*faultproxy.Proxy).Drop},
	{"refuse", (*faultproxy.Proxy).Refuse},
	{"blackhole", (*faultproxy.Proxy).Blackhole},
	{"latency500ms", func(p *faultproxy.Proxy) error { return p.Latency(500 * time.Millisecond) }},
}

// TestFaults runs each fault against PostgreSQL and Redis under load: eight
// clients issuing client_credentials tokens and calling a RequireOAuth
// route with them. Every answer leaves within the requests' store budget
// (1.5 × Config.Store.Timeout) and a margin, and is 200 or 503 with
// Retry-After, never 500 nor a hang; after the store returns, 200s resume
// within 2 seconds; every token answered 200 still validates; the outage
// is logged a few times, not once per request; goroutines and heap come
// back to their baseline. The worst answer time of each fault is logged.
func TestFaults(t *testing.T) {
	for _, b := range []struct {
		name string
		open func(*testing.T) (backend, *faultproxy.Proxy)
	}{{"postgres", postgresBackend}, {"redis", redisBackend}} {
		t.Run(b.name, func(t *testing.T) {
			st, proxy := b.open(t)
			r := newRig(t, st, proxy, grant.StoreLimits{Timeout: storeTimeout})
			for _, f := range faults {
				t.Run(f.name, func(t *testing.T) { r.underFault(t, f) })
			}
		})
	}
}

// outcome is one request of the load.
type outcome struct {
	kind       string // "issue" or "validate"
	at         time.Time
	status     int
	retryAfter string
	took       time.Duration
	err        error
}

// load runs the clients until ctx is done; acked receives every token
// answered 200.
type load struct {
	mu       sync.Mutex
	outcomes []outcome
	acked    []string
}

func (l *load) run(ctx context.Context, r *rig) {
	var wg sync.WaitGroup
	for range clients {
		wg.Go(func() {
			for ctx.Err() == nil {
				a := r.issue(context.Background()) // not ctx: a request in flight ends on its own
				l.add("issue", a)
				if a.status != 200 {
					time.Sleep(pauseAfter)
					continue
				}
				tok := a.str("access_token")
				l.mu.Lock()
				l.acked = append(l.acked, tok)
				l.mu.Unlock()
				v := r.api(context.Background(), tok)
				l.add("validate", v)
				if v.status != 200 {
					time.Sleep(pauseAfter)
				}
			}
		})
	}
	wg.Wait()
}

func (l *load) add(kind string, a answer) {
	l.mu.Lock()
	l.outcomes = append(l.outcomes, outcome{kind, time.Now(), a.status, a.retryAfter, a.took, a.err})
	l.mu.Unlock()
}

// baseline returns the goroutine count, less the proxy's two per
// connection (the store's pool may hold more or fewer connections after an
// outage, within its bound), and the live heap.
func baseline(proxy *faultproxy.Proxy) (int, uint64) {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return runtime.NumGoroutine() - 2*proxy.Conns(), ms.HeapAlloc
}

func (r *rig) underFault(t *testing.T, f fault) {
	// Warm up (connections made, pools filled), then take the baseline
	// with the load stopped.
	warm, stop := context.WithTimeout(context.Background(), 200*time.Millisecond)
	(&load{}).run(warm, r)
	stop()
	r.client.CloseIdleConnections()
	goroutines, heap := baseline(r.proxy)
	r.logs.reset()

	l := &load{}
	ctx, stopLoad := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { l.run(ctx, r); close(done) }()
	time.Sleep(before)
	faultAt := time.Now()
	if err := f.apply(r.proxy); err != nil {
		t.Fatal(err)
	}
	time.Sleep(faultFor)
	if err := r.proxy.Pass(); err != nil {
		t.Fatal(err)
	}
	backAt := time.Now()
	// Until both issuance and validation have answered 200 again, or
	// resumeBy has passed.
	deadline := backAt.Add(resumeBy)
	for time.Now().Before(deadline) && (l.firstOK("issue", backAt).IsZero() || l.firstOK("validate", backAt).IsZero()) {
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(100 * time.Millisecond)
	stopLoad()
	<-done // the load is over: l is ours alone

	var worst time.Duration
	var refused, during, statuses = 0, 0, map[int]int{}
	for _, o := range l.outcomes {
		worst = max(worst, o.took)
		statuses[o.status]++
		switch {
		case o.err != nil:
			t.Errorf("%s: %v after %v", o.kind, o.err, o.took)
		case o.status == 503:
			refused++
			if o.retryAfter != "1" {
				t.Errorf("%s: 503 with Retry-After %q, want 1", o.kind, o.retryAfter)
			}
		case o.status != 200:
			t.Errorf("%s: status %d after %v, want 200 or 503", o.kind, o.status, o.took)
		}
		if o.at.After(faultAt.Add(budget+100*time.Millisecond)) && o.at.Before(backAt) {
			during++
			if o.status == 200 && f.name != "latency500ms" {
				t.Errorf("%s answered 200 %v into the outage", o.kind, o.at.Sub(faultAt))
			}
		}
	}
	if worst > budget+margin {
		t.Errorf("the slowest answer took %v, want at most %v (the budget, %v, and a margin)", worst, budget+margin, budget)
	}
	if refused == 0 || during == 0 {
		t.Errorf("%d answers were 503 and %d came during the outage: the fault had no effect", refused, during)
	}
	issueBack, validateBack := l.firstOK("issue", backAt), l.firstOK("validate", backAt)
	for kind, at := range map[string]time.Time{"issuance": issueBack, "validation": validateBack} {
		if at.IsZero() || at.Sub(backAt) > resumeBy {
			t.Errorf("%s did not answer 200 within %v of the store's return", kind, resumeBy)
		}
	}
	t.Logf("%s: %d requests %v, worst answer %v (budget %v), 200 again after %v (issue) and %v (validate)",
		f.name, len(l.outcomes), statuses, worst.Round(time.Millisecond), budget,
		issueBack.Sub(backAt).Round(time.Millisecond), validateBack.Sub(backAt).Round(time.Millisecond))

	// No acknowledged token lost.
	for _, tok := range l.acked {
		if _, err := r.p.ValidateToken(context.Background(), tok); err != nil {
			t.Errorf("a token answered 200 no longer validates: %v", err)
			break
		}
	}
	// The outage is logged once when it starts and once when it ends,
	// not per request.
	downs, ups := r.logs.count(slog.LevelError, "is unavailable"), r.logs.count(slog.LevelWarn, "answers again")
	if downs != 1 || ups != 1 {
		t.Errorf("the outage was logged %d times and its end %d times, for %d refusals; want once each", downs, ups, refused)
	}
	if n := r.logs.count(slog.LevelError, ""); n != downs {
		t.Errorf("%d records at Error for one outage, want %d", n, downs)
	}
	r.client.CloseIdleConnections()
	settle(t, r.proxy, goroutines, heap)
}

// firstOK returns the time of the first 200 of kind after from, or zero.
func (l *load) firstOK(kind string, from time.Time) time.Time {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, o := range l.outcomes {
		if o.kind == kind && o.status == 200 && o.at.After(from) {
			return o.at
		}
	}
	return time.Time{}
}

// settle waits up to 5 seconds for the goroutines and the live heap to be
// back within a little of their baseline.
func settle(t *testing.T, proxy *faultproxy.Proxy, goroutines int, heap uint64) {
	t.Helper()
	const slackG, slackHeap = 4, 8 << 20
	var g int
	var h uint64
	for deadline := time.Now().Add(5 * time.Second); ; {
		if g, h = baseline(proxy); g <= goroutines+slackG && h <= heap+slackHeap {
			return
		}
		if time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	buf := make([]byte, 1<<20)
	os.Stderr.Write(buf[:runtime.Stack(buf, true)])
	t.Errorf("after the outage: %d goroutines (baseline %d), heap %d KiB (baseline %d KiB)", g, goroutines, h>>10, heap>>10)
}
