package outage

import (
	"sync"
	"testing"
	"time"

	"github.com/oauthkit/oauthkit/grant"
)

// TestShedsLoad: with the store silent, at most Config.Store.MaxInFlight
// calls wait on it; the requests beyond are answered 503 with Retry-After
// at once rather than queued behind them.
func TestShedsLoad(t *testing.T) {
	st, proxy := postgresBackend(t)
	const maxInFlight, requests = 4, 16
	r := newRig(t, st, proxy, grant.StoreLimits{Timeout: storeTimeout, MaxInFlight: maxInFlight})
	if a := r.issue(t.Context()); a.status != 200 {
		t.Fatalf("before the outage: %d %v", a.status, a.body)
	}
	proxy.Blackhole()
	defer proxy.Pass()
	answers := make([]answer, requests)
	var wg sync.WaitGroup
	for i := range requests {
		wg.Go(func() { answers[i] = r.issue(t.Context()) })
	}
	wg.Wait()
	fast := 0
	for _, a := range answers {
		if a.status != 503 || a.retryAfter != "1" {
			t.Errorf("with the store silent: %d Retry-After %q, want 503 and 1", a.status, a.retryAfter)
		}
		if a.took < 100*time.Millisecond {
			fast++
		}
		if a.took > budget+margin {
			t.Errorf("an answer took %v", a.took)
		}
	}
	if fast < requests-maxInFlight {
		t.Errorf("%d of %d answers came at once, want at least %d (all but the %d calls in flight)", fast, requests, requests-maxInFlight, maxInFlight)
	}
	t.Logf("%d of %d requests refused at once; the others after about the %v deadline", fast, requests, storeTimeout)
}
