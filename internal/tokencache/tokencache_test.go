package tokencache

import (
	"context"
	"crypto/rand"
	"errors"
	"log/slog"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/oauthkit/oauthkit/store"
	"github.com/oauthkit/oauthkit/store/memory"
)

// faultyFeed is the memory store's feed with faults the tests inject:
// mute makes the current subscription silent (nothing reaches the cache,
// marks included, and nothing says so), kill ends it with an error. A new
// subscription is healthy.
type faultyFeed struct {
	store.ChangeFeed
	mu    sync.Mutex
	muted *atomic.Bool
	kill  context.CancelFunc
	subs  atomic.Int64 // subscriptions begun
	down  atomic.Bool  // Subscribe fails at once, as with the store down
}

var errKilled = errors.New("test: subscription killed")

func (f *faultyFeed) Subscribe(ctx context.Context, fn func(store.Change)) error {
	if f.down.Load() {
		return errors.New("test: the store is down")
	}
	inner, kill := context.WithCancelCause(ctx)
	defer kill(nil)
	muted := new(atomic.Bool)
	f.mu.Lock()
	f.muted, f.kill = muted, func() { kill(errKilled) }
	f.mu.Unlock()
	f.subs.Add(1)
	err := f.ChangeFeed.Subscribe(inner, func(c store.Change) {
		if !muted.Load() {
			fn(c)
		}
	})
	if errors.Is(context.Cause(inner), errKilled) {
		return errKilled
	}
	return err
}

func (f *faultyFeed) mute() {
	f.mu.Lock()
	f.muted.Store(true)
	f.mu.Unlock()
}

func (f *faultyFeed) killNow() {
	f.mu.Lock()
	f.kill()
	f.mu.Unlock()
}

// fixture is a memory store, its feed with faults, and a cache over both.
type fixture struct {
	t     *testing.T
	st    *memory.Store
	feed  *faultyFeed
	cache *Cache
}

func newFixture(t *testing.T, tune func(*Config)) *fixture {
	t.Helper()
	f := &fixture{t: t, st: memory.New()}
	f.feed = &faultyFeed{ChangeFeed: f.st}
	// A bound long enough that a loaded machine does not make the cache
	// stop serving; the tests of timing set their own.
	cfg := Config{Feed: f.feed, Lookup: f.st.Token, Bound: 5 * time.Second, Logger: slog.New(slog.DiscardHandler)}
	if tune != nil {
		tune(&cfg)
	}
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	f.cache = c
	f.waitServing()
	return f
}

// waitServing waits until the cache serves entries.
func (f *fixture) waitServing() {
	f.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !f.cache.Stats().Serving {
		if time.Now().After(deadline) {
			f.t.Fatal("the cache did not start serving within 10s")
		}
		time.Sleep(time.Millisecond)
	}
}

// token stores an access token of kind k in family fam and returns it.
func (f *fixture) token(k store.Kind, fam, client string) store.Token {
	f.t.Helper()
	now := time.Now()
	tok := store.Token{Hash: store.HashSecret(rand.Text()), Kind: k, Family: fam, ClientID: client,
		Subject: "user-1", Scopes: []string{"read"}, IssuedAt: now, ExpiresAt: now.Add(time.Hour)}
	if err := f.st.CreateToken(f.t.Context(), &tok); err != nil {
		f.t.Fatal(err)
	}
	return tok
}

// lookup asks the cache for h and says whether it answered with the token.
func (f *fixture) lookup(h store.Hash) bool {
	f.t.Helper()
	t, err := f.cache.Token(f.t.Context(), h)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return false
	case err != nil:
		f.t.Fatal(err)
	case t.Hash != h:
		f.t.Fatalf("lookup of %v answered with %v", h, t.Hash)
	}
	return true
}

// cached looks h up twice and fails the test unless the second came from
// the cache. A cache that stopped serving meanwhile (a heartbeat late on a
// loaded machine) gets two more tries.
func (f *fixture) cached(h store.Hash) {
	f.t.Helper()
	for try := 0; ; try++ {
		f.waitServing()
		if !f.lookup(h) {
			f.t.Fatal("a live token was not found")
		}
		before := f.cache.Stats().Hits
		if !f.lookup(h) {
			f.t.Fatal("a live token was not found the second time")
		}
		if f.cache.Stats().Hits == before+1 {
			return
		}
		if try == 2 || f.cache.Stats().Serving {
			f.t.Fatal("a live token looked up again did not come from the cache")
		}
	}
}

func TestHit(t *testing.T) {
	f := newFixture(t, nil)
	tok := f.token(store.KindAccess, "fam", "c")
	f.cached(tok.Hash)
	got, err := f.cache.Token(t.Context(), tok.Hash)
	if err != nil || got.Subject != "user-1" || got.ClientID != "c" || len(got.Scopes) != 1 || !got.ExpiresAt.Equal(tok.ExpiresAt) {
		t.Errorf("cached token = %+v, %v", got, err)
	}
	if s := f.cache.Stats(); s.Entries != 1 || s.Bytes < entryOverhead {
		t.Errorf("stats = %+v, want one entry", s)
	}
}

// TestHitAllocs: a hit allocates nothing.
func TestHitAllocs(t *testing.T) {
	f := newFixture(t, nil)
	tok := f.token(store.KindAccess, "fam", "c")
	f.cached(tok.Hash)
	ctx := t.Context()
	if n := testing.AllocsPerRun(100, func() { _, _ = f.cache.Token(ctx, tok.Hash) }); n != 0 {
		t.Errorf("a hit allocates %v times, want 0", n)
	}
}

// TestRevoked: each kind of revocation, announced by the store, takes the
// token out of the cache at once.
func TestRevoked(t *testing.T) {
	f := newFixture(t, nil)
	ctx := t.Context()
	for _, tc := range []struct {
		name   string
		revoke func(tok store.Token) error
	}{
		{"token", func(tok store.Token) error { return f.st.RevokeToken(ctx, tok.Hash) }},
		{"family", func(tok store.Token) error { return f.st.RevokeFamily(ctx, tok.Family) }},
		{"client", func(tok store.Token) error { return f.st.RevokeClient(ctx, tok.ClientID) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tok := f.token(store.KindAccess, "fam-"+tc.name, "client-"+tc.name)
			other := f.token(store.KindAccess, "other-"+tc.name, "other-"+tc.name)
			f.cached(tok.Hash)
			f.cached(other.Hash)
			if err := tc.revoke(tok); err != nil {
				t.Fatal(err)
			}
			if f.lookup(tok.Hash) {
				t.Error("a revoked token was still served")
			}
			f.cached(other.Hash)
		})
	}
}

// TestForget: the Provider's own revocations need no round trip.
func TestForget(t *testing.T) {
	f := newFixture(t, nil)
	tok := f.token(store.KindAccess, "fam", "c")
	f.cached(tok.Hash)
	f.feed.mute()                               // nothing from the store reaches the cache
	_ = f.st.RevokeToken(t.Context(), tok.Hash) // announced, not heard
	f.cache.Forget(store.Change{Kind: store.ChangeToken, Hash: tok.Hash})
	if f.lookup(tok.Hash) {
		t.Error("a token forgotten after its revocation was still served")
	}
}

// TestNoNegativeCaching: a token unknown at first is found as soon as it is
// stored (as one created on another instance must be).
func TestNoNegativeCaching(t *testing.T) {
	f := newFixture(t, nil)
	tok := store.Token{Hash: store.HashSecret("later"), Kind: store.KindAccess, ClientID: "c", ExpiresAt: time.Now().Add(time.Hour)}
	for range 3 {
		if f.lookup(tok.Hash) {
			t.Fatal("an unknown token was found")
		}
	}
	if err := f.st.CreateToken(t.Context(), &tok); err != nil {
		t.Fatal(err)
	}
	if !f.lookup(tok.Hash) {
		t.Error("a token stored after a lookup that missed was not found")
	}
}

// TestOnlyAccessTokens: refresh tokens and codes always go to the store.
func TestOnlyAccessTokens(t *testing.T) {
	f := newFixture(t, nil)
	for _, k := range []store.Kind{store.KindRefresh, store.KindCode} {
		tok := f.token(k, "fam-"+k.String(), "c")
		for range 2 {
			if !f.lookup(tok.Hash) {
				t.Fatalf("%s not found", k)
			}
		}
	}
	if s := f.cache.Stats(); s.Hits != 0 || s.Entries != 0 {
		t.Errorf("stats after looking up refresh tokens and codes = %+v, want nothing cached", s)
	}
}

// TestExpiry: a cached token stops being served when it expires, on the
// caller's clock.
func TestExpiry(t *testing.T) {
	var offset atomic.Int64
	now := func() time.Time { return time.Now().Add(time.Duration(offset.Load())) }
	f := &fixture{t: t, st: memory.New(memory.WithClock(now))}
	f.feed = &faultyFeed{ChangeFeed: f.st}
	c, err := New(Config{Feed: f.feed, Lookup: f.st.Token, Bound: 5 * time.Second, Now: now, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	f.cache = c
	f.waitServing()
	tok := f.token(store.KindAccess, "fam", "c")
	f.cached(tok.Hash)
	f.feed.mute() // only the clock can take it out now
	offset.Store(int64(time.Hour))
	if got, err := c.Token(t.Context(), tok.Hash); err == nil {
		t.Errorf("an expired token was served: %+v", got)
	}
}

// TestMaxAge: an entry older than MaxAge goes back to the store.
func TestMaxAge(t *testing.T) {
	f := newFixture(t, func(c *Config) { c.MaxAge = time.Nanosecond })
	tok := f.token(store.KindAccess, "fam", "c")
	for range 3 {
		f.lookup(tok.Hash)
	}
	if s := f.cache.Stats(); s.Hits != 0 {
		t.Errorf("%d hits with a MaxAge of 1ns", s.Hits)
	}
}

// TestRevokedDuringLookup: the lookup revokes the token it looks up,
// through the store, after reading it and before answering, so that the
// revocation is announced while the lookup is in flight.
func TestRevokedDuringLookup(t *testing.T) {
	st := memory.New()
	var target store.Hash
	lookup := func(ctx context.Context, h store.Hash) (store.Token, error) {
		t, err := st.Token(ctx, h)
		if err == nil && h == target {
			_ = st.RevokeToken(ctx, h)
		}
		return t, err
	}
	c, err := New(Config{Feed: st, Lookup: lookup, Bound: 5 * time.Second, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	f := &fixture{t: t, st: st, cache: c}
	f.waitServing()
	tok := f.token(store.KindAccess, "fam", "c")
	target = tok.Hash
	if !f.lookup(tok.Hash) {
		t.Fatal("the token was not found by the lookup that revokes it")
	}
	if f.lookup(tok.Hash) {
		t.Error("a token revoked while its lookup was in flight was cached with its value from before")
	}
}

// TestSilentFeed: the feed stops delivering without an error. A token
// revoked then is refused within the bound (the cache stops serving when
// its marks stop coming back), never accepted after it; the cache takes the
// feed for lost, subscribes again and serves again.
func TestSilentFeed(t *testing.T) {
	const bound = 200 * time.Millisecond
	f := newFixture(t, func(c *Config) { c.Bound = bound })
	tok := f.token(store.KindAccess, "fam", "c")
	f.cached(tok.Hash)
	subs := f.feed.subs.Load()
	f.feed.mute()
	if err := f.st.RevokeToken(t.Context(), tok.Hash); err != nil {
		t.Fatal(err)
	}
	revoked := time.Now()
	var refused time.Time
	for time.Since(revoked) < 3*bound {
		start := time.Now()
		if f.lookup(tok.Hash) {
			if d := start.Sub(revoked); d >= bound {
				t.Fatalf("a revoked token was served %v after its revocation, beyond the bound of %v", d, bound)
			}
		} else if refused.IsZero() {
			refused = start
		}
		time.Sleep(time.Millisecond)
	}
	if refused.IsZero() {
		t.Fatal("the revoked token was never refused")
	}
	t.Logf("refused %v after the revocation, the feed silent", refused.Sub(revoked))
	f.waitServing()
	if f.feed.subs.Load() == subs || f.cache.Stats().Losses == 0 {
		t.Error("serving again without having subscribed again")
	}
	again := f.token(store.KindAccess, "fam2", "c")
	f.cached(again.Hash)
	if err := f.st.RevokeToken(t.Context(), again.Hash); err != nil {
		t.Fatal(err)
	}
	if f.lookup(again.Hash) {
		t.Error("after the feed came back, a revoked token was served")
	}
}

// TestFeedKilled: a subscription that ends with an error drops every entry
// at once, and the cache serves again after subscribing again.
func TestFeedKilled(t *testing.T) {
	f := newFixture(t, nil)
	tok := f.token(store.KindAccess, "fam", "c")
	f.cached(tok.Hash)
	f.feed.mute()
	_ = f.st.RevokeToken(t.Context(), tok.Hash) // lost with the subscription
	f.feed.killNow()
	deadline := time.Now().Add(10 * time.Second)
	for f.cache.Stats().Losses == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the killed subscription was not noticed")
		}
		time.Sleep(time.Millisecond)
	}
	if f.lookup(tok.Hash) {
		t.Error("after the feed was lost, a token revoked meanwhile was served")
	}
	f.waitServing()
	again := f.token(store.KindAccess, "fam2", "c")
	f.cached(again.Hash)
}

// TestBounded: the cache holds at most MaxEntries entries and MaxBytes
// bytes.
func TestBounded(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  func(*Config)
		ok   func(Stats) bool
	}{
		{"entries", func(c *Config) { c.MaxEntries = 256 }, func(s Stats) bool { return s.Entries <= 256 }},
		{"bytes", func(c *Config) { c.MaxBytes = 64 * 2 * entryOverhead * 2 }, func(s Stats) bool { return s.Bytes <= 64*2*entryOverhead*2 }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, tc.cfg)
			var last store.Token
			for range 3000 {
				now := time.Now()
				last = store.Token{Hash: store.HashSecret(rand.Text()), Kind: store.KindAccess, ClientID: "c",
					IssuedAt: now, ExpiresAt: now.Add(time.Hour)}
				if err := f.st.CreateToken(t.Context(), &last); err != nil {
					t.Fatal(err)
				}
				f.lookup(last.Hash)
			}
			if s := f.cache.Stats(); !tc.ok(s) || s.Entries == 0 {
				t.Errorf("stats after 3000 tokens = %+v", s)
			}
			f.cached(last.Hash)
		})
	}
}

// TestClose: Close stops every goroutine the cache started.
func TestClose(t *testing.T) {
	before := runtime.NumGoroutine()
	st := memory.New()
	c, err := New(Config{Feed: st, Lookup: st.Token, Bound: 100 * time.Millisecond, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond)
	c.Close()
	c.Close()
	if after := settledGoroutines(before); after > before {
		t.Errorf("%d goroutines after Close, %d before New", after, before)
	}
	tok := store.Token{Hash: store.HashSecret("x"), Kind: store.KindAccess, ExpiresAt: time.Now().Add(time.Hour)}
	_ = st.CreateToken(t.Context(), &tok)
	for range 2 {
		if _, err := c.Token(t.Context(), tok.Hash); err != nil {
			t.Fatal(err)
		}
	}
	if s := c.Stats(); s.Hits != 0 || s.Serving {
		t.Errorf("a closed cache served: %+v", s)
	}
}

func TestConfig(t *testing.T) {
	st := memory.New()
	for _, cfg := range []Config{
		{Lookup: st.Token, Bound: time.Second},
		{Feed: st, Bound: time.Second},
		{Feed: st, Lookup: st.Token, Bound: time.Millisecond},
		{Feed: st, Lookup: st.Token, Bound: time.Second, MaxEntries: -1},
	} {
		if c, err := New(cfg); err == nil {
			c.Close()
			t.Errorf("New(%+v) accepted", cfg)
		}
	}
}

// BenchmarkToken compares a hit with the memory store's own lookup, in the
// same run.
func BenchmarkToken(b *testing.B) {
	st := memory.New()
	c, err := New(Config{Feed: st, Lookup: st.Token, Bound: time.Second, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	hashes := make([]store.Hash, 1000)
	for i := range hashes {
		now := time.Now()
		tok := store.Token{Hash: store.HashSecret(rand.Text()), Kind: store.KindAccess, ClientID: "c",
			Subject: "u", Scopes: []string{"read"}, IssuedAt: now, ExpiresAt: now.Add(time.Hour)}
		if err := st.CreateToken(b.Context(), &tok); err != nil {
			b.Fatal(err)
		}
		hashes[i] = tok.Hash
	}
	for !c.Stats().Serving {
		time.Sleep(time.Millisecond)
	}
	for _, h := range hashes {
		_, _ = c.Token(b.Context(), h)
	}
	for _, bc := range []struct {
		name string
		get  func(context.Context, store.Hash) (store.Token, error)
	}{{"memory", st.Token}, {"cache", c.Token}} {
		b.Run(bc.name, func(b *testing.B) {
			ctx := b.Context()
			var next atomic.Uint64
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := bc.get(ctx, hashes[next.Add(1)%uint64(len(hashes))]); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}

// TestMarksBeforeReset: a mark sent before a reset proves nothing about
// the subscription after it, and is not taken when it comes back.
func TestMarksBeforeReset(t *testing.T) {
	var r markRing
	r.restart(10)
	r.sent(1, 20)
	r.restart(30)
	if _, ok := r.back(1); ok {
		t.Error("a mark sent before the last reset was taken")
	}
	r.sent(2, 40)
	if at, ok := r.back(2); !ok || at != 40 || r.proof.Load() != 40 || !r.delivered() {
		t.Errorf("a mark sent after the reset: back = %d, %v; proof %d", at, ok, r.proof.Load())
	}
	if _, ok := r.back(3); ok {
		t.Error("a mark never sent was taken")
	}
}

// countingHandler counts log records by level.
type countingHandler struct {
	slog.Handler
	mu     sync.Mutex
	levels map[slog.Level]int
}

func (h *countingHandler) Enabled(context.Context, slog.Level) bool { return true }

func (h *countingHandler) Handle(_ context.Context, r slog.Record) error {
	h.mu.Lock()
	h.levels[r.Level]++
	h.mu.Unlock()
	return nil
}

func (h *countingHandler) count(l slog.Level) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.levels[l]
}

// TestFeedLossLoggedOnce: a feed that stays down through several attempts
// to subscribe again is one warning, its return one notice.
func TestFeedLossLoggedOnce(t *testing.T) {
	logs := &countingHandler{Handler: slog.DiscardHandler, levels: map[slog.Level]int{}}
	f := newFixture(t, func(c *Config) { c.Bound = 300 * time.Millisecond; c.Logger = slog.New(logs) })
	f.feed.down.Store(true)
	f.feed.killNow()
	deadline := time.Now().Add(10 * time.Second)
	for f.cache.Stats().Losses < 4 {
		if time.Now().After(deadline) {
			t.Fatalf("losses = %d after 10s, want 4", f.cache.Stats().Losses)
		}
		time.Sleep(time.Millisecond)
	}
	f.feed.down.Store(false)
	f.waitServing()
	if w, i := logs.count(slog.LevelWarn), logs.count(slog.LevelInfo); w != 1 || i != 1 {
		t.Errorf("%d warnings and %d notices for one incident of %d losses, want 1 and 1", w, i, f.cache.Stats().Losses)
	}
}

// settledGoroutines returns the number of goroutines once it is at most
// want, or after a second: a goroutine that has signalled its end may not
// have returned yet.
func settledGoroutines(want int) int {
	n := runtime.NumGoroutine()
	for deadline := time.Now().Add(time.Second); n > want && time.Now().Before(deadline); n = runtime.NumGoroutine() {
		time.Sleep(time.Millisecond)
	}
	return n
}

// TestOnLookup: the hook hears each hit and each miss, once.
func TestOnLookup(t *testing.T) {
	var hits, misses atomic.Int64
	f := newFixture(t, func(c *Config) {
		c.OnLookup = func(_ context.Context, hit bool) {
			if hit {
				hits.Add(1)
			} else {
				misses.Add(1)
			}
		}
	})
	tok := f.token(store.KindAccess, "fam", "c")
	f.cached(tok.Hash)
	f.lookup(store.HashSecret("unknown"))
	s := f.cache.Stats()
	if hits.Load() != int64(s.Hits) || misses.Load() != int64(s.Misses) || s.Hits == 0 || s.Misses < 2 {
		t.Errorf("hook heard %d hits, %d misses; stats %+v", hits.Load(), misses.Load(), s)
	}
}
