package storetest

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/oauthkit/oauthkit/store"
)

// RunDeviceStore runs the part of the suite that checks the contract
// written on [store.DeviceStore], against the stores newStore returns (one
// per subtest, empty). [Run] calls it for a store that implements the
// capability; a store of device grants alone may call it directly.
func RunDeviceStore(t *testing.T, newStore func(t *testing.T) store.DeviceStore) {
	t.Helper()
	for _, tc := range []struct {
		name string
		fn   func(*testing.T, store.DeviceStore)
	}{
		{"RoundTrip", testDeviceRoundTrip},
		{"NotFound", testDeviceNotFound},
		{"Exists", testDeviceExists},
		{"Expired", testDeviceExpired},
		{"OtherClient", testDeviceOtherClient},
		{"SlowDown", testDeviceSlowDown},
		{"Decide", testDeviceDecide},
		{"RedeemOnce", testDeviceRedeemOnce},
		{"RedeemConcurrent", testDeviceRedeemConcurrent},
		{"DecideConcurrent", testDeviceDecideConcurrent},
		{"ContextCanceled", testDeviceContextCanceled},
	} {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, newStore(t)) })
	}
}

// testDevices runs RunDeviceStore's tests when s has the capability.
func testDevices(t *testing.T, newStore func(t *testing.T) Store) {
	probe, ok := newStore(t).(store.DeviceStore)
	if !ok || probe == nil {
		t.Skip("store does not implement store.DeviceStore (no device authorization grant)")
	}
	RunDeviceStore(t, func(t *testing.T) store.DeviceStore { return newStore(t).(store.DeviceStore) })
}

// deviceT0 is a test's clock reading: close to the real time, because a
// store may also expire entries by its own clock (Redis does).
func deviceT0() time.Time { return time.Now().Truncate(time.Millisecond) }

// newDeviceGrant returns a pending grant of client-1 issued at t0, living
// an hour, polled every 5 s.
func newDeviceGrant(t0 time.Time) store.DeviceGrant {
	return store.DeviceGrant{
		DeviceCodeHash: store.HashSecret(rawToken()),
		UserCodeHash:   store.HashSecret(rawToken()),
		ClientID:       "client-1",
		Scopes:         []string{"read", "write"},
		Family:         newFamily(),
		IssuedAt:       t0,
		ExpiresAt:      t0.Add(time.Hour),
		Interval:       5 * time.Second,
		Status:         store.DevicePending,
	}
}

func createDevice(t testing.TB, s store.DeviceStore, g store.DeviceGrant) {
	t.Helper()
	if err := s.CreateDeviceGrant(t.Context(), &g); err != nil {
		t.Fatalf("CreateDeviceGrant: %v", err)
	}
}

// checkDevice fails the test unless got equals want field by field: times
// to the millisecond (AuthTime to the second), lists as sameStrings does,
// every other field exactly.
func checkDevice(t testing.TB, got, want store.DeviceGrant) {
	t.Helper()
	for _, p := range [][2]time.Time{{got.IssuedAt, want.IssuedAt}, {got.ExpiresAt, want.ExpiresAt}, {got.LastPolledAt, want.LastPolledAt}} {
		if p[0].IsZero() != p[1].IsZero() || !sameTime(p[0], p[1]) {
			t.Errorf("times = %v, %v, %v; want %v, %v, %v", got.IssuedAt, got.ExpiresAt, got.LastPolledAt, want.IssuedAt, want.ExpiresAt, want.LastPolledAt)
			break
		}
	}
	if !sameSecond(got.AuthTime, want.AuthTime) {
		t.Errorf("AuthTime = %v, want %v", got.AuthTime, want.AuthTime)
	}
	if d := got.Interval - want.Interval; d >= time.Millisecond || d <= -time.Millisecond {
		t.Errorf("Interval = %v, want %v", got.Interval, want.Interval)
	}
	g, w := got, want
	for _, d := range []*store.DeviceGrant{&g, &w} {
		d.IssuedAt, d.ExpiresAt, d.LastPolledAt, d.AuthTime, d.Interval = time.Time{}, time.Time{}, time.Time{}, time.Time{}, 0
	}
	if !equalNormalized(&g, &w) {
		t.Errorf("grant = %+v\nwant    %+v", got, want)
	}
}

func lookup(t testing.TB, s store.DeviceStore, h store.Hash, now time.Time) store.DeviceGrant {
	t.Helper()
	g, err := s.DeviceGrantByUserCode(t.Context(), h, now)
	if err != nil {
		t.Fatalf("DeviceGrantByUserCode: %v", err)
	}
	return g
}

// testDeviceRoundTrip stores a grant and reads every field back, through
// the lookup by user code and through polls, before and after approval.
func testDeviceRoundTrip(t *testing.T, s store.DeviceStore) {
	ctx := t.Context()
	t0 := deviceT0()
	want := newDeviceGrant(t0)
	want.Scopes = []string{"a", "b:c", "https://api.example/x", "ü"}
	createDevice(t, s, want)
	checkDevice(t, lookup(t, s, want.UserCodeHash, t0), want)

	got, err := s.PollDeviceGrant(ctx, want.DeviceCodeHash, want.ClientID, t0.Add(time.Second))
	if err != nil {
		t.Fatalf("first poll: %v", err)
	}
	want.LastPolledAt = t0.Add(time.Second)
	checkDevice(t, got, want)
	checkDevice(t, lookup(t, s, want.UserCodeHash, t0.Add(time.Second)), want)

	auth := t0.Add(-time.Minute)
	d := store.DeviceDecision{Approved: true, Subject: "user-42", Username: "alice", AuthTime: auth}
	if err := s.DecideDeviceGrant(ctx, want.UserCodeHash, d, t0.Add(2*time.Second)); err != nil {
		t.Fatalf("DecideDeviceGrant: %v", err)
	}
	want.Status, want.Subject, want.Username, want.AuthTime = store.DeviceApproved, "user-42", "alice", auth
	checkDevice(t, lookup(t, s, want.UserCodeHash, t0.Add(2*time.Second)), want)

	// A grant with no scopes, decided without a user's auth time.
	bare := newDeviceGrant(t0)
	bare.Scopes = nil
	createDevice(t, s, bare)
	if err := s.DecideDeviceGrant(ctx, bare.UserCodeHash, store.DeviceDecision{Subject: "u", Username: "bob"}, t0); err != nil {
		t.Fatal(err)
	}
	bare.Status, bare.Subject, bare.Username = store.DeviceDenied, "u", "bob"
	checkDevice(t, lookup(t, s, bare.UserCodeHash, t0), bare)
}

func testDeviceNotFound(t *testing.T, s store.DeviceStore) {
	ctx := t.Context()
	t0 := deviceT0()
	createDevice(t, s, newDeviceGrant(t0)) // another grant, that must not be found
	h := store.HashSecret(rawToken())
	if _, err := s.DeviceGrantByUserCode(ctx, h, t0); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("DeviceGrantByUserCode(unknown) err = %v, want ErrNotFound", err)
	}
	if err := s.DecideDeviceGrant(ctx, h, store.DeviceDecision{Approved: true, Subject: "u"}, t0); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("DecideDeviceGrant(unknown) err = %v, want ErrNotFound", err)
	}
	if _, err := s.PollDeviceGrant(ctx, h, "client-1", t0); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("PollDeviceGrant(unknown) err = %v, want ErrNotFound", err)
	}
}

// testDeviceExists: neither code may be taken twice by live grants, and
// nothing of a refused grant is stored; a code of an expired grant may be
// given out again.
func testDeviceExists(t *testing.T, s store.DeviceStore) {
	ctx := t.Context()
	t0 := deviceT0()
	g := newDeviceGrant(t0)
	createDevice(t, s, g)
	sameDevice := newDeviceGrant(t0)
	sameDevice.DeviceCodeHash = g.DeviceCodeHash
	if err := s.CreateDeviceGrant(ctx, &sameDevice); !errors.Is(err, store.ErrExists) {
		t.Errorf("same device code: %v, want ErrExists", err)
	}
	if _, err := s.DeviceGrantByUserCode(ctx, sameDevice.UserCodeHash, t0); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a refused grant was stored under its user code: %v", err)
	}
	sameUser := newDeviceGrant(t0)
	sameUser.UserCodeHash = g.UserCodeHash
	if err := s.CreateDeviceGrant(ctx, &sameUser); !errors.Is(err, store.ErrExists) {
		t.Errorf("same user code: %v, want ErrExists", err)
	}
	if _, err := s.PollDeviceGrant(ctx, sameUser.DeviceCodeHash, sameUser.ClientID, t0); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a refused grant was stored under its device code: %v", err)
	}
	checkDevice(t, lookup(t, s, g.UserCodeHash, t0), g)

	// Once g has expired, its user code may be reused.
	later := newDeviceGrant(g.ExpiresAt)
	later.UserCodeHash = g.UserCodeHash
	if err := s.CreateDeviceGrant(ctx, &later); err != nil {
		t.Fatalf("the user code of an expired grant: %v, want it free", err)
	}
	checkDevice(t, lookup(t, s, g.UserCodeHash, g.ExpiresAt), later)
}

// testDeviceExpired: at ExpiresAt a grant is gone for every method,
// whatever its status.
func testDeviceExpired(t *testing.T, s store.DeviceStore) {
	ctx := t.Context()
	t0 := deviceT0()
	pending, approved := newDeviceGrant(t0), newDeviceGrant(t0)
	createDevice(t, s, pending)
	createDevice(t, s, approved)
	if err := s.DecideDeviceGrant(ctx, approved.UserCodeHash, store.DeviceDecision{Approved: true, Subject: "u"}, t0); err != nil {
		t.Fatal(err)
	}
	just := pending.ExpiresAt.Add(-time.Millisecond)
	lookup(t, s, pending.UserCodeHash, just)
	for _, g := range []store.DeviceGrant{pending, approved} {
		at := g.ExpiresAt
		if _, err := s.DeviceGrantByUserCode(ctx, g.UserCodeHash, at); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("lookup at expiry: %v, want ErrNotFound", err)
		}
		if err := s.DecideDeviceGrant(ctx, g.UserCodeHash, store.DeviceDecision{Approved: true, Subject: "u"}, at); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("decision at expiry: %v, want ErrNotFound", err)
		}
		if _, err := s.PollDeviceGrant(ctx, g.DeviceCodeHash, g.ClientID, at); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("poll at expiry: %v, want ErrNotFound", err)
		}
	}
	// Expiry did not redeem the approved grant: just before, it still
	// gives its tokens once.
	if got, err := s.PollDeviceGrant(ctx, approved.DeviceCodeHash, approved.ClientID, just); err != nil || got.Status != store.DeviceApproved {
		t.Errorf("poll before expiry: %v %v, want approved", got.Status, err)
	}
	// A grant stored already expired is never found.
	old := newDeviceGrant(t0.Add(-2 * time.Hour))
	createDevice(t, s, old)
	if _, err := s.DeviceGrantByUserCode(ctx, old.UserCodeHash, t0); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a grant stored expired: %v, want ErrNotFound", err)
	}
}

// testDeviceOtherClient: another client's poll is refused and changes
// nothing, not even the poll time.
func testDeviceOtherClient(t *testing.T, s store.DeviceStore) {
	ctx := t.Context()
	t0 := deviceT0()
	g := newDeviceGrant(t0)
	createDevice(t, s, g)
	if err := s.DecideDeviceGrant(ctx, g.UserCodeHash, store.DeviceDecision{Approved: true, Subject: "u"}, t0); err != nil {
		t.Fatal(err)
	}
	for _, other := range []string{"client-2", "", "CLIENT-1", "client-1 "} {
		if _, err := s.PollDeviceGrant(ctx, g.DeviceCodeHash, other, t0); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("poll by %q: %v, want ErrNotFound", other, err)
		}
	}
	got := lookup(t, s, g.UserCodeHash, t0)
	if got.Status != store.DeviceApproved || !got.LastPolledAt.IsZero() {
		t.Errorf("after other clients' polls: status %v, polled at %v; want approved, never polled", got.Status, got.LastPolledAt)
	}
	if got, err := s.PollDeviceGrant(ctx, g.DeviceCodeHash, g.ClientID, t0); err != nil || got.Status != store.DeviceApproved {
		t.Errorf("poll by its client: %v %v, want approved", got.Status, err)
	}
}

// testDeviceSlowDown: a poll sooner than the interval raises it by 5 s,
// for every later poll too (RFC 8628 §3.5).
func testDeviceSlowDown(t *testing.T, s store.DeviceStore) {
	ctx := t.Context()
	t0 := deviceT0()
	g := newDeviceGrant(t0)
	createDevice(t, s, g)
	for i, step := range []struct {
		at       time.Duration
		slow     bool
		interval time.Duration
	}{
		{0, false, 5 * time.Second},                 // the first poll is never early
		{5 * time.Second, false, 5 * time.Second},   // exactly one interval later
		{9 * time.Second, true, 10 * time.Second},   // 4 s after: early
		{18 * time.Second, true, 15 * time.Second},  // 9 s after, interval 10 s: early again
		{33 * time.Second, false, 15 * time.Second}, // 15 s after: on time; the interval stays raised
		{47 * time.Second, true, 20 * time.Second},
	} {
		got, err := s.PollDeviceGrant(ctx, g.DeviceCodeHash, g.ClientID, t0.Add(step.at))
		switch {
		case step.slow && !errors.Is(err, store.ErrSlowDown), !step.slow && err != nil:
			t.Fatalf("poll %d at +%v: %v, want slow down %v", i, step.at, err, step.slow)
		case got.Interval != step.interval || got.Status != store.DevicePending || !sameTime(got.LastPolledAt, t0.Add(step.at)):
			t.Fatalf("poll %d at +%v: interval %v, status %v, polled at %v; want %v, pending, +%v",
				i, step.at, got.Interval, got.Status, got.LastPolledAt, step.interval, step.at)
		}
	}
	// Approved, an early poll gets its tokens: slow_down is for pending grants.
	if err := s.DecideDeviceGrant(ctx, g.UserCodeHash, store.DeviceDecision{Approved: true, Subject: "u"}, t0); err != nil {
		t.Fatal(err)
	}
	if got, err := s.PollDeviceGrant(ctx, g.DeviceCodeHash, g.ClientID, t0.Add(48*time.Second)); err != nil || got.Status != store.DeviceApproved {
		t.Fatalf("early poll of an approved grant: %v %v, want approved", got.Status, err)
	}
}

// testDeviceDecide: one answer per grant; denied grants answer every poll
// as denied; a decision's scopes replace those asked for.
func testDeviceDecide(t *testing.T, s store.DeviceStore) {
	ctx := t.Context()
	t0 := deviceT0()
	g := newDeviceGrant(t0)
	createDevice(t, s, g)
	yes := store.DeviceDecision{Approved: true, Subject: "u1", Username: "alice", Scopes: []string{"read"}}
	if err := s.DecideDeviceGrant(ctx, g.UserCodeHash, yes, t0); err != nil {
		t.Fatal(err)
	}
	no := store.DeviceDecision{Subject: "u2", Username: "mallory"}
	if err := s.DecideDeviceGrant(ctx, g.UserCodeHash, no, t0); !errors.Is(err, store.ErrConsumed) {
		t.Errorf("a second answer: %v, want ErrConsumed", err)
	}
	got := lookup(t, s, g.UserCodeHash, t0)
	if got.Status != store.DeviceApproved || got.Subject != "u1" || len(got.Scopes) != 1 || got.Scopes[0] != "read" {
		t.Errorf("after the answers: %+v, want the first answer kept, scopes [read]", got)
	}

	d := newDeviceGrant(t0)
	createDevice(t, s, d)
	if err := s.DecideDeviceGrant(ctx, d.UserCodeHash, no, t0); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		got, err := s.PollDeviceGrant(ctx, d.DeviceCodeHash, d.ClientID, t0.Add(time.Duration(i)*time.Minute))
		if err != nil || got.Status != store.DeviceDenied || got.Subject != "u2" {
			t.Errorf("poll %d of a denied grant: %v %v, want denied", i, got.Status, err)
		}
	}
	if err := s.DecideDeviceGrant(ctx, d.UserCodeHash, yes, t0); !errors.Is(err, store.ErrConsumed) {
		t.Errorf("approving a denied grant: %v, want ErrConsumed", err)
	}
}

// testDeviceRedeemOnce: the poll that finds a grant approved redeems it;
// every later one gets ErrConsumed with the grant, its family included.
func testDeviceRedeemOnce(t *testing.T, s store.DeviceStore) {
	ctx := t.Context()
	t0 := deviceT0()
	g := newDeviceGrant(t0)
	createDevice(t, s, g)
	if got, err := s.PollDeviceGrant(ctx, g.DeviceCodeHash, g.ClientID, t0); err != nil || got.Status != store.DevicePending {
		t.Fatalf("poll before the answer: %v %v, want pending", got.Status, err)
	}
	if err := s.DecideDeviceGrant(ctx, g.UserCodeHash, store.DeviceDecision{Approved: true, Subject: "u", Username: "alice"}, t0); err != nil {
		t.Fatal(err)
	}
	got, err := s.PollDeviceGrant(ctx, g.DeviceCodeHash, g.ClientID, t0.Add(10*time.Second))
	if err != nil || got.Status != store.DeviceApproved || got.Subject != "u" || got.Family != g.Family {
		t.Fatalf("poll after approval: %+v %v, want approved with the user and family", got, err)
	}
	for i := range 2 {
		again, err := s.PollDeviceGrant(ctx, g.DeviceCodeHash, g.ClientID, t0.Add(time.Duration(20+10*i)*time.Second))
		if !errors.Is(err, store.ErrConsumed) || again.Status != store.DeviceRedeemed || again.Family != g.Family {
			t.Fatalf("poll %d after redemption: %v %v family %q, want ErrConsumed, redeemed, %q", i, again.Status, err, again.Family, g.Family)
		}
	}
	if s := lookup(t, s, g.UserCodeHash, t0).Status; s != store.DeviceRedeemed {
		t.Errorf("status after redemption: %v", s)
	}
}

// testDeviceRedeemConcurrent: of many racing polls of an approved grant,
// exactly one sees it approved.
func testDeviceRedeemConcurrent(t *testing.T, s store.DeviceStore) {
	t0 := deviceT0()
	g := newDeviceGrant(t0)
	createDevice(t, s, g)
	if err := s.DecideDeviceGrant(t.Context(), g.UserCodeHash, store.DeviceDecision{Approved: true, Subject: "u"}, t0); err != nil {
		t.Fatal(err)
	}
	const n = 30
	errs := make([]error, n)
	status := make([]store.DeviceStatus, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			got, err := s.PollDeviceGrant(t.Context(), g.DeviceCodeHash, g.ClientID, t0.Add(time.Second))
			errs[i], status[i] = err, got.Status
		})
	}
	close(start)
	wg.Wait()
	won := 0
	for i, err := range errs {
		switch {
		case err == nil && status[i] == store.DeviceApproved:
			won++
		case errors.Is(err, store.ErrConsumed):
		default:
			t.Errorf("racing poll: %v %v, want approved or ErrConsumed", status[i], err)
		}
	}
	if won != 1 {
		t.Fatalf("%d of %d racing polls saw the grant approved, want exactly 1", won, n)
	}
}

// testDeviceDecideConcurrent: of many racing answers, exactly one is kept,
// and it is the one the grant shows.
func testDeviceDecideConcurrent(t *testing.T, s store.DeviceStore) {
	t0 := deviceT0()
	g := newDeviceGrant(t0)
	createDevice(t, s, g)
	const n = 30
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			d := store.DeviceDecision{Approved: i%2 == 0, Subject: "user-" + string(rune('a'+i))}
			errs[i] = s.DecideDeviceGrant(t.Context(), g.UserCodeHash, d, t0)
		})
	}
	close(start)
	wg.Wait()
	winner := -1
	for i, err := range errs {
		switch {
		case err == nil && winner >= 0:
			t.Fatalf("answers %d and %d were both kept", winner, i)
		case err == nil:
			winner = i
		case !errors.Is(err, store.ErrConsumed):
			t.Errorf("racing answer: %v, want nil or ErrConsumed", err)
		}
	}
	if winner < 0 {
		t.Fatal("no answer was kept")
	}
	got := lookup(t, s, g.UserCodeHash, t0)
	want := store.DeviceDenied
	if winner%2 == 0 {
		want = store.DeviceApproved
	}
	if got.Status != want || got.Subject != "user-"+string(rune('a'+winner)) {
		t.Fatalf("grant shows %v by %q, want the kept answer %d (%v)", got.Status, got.Subject, winner, want)
	}
}

// testDeviceContextCanceled calls every method with a canceled context:
// each should return an error wrapping context.Canceled.
func testDeviceContextCanceled(t *testing.T, s store.DeviceStore) {
	t0 := deviceT0()
	g := newDeviceGrant(t0)
	createDevice(t, s, g)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	fresh := newDeviceGrant(t0)
	for name, call := range map[string]func() error{
		"CreateDeviceGrant": func() error { return s.CreateDeviceGrant(ctx, &fresh) },
		"DeviceGrantByUserCode": func() error {
			_, err := s.DeviceGrantByUserCode(ctx, g.UserCodeHash, t0)
			return err
		},
		"DecideDeviceGrant": func() error {
			return s.DecideDeviceGrant(ctx, g.UserCodeHash, store.DeviceDecision{Approved: true, Subject: "u"}, t0)
		},
		"PollDeviceGrant": func() error {
			_, err := s.PollDeviceGrant(ctx, g.DeviceCodeHash, g.ClientID, t0)
			return err
		},
	} {
		if err := call(); !errors.Is(err, context.Canceled) {
			t.Errorf("%s with a canceled context: %v, want an error wrapping context.Canceled", name, err)
		}
	}
	if got := lookup(t, s, g.UserCodeHash, t0); got.Status != store.DevicePending || !got.LastPolledAt.IsZero() {
		t.Errorf("canceled calls changed the grant: %+v", got)
	}
}
