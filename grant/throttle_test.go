package grant

import (
	"bufio"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/oauthkit/oauthkit/store"
	"github.com/oauthkit/oauthkit/store/memory"
	"github.com/oauthkit/oauthkit/store/password"
)

// inFlightUsers counts password checks, and the most at once.
type inFlightUsers struct {
	store.UserStore
	n, now, peak atomic.Int64
}

func (u *inFlightUsers) Authenticate(ctx context.Context, name, pw string) (*store.User, error) {
	u.n.Add(1)
	cur := u.now.Add(1)
	defer u.now.Add(-1)
	for p := u.peak.Load(); cur > p && !u.peak.CompareAndSwap(p, cur); p = u.peak.Load() {
	}
	return u.UserStore.Authenticate(ctx, name, pw)
}

// loginRequest is a /login request from addr, served in process.
func loginRequest(h http.Handler, addr, username, pw string) *httptest.ResponseRecorder {
	r := httptest.NewRequest("POST", "/login", strings.NewReader(`{"username": "`+username+`", "password": "`+pw+`"}`))
	r.Header.Set("Content-Type", "application/json")
	r.Header.Set("X-Test-Addr", addr)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

// parallel runs n calls of fn at once and returns their statuses.
func parallel(n int, fn func(i int) int) map[int]int {
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		start = make(chan struct{})
		got   = map[int]int{}
	)
	for i := range n {
		wg.Go(func() {
			<-start
			s := fn(i)
			mu.Lock()
			got[s]++
			mu.Unlock()
		})
	}
	close(start)
	wg.Wait()
	return got
}

// TestParallelWrongPasswordsReserved: 40 parallel wrong passwords from one
// address reach the UserStore at most as often as the limits allow, for one
// account (the per-account burst) and across accounts (the per-address
// burst). Checking before counting let all 40 through.
func TestParallelWrongPasswordsReserved(t *testing.T) {
	users := &inFlightUsers{}
	f := newFixture(t, func(c *Config) {
		users.UserStore, c.Users = c.Users, users
		c.ClientAddr = testAddr
		c.Throttle.MaxPasswordChecks = 100 // the bound on hashes is another test's
	})
	h := f.p.LoginHandler()
	got := parallel(40, func(int) int { return loginRequest(h, "203.0.113.5", "user1", "guess").Code })
	if n := users.n.Load(); n > int64(pairAttempts.Burst) {
		t.Fatalf("40 parallel guesses at one account: %d reached the user store, limit %d (answers %v)", n, pairAttempts.Burst, got)
	}
	if got[http.StatusTooManyRequests] != 40-pairAttempts.Burst {
		t.Errorf("answers %v, want %d × 429", got, 40-pairAttempts.Burst)
	}
	users.n.Store(0)
	got = parallel(40, func(i int) int { return loginRequest(h, "203.0.113.6", "user"+strconv.Itoa(100+i), "guess").Code })
	if n := users.n.Load(); n > int64(addrAttempts.Burst) {
		t.Fatalf("40 parallel guesses across accounts from one address: %d checked, limit %d (answers %v)", n, addrAttempts.Burst, got)
	}
	// The password grant shares the counts.
	form := "grant_type=password&username=user1&password=password1"
	r := f.do("POST", "/oauth/token", "application/x-www-form-urlencoded", form, func(r *http.Request) {
		r.SetBasicAuth(appClient, f.secrets[appClient])
		r.Header.Set("X-Test-Addr", "203.0.113.5")
	})
	wantError(t, r, 429, CodeSlowDown)
}

// vmHWM reads the process's peak resident set size, in bytes, and resets
// the peak when reset is set (Linux's /proc/self/clear_refs). It reports
// false where that is not available.
func vmHWM(reset bool) (int64, bool) {
	if reset {
		if err := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0); err != nil {
			return 0, false
		}
	}
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0, false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if kb, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			n, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(kb, "kB")), 10, 64)
			return n << 10, err == nil
		}
	}
	return 0, false
}

// TestPasswordChecksBounded: 40 parallel logins from 40 addresses at 40
// accounts, with argon2id at its default cost (64 MiB a hash), run at most
// Throttle.MaxPasswordChecks hashes at once; the others are answered at
// once with 503 and Retry-After instead of queueing. The process's peak
// RSS stays bounded (unbounded, 40 hashes at once took 2.4 GB).
func TestPasswordChecksBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("hashes 64 MiB passwords")
	}
	st := memory.New(memory.WithPasswordParams(password.DefaultParams()))
	if err := st.AddUser("1", "user1", "password1"); err != nil {
		t.Fatal(err)
	}
	users := &inFlightUsers{UserStore: st}
	f := newFixture(t, func(c *Config) { c.Users = users; c.ClientAddr = testAddr })
	h := f.p.LoginHandler()
	runtime.GC()
	debug.FreeOSMemory()
	base, measured := vmHWM(true) // the peak starts again from the current RSS
	var retryAfter atomic.Value
	got := parallel(40, func(i int) int {
		w := loginRequest(h, "198.51.100."+strconv.Itoa(i+1), "user"+strconv.Itoa(i), "guess")
		if w.Code == http.StatusServiceUnavailable {
			retryAfter.Store(w.Header().Get("Retry-After"))
		}
		return w.Code
	})
	peak, _ := vmHWM(false)
	if p := users.peak.Load(); p > defaultPasswordChecks {
		t.Fatalf("%d password hashes at once, bound %d (answers %v)", p, defaultPasswordChecks, got)
	}
	if got[http.StatusServiceUnavailable] == 0 || retryAfter.Load() != "1" {
		t.Errorf("answers %v, Retry-After %v: want 503s with Retry-After 1 beyond the bound", got, retryAfter.Load())
	}
	if measured {
		t.Logf("peak RSS %d MiB (%d MiB above the start), %d hashes at once, answers %v", peak>>20, (peak-base)>>20, users.peak.Load(), got)
		if limit := int64(1 << 30); peak-base > limit {
			t.Errorf("peak RSS grew by %d MiB, bound %d MiB", (peak-base)>>20, limit>>20)
		}
	}
}

// TestRightPasswordAfterWindow: once the window has passed, the user's
// right password works on the first try, and clears the count.
func TestRightPasswordAfterWindow(t *testing.T) {
	f := newFixture(t, func(c *Config) { c.ClientAddr = testAddr })
	h := f.p.LoginHandler()
	for range 3 * pairAttempts.Burst {
		loginRequest(h, "192.0.2.44", "user1", "guess")
	}
	if w := loginRequest(h, "192.0.2.44", "user1", "password1"); w.Code != http.StatusTooManyRequests {
		t.Fatalf("right password while throttled: %d", w.Code)
	}
	f.clock.Advance(pairAttempts.Every)
	if w := loginRequest(h, "192.0.2.44", "user1", "password1"); w.Code != 200 {
		t.Fatalf("right password after the window: %d %s", w.Code, w.Body)
	}
	for i := range pairAttempts.Burst {
		if w := loginRequest(h, "192.0.2.44", "user1", "guess"); w.Code != http.StatusUnauthorized {
			t.Fatalf("after the success, failure %d: %d (count not cleared)", i+1, w.Code)
		}
	}
}

// TestThrottleIPv6PerSlash64: the addresses of one /64 share a count.
func TestThrottleIPv6PerSlash64(t *testing.T) {
	f := newFixture(t, func(c *Config) { c.ClientAddr = testAddr })
	h := f.p.LoginHandler()
	for i := range pairAttempts.Burst {
		if w := loginRequest(h, "2001:db8:5:6::"+strconv.Itoa(i+1), "user1", "guess"); w.Code != 401 {
			t.Fatalf("failure %d: %d", i+1, w.Code)
		}
	}
	if w := loginRequest(h, "2001:db8:5:6:ffff::9", "user1", "password1"); w.Code != http.StatusTooManyRequests {
		t.Fatalf("another address of the /64: %d, want 429", w.Code)
	}
	if w := loginRequest(h, "::ffff:192.0.2.1", "user1", "password1"); w.Code != 200 {
		t.Fatalf("an IPv4-mapped address elsewhere: %d", w.Code)
	}
}

// foldingUsers has case-insensitive usernames.
type foldingUsers struct{ store.UserStore }

func (u foldingUsers) AccountKey(name string) string { return strings.ToLower(name) }

func (u foldingUsers) Authenticate(ctx context.Context, name, pw string) (*store.User, error) {
	return u.UserStore.Authenticate(ctx, strings.ToLower(name), pw)
}

// TestAccountKeyer: a UserStore's AccountKey makes every spelling of one
// account share its count.
func TestAccountKeyer(t *testing.T) {
	f := newFixture(t, func(c *Config) { c.Users = foldingUsers{c.Users}; c.ClientAddr = testAddr })
	h := f.p.LoginHandler()
	for i := range pairAttempts.Burst {
		name := []string{"User1", "USER1", "uSeR1"}[i%3]
		if w := loginRequest(h, "192.0.2.50", name, "guess"); w.Code != 401 {
			t.Fatalf("failure %d: %d", i+1, w.Code)
		}
	}
	if w := loginRequest(h, "192.0.2.50", "user1", "password1"); w.Code != http.StatusTooManyRequests {
		t.Fatalf("another spelling after the burst: %d, want 429", w.Code)
	}
}

// TestClientNotBlockedByFlood: a flood of wrong secrets from one address,
// at a client and at made-up clients, blocks neither the client
// authenticating correctly from elsewhere nor, once the flood's address
// has used up its attempts, anyone but that address.
func TestClientNotBlockedByFlood(t *testing.T) {
	f := newFixture(t, func(c *Config) { c.ClientAddr = testAddr })
	h := f.p.TokenHandler()
	send := func(id, secret, addr string) int {
		r := httptest.NewRequest("POST", "/oauth/token", strings.NewReader("grant_type=client_credentials"))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		r.SetBasicAuth(id, secret)
		r.Header.Set("X-Test-Addr", addr)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w.Code
	}
	parallel(200, func(i int) int {
		if i%2 == 0 {
			return send(svcClient, "okcs_guess", "192.0.2.66")
		}
		return send("made-up-"+strconv.Itoa(i), "okcs_guess", "192.0.2.66")
	})
	if s := send(svcClient, "okcs_guess", "192.0.2.66"); s != http.StatusTooManyRequests {
		t.Fatalf("the flooding address is not throttled: %d", s)
	}
	for i := range 20 {
		if s := send(svcClient, f.secrets[svcClient], "198.51.100.9"); s != 200 {
			t.Fatalf("the client from elsewhere, request %d: %d", i+1, s)
		}
	}
}

// TestParallelCorrectSecretsNeverThrottled: a service asking for tokens
// many at a time from one address is never throttled by its own correct
// secret, by either method.
func TestParallelCorrectSecretsNeverThrottled(t *testing.T) {
	f := newFixture(t)
	h := f.p.TokenHandler()
	got := parallel(100, func(i int) int {
		r := httptest.NewRequest("POST", "/oauth/token", strings.NewReader("grant_type=client_credentials"))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		r.SetBasicAuth([]string{svcClient, postClient}[i%2], f.secrets[[]string{svcClient, postClient}[i%2]])
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w.Code
	})
	if got[200] != 100 {
		t.Fatalf("100 parallel correct requests: %v", got)
	}
}
