package sharedtest

import (
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/oauthkit/oauthkit/grant"
	"github.com/oauthkit/oauthkit/middleware"
	"github.com/oauthkit/oauthkit/store"
	"github.com/oauthkit/oauthkit/store/storetest"
)

// cacheInstance is one Provider with a validation cache.
type cacheInstance struct {
	name          string
	p             *grant.Provider
	token, revoke http.Handler
}

// cacheFixture is two instances, a and b, each with its own handle on one
// shared store and its own validation cache.
type cacheFixture struct {
	t      *testing.T
	st     storetest.Store // a's handle
	a, b   *cacheInstance
	bound  time.Duration
	secret string // cacheClient's
}

const cacheClient = "cache-app"

func newCacheFixture(t *testing.T, a, b storetest.Store, bound time.Duration) *cacheFixture {
	t.Helper()
	secret, hash, err := grant.NewClientSecret()
	if err != nil {
		t.Fatal(err)
	}
	err = a.CreateClient(t.Context(), &store.Client{ID: cacheClient, AuthMethod: store.AuthSecretBasic, SecretHash: hash,
		GrantTypes: []string{store.GrantPassword, store.GrantRefreshToken}, Scopes: []string{"read"}, CreatedAt: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	users := newUsers(t)
	f := &cacheFixture{t: t, st: a, bound: bound, secret: secret}
	if f.bound == 0 {
		f.bound = time.Second // ValidationCache.Bound's default
	}
	in := func(name string, st storetest.Store) *cacheInstance {
		p, err := grant.NewProvider(grant.Config{
			Issuer: "https://as.example.com", Clients: st, Tokens: st, Users: users,
			GrantTypes:        []string{store.GrantPassword, store.GrantRefreshToken, store.GrantClientCredentials},
			RefreshReuseGrace: -1, // every reuse revokes the family
			ValidationCache:   grant.ValidationCache{Enabled: true, Bound: bound},
			Logger:            slog.New(slog.DiscardHandler),
		})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { p.Close() })
		return &cacheInstance{name: name, p: p, token: p.TokenHandler(), revoke: p.RevokeHandler()}
	}
	f.a, f.b = in("a", a), in("b", b)
	f.waitServing(f.a)
	f.waitServing(f.b)
	return f
}

// waitServing waits until in's cache serves.
func (f *cacheFixture) waitServing(in *cacheInstance) {
	f.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		s, _ := in.p.ValidationCacheStats()
		if s.Serving {
			return
		}
		if time.Now().After(deadline) {
			f.t.Fatalf("instance %s: the validation cache did not serve within 15s (%+v)", in.name, s)
		}
		time.Sleep(time.Millisecond)
	}
}

// post sends a form to h as client (Basic) and returns the JSON answer.
func (f *cacheFixture) post(h http.Handler, client, secret string, form url.Values) (int, map[string]string) {
	f.t.Helper()
	r := httptest.NewRequest("POST", "/oauth/token", strings.NewReader(form.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.SetBasicAuth(client, secret)
	r.RemoteAddr = "192.0.2.10:40000"
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	out := map[string]string{}
	for _, k := range []string{"access_token", "refresh_token", "error"} {
		if v, ok := fieldOf(w.Body.String(), k); ok {
			out[k] = v
		}
	}
	return w.Code, out
}

// fieldOf finds a string field in a flat JSON object.
func fieldOf(body, k string) (string, bool) {
	i := strings.Index(body, `"`+k+`":"`)
	if i < 0 {
		return "", false
	}
	body = body[i+len(k)+4:]
	return body[:strings.IndexByte(body, '"')], true
}

// grant gets an access and a refresh token for the user, from a.
func (f *cacheFixture) grant() (string, string) {
	f.t.Helper()
	code, out := f.post(f.a.token, cacheClient, f.secret, url.Values{"grant_type": {"password"}, "username": {"user1"}, "password": {"password1"}})
	if code != 200 {
		f.t.Fatalf("password grant: %d %v", code, out)
	}
	return out["access_token"], out["refresh_token"]
}

// refresh presents rt to a's token endpoint and returns the status.
func (f *cacheFixture) refresh(rt string) int {
	f.t.Helper()
	code, _ := f.post(f.a.token, cacheClient, f.secret, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}})
	return code
}

// revokeAt revokes an access token at a's revocation endpoint.
func (f *cacheFixture) revokeAt(at string) {
	f.t.Helper()
	if code, out := f.post(f.a.revoke, cacheClient, f.secret, url.Values{"token": {at}}); code != 200 {
		f.t.Fatalf("revoke: %d %v", code, out)
	}
}

// clientToken registers a client and gets a client_credentials token for it
// from a.
func (f *cacheFixture) clientToken(id string) string {
	f.t.Helper()
	secret, hash, err := grant.NewClientSecret()
	if err != nil {
		f.t.Fatal(err)
	}
	err = f.st.CreateClient(f.t.Context(), &store.Client{ID: id, AuthMethod: store.AuthSecretBasic, SecretHash: hash,
		GrantTypes: []string{store.GrantClientCredentials}, Scopes: []string{"read"}, CreatedAt: time.Now()})
	if err != nil {
		f.t.Fatal(err)
	}
	code, out := f.post(f.a.token, id, secret, url.Values{"grant_type": {"client_credentials"}})
	if code != 200 {
		f.t.Fatalf("client_credentials: %d %v", code, out)
	}
	return out["access_token"]
}

// deleteClient deletes the client and revokes its tokens on a, as
// Provider.RevokeClient's doc says to.
func (f *cacheFixture) deleteClient(id string) {
	f.t.Helper()
	if err := f.st.DeleteClient(f.t.Context(), id); err != nil {
		f.t.Fatal(err)
	}
	if err := f.a.p.RevokeClient(f.t.Context(), id); err != nil {
		f.t.Fatal(err)
	}
}

// valid validates raw on in.
func (f *cacheFixture) valid(in *cacheInstance, raw string) bool {
	f.t.Helper()
	_, err := in.p.ValidateToken(f.t.Context(), raw)
	if err != nil && !errors.Is(err, middleware.ErrInvalidToken) {
		f.t.Fatalf("instance %s: %v", in.name, err)
	}
	return err == nil
}

// cached validates raw on a and on b twice; the second time must be
// answered from each cache. A cache that stopped serving meanwhile (a
// heartbeat late on a loaded machine) gets two more tries.
func (f *cacheFixture) cached(raw string) {
	f.t.Helper()
	for _, in := range []*cacheInstance{f.a, f.b} {
		for try := 0; ; try++ {
			f.waitServing(in)
			f.valid(in, raw)
			before, _ := in.p.ValidationCacheStats()
			if !f.valid(in, raw) {
				f.t.Fatalf("instance %s: a live token refused", in.name)
			}
			after, _ := in.p.ValidationCacheStats()
			if after.Hits == before.Hits+1 {
				break
			}
			if try == 2 || after.Serving {
				f.t.Fatalf("instance %s: a token validated again was not answered from the cache (%+v)", in.name, after)
			}
		}
	}
}

// refusedOnB polls b until it refuses raw, revoked at a at the time
// revoked, and returns how long after that it first did. It fails the test
// if b accepts raw in a validation that began a bound or more after the
// revocation, or never refuses it within twice the bound.
func (f *cacheFixture) refusedOnB(what, raw string, revoked time.Time) time.Duration {
	f.t.Helper()
	if f.valid(f.a, raw) {
		f.t.Fatalf("%s: instance a, where it was revoked, still accepts it", what)
	}
	for {
		start := time.Now()
		ok := f.valid(f.b, raw)
		since := start.Sub(revoked)
		switch {
		case ok && since >= f.bound:
			f.t.Fatalf("%s: instance b accepted it %v after its revocation on a, beyond the bound of %v", what, since, f.bound)
		case !ok:
			return time.Since(revoked)
		case since > 2*f.bound:
			f.t.Fatalf("%s: instance b still accepts it %v after its revocation", what, since)
		}
		time.Sleep(50 * time.Microsecond)
	}
}

// percentile returns the p-th percentile of sorted durations.
func percentile(d []time.Duration, p int) time.Duration { return d[(len(d)-1)*p/100] }

// CachePropagation measures how long a revocation made on one instance
// takes to reach the validation cache of another, with the default bound
// (1 s), over 210 revocations: 70 each of an access token (RFC 7009, at
// a's revocation endpoint), a family (refresh token reuse at a) and a
// client (deleted, then Provider.RevokeClient on a). Each token is first
// answered from both caches; after the revocation a refuses it at once and
// b within the bound (never later, checked on every validation), and the
// test logs p50, p99 and the maximum, by kind and over all.
func CachePropagation(t *testing.T, a, b storetest.Store) {
	f := newCacheFixture(t, a, b, 0)
	const perKind = 70
	kinds := []string{"token", "family", "client"}
	delays := map[string][]time.Duration{}
	for i := range perKind * len(kinds) {
		kind := kinds[i%len(kinds)]
		var raw string
		var revoked time.Time
		switch kind {
		case "token":
			raw, _ = f.grant()
			f.cached(raw)
			f.revokeAt(raw)
			revoked = time.Now()
		case "family":
			at, rt := f.grant()
			raw = at
			f.cached(raw)
			if code := f.refresh(rt); code != 200 {
				t.Fatalf("refresh: %d", code)
			}
			if code := f.refresh(rt); code != 400 {
				t.Fatalf("refresh token reuse: %d, want 400", code)
			}
			revoked = time.Now()
		case "client":
			id := fmt.Sprintf("cache-svc-%d-%s", i, rand.Text()[:6])
			raw = f.clientToken(id)
			f.cached(raw)
			f.deleteClient(id)
			revoked = time.Now()
		}
		delays[kind] = append(delays[kind], f.refusedOnB(kind, raw, revoked))
	}
	var all []time.Duration
	for _, kind := range kinds {
		d := delays[kind]
		slices.Sort(d)
		all = append(all, d...)
		t.Logf("%-6s revoked on a, refused on b after: p50 %v, p99 %v, max %v (%d revocations)", kind, percentile(d, 50), percentile(d, 99), d[len(d)-1], len(d))
	}
	slices.Sort(all)
	p99 := percentile(all, 99)
	t.Logf("all    revoked on a, refused on b after: p50 %v, p99 %v, max %v (%d revocations, bound %v)", percentile(all, 50), p99, all[len(all)-1], len(all), f.bound)
	if p99 >= f.bound {
		t.Errorf("p99 propagation %v, not under the bound %v", p99, f.bound)
	}
}

// CacheFeedCut cuts b's change feed (cut does it: it drops the
// subscription's connection, or silences it) and then revokes, on a, a token
// b has cached: b must never accept it in a validation that begins a bound
// (500 ms here) or more after the revocation, and must refuse it soon
// after; b then subscribes again by itself, serves from its cache again,
// and a revocation made after that reaches it within the bound.
func CacheFeedCut(t *testing.T, a, b storetest.Store, cut func(t *testing.T)) {
	const bound = 500 * time.Millisecond
	f := newCacheFixture(t, a, b, bound)
	at, _ := f.grant()
	f.cached(at)
	losses := func() uint64 { s, _ := f.b.p.ValidationCacheStats(); return s.Losses }
	before := losses()
	cut(t)
	f.revokeAt(at)
	d := f.refusedOnB("revoked while b's feed was cut", at, time.Now())
	t.Logf("revoked while b's feed was cut: refused on b after %v (bound %v)", d, bound)
	deadline := time.Now().Add(15 * time.Second)
	for losses() == before {
		if time.Now().After(deadline) {
			t.Fatal("b did not notice that its feed was lost within 15s")
		}
		time.Sleep(time.Millisecond)
	}
	f.waitServing(f.b)
	again, _ := f.grant()
	f.cached(again)
	f.revokeAt(again)
	d = f.refusedOnB("revoked after b subscribed again", again, time.Now())
	t.Logf("revoked after b subscribed again: refused on b after %v", d)
}

// CacheClose starts and closes Providers with a validation cache on st:
// Close stops every goroutine the cache started (its subscription
// included), as runtime.NumGoroutine counts them.
func CacheClose(t *testing.T, st storetest.Store) {
	settle := func(want int) int {
		n := runtime.NumGoroutine()
		for deadline := time.Now().Add(5 * time.Second); n > want && time.Now().Before(deadline); n = runtime.NumGoroutine() {
			time.Sleep(10 * time.Millisecond)
		}
		return n
	}
	before := runtime.NumGoroutine()
	for range 3 {
		p, err := grant.NewProvider(grant.Config{Issuer: "https://as.example.com", Clients: st, Tokens: st,
			ValidationCache: grant.ValidationCache{Enabled: true}, Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(15 * time.Second)
		for s, _ := p.ValidationCacheStats(); !s.Serving; s, _ = p.ValidationCacheStats() {
			if time.Now().After(deadline) {
				t.Fatal("the validation cache did not serve within 15s")
			}
			time.Sleep(time.Millisecond)
		}
		if err := p.Close(); err != nil {
			t.Fatal(err)
		}
	}
	if after := settle(before); after > before {
		t.Errorf("%d goroutines after three Providers with a cache were closed, %d before", after, before)
	}
}
