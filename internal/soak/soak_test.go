package soak

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	mrand "math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	goredis "github.com/redis/go-redis/v9"

	"github.com/oauthkit/oauthkit/grant"
	"github.com/oauthkit/oauthkit/internal/testservices"
	"github.com/oauthkit/oauthkit/middleware"
	"github.com/oauthkit/oauthkit/store"
	"github.com/oauthkit/oauthkit/store/memory"
	"github.com/oauthkit/oauthkit/store/postgres"
	"github.com/oauthkit/oauthkit/store/redis"
	"github.com/oauthkit/oauthkit/store/sqlite"
)

// backend is what the soak test needs of a store.
type backend interface {
	store.ClientRegistry
	store.TokenStore
}

// settings reads the soak's knobs from the environment:
// OAUTHKIT_SOAK (duration per store, default 3s), OAUTHKIT_SOAK_WORKERS
// (default 4 per CPU) and OAUTHKIT_SOAK_SEED (default: from the clock).
type settings struct {
	duration time.Duration
	workers  int
	seed     uint64
	cache    bool // the Provider has a validation cache
}

func readSettings(t *testing.T) settings {
	s := settings{duration: 3 * time.Second, workers: 4 * runtime.GOMAXPROCS(0), seed: uint64(time.Now().UnixNano())}
	if v := os.Getenv("OAUTHKIT_SOAK"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			t.Fatalf("OAUTHKIT_SOAK=%q: want a positive Go duration such as 5m", v)
		}
		s.duration = d
	}
	if v := os.Getenv("OAUTHKIT_SOAK_WORKERS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			t.Fatalf("OAUTHKIT_SOAK_WORKERS=%q: want a positive integer", v)
		}
		s.workers = n
	}
	if v := os.Getenv("OAUTHKIT_SOAK_SEED"); v != "" {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			t.Fatalf("OAUTHKIT_SOAK_SEED=%q: want an unsigned integer", v)
		}
		s.seed = n
	}
	return s
}

func TestSoak(t *testing.T) {
	s := readSettings(t)
	t.Logf("soak: %v per store, %d workers, OAUTHKIT_SOAK_SEED=%d", s.duration, s.workers, s.seed)
	t.Run("memory", func(t *testing.T) { soak(t, s, memory.New()) })
	t.Run("sqlite", func(t *testing.T) {
		st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "soak.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		soak(t, s, st)
	})
	t.Run("postgres", func(t *testing.T) { soak(t, s, postgresStore(t)) })
	t.Run("redis", func(t *testing.T) { soak(t, s, redisStore(t)) })
	// The same traffic through the validation cache, on the stores with a
	// change feed: every validation must still agree with the model at
	// once, revocations racing lookups in flight included.
	cached := s
	cached.cache = true
	t.Run("memory+cache", func(t *testing.T) { soak(t, cached, memory.New()) })
	t.Run("postgres+cache", func(t *testing.T) { soak(t, cached, postgresStore(t)) })
	t.Run("redis+cache", func(t *testing.T) { soak(t, cached, redisStore(t)) })
}

// randomName returns prefix and 12 random hex digits.
func randomName(prefix string) string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return prefix + hex.EncodeToString(b)
}

func TestMain(m *testing.M) { testservices.Main(m) }

// postgresStore opens a store in a fresh schema of the test database
// (testservices.Postgres), dropped when the test ends, or skips.
func postgresStore(t *testing.T) backend {
	dsn := testservices.Postgres(t)
	pool, err := pgxpool.New(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	schema := randomName("oauthkit_soak_")
	t.Cleanup(func() {
		ctx := context.WithoutCancel(t.Context())
		if _, err := pool.Exec(ctx, "DROP SCHEMA IF EXISTS "+pgx.Identifier{schema}.Sanitize()+" CASCADE"); err != nil {
			t.Errorf("drop soak schema: %v", err)
		}
	})
	st, err := postgres.New(t.Context(), pool, postgres.WithSchema(schema))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// redisStore opens a store under a fresh key prefix of the test Redis
// server (testservices.Redis), whose keys are deleted when the test ends,
// or skips.
func redisStore(t *testing.T) backend {
	addr := testservices.Redis(t)
	rdb := goredis.NewClient(&goredis.Options{Addr: addr})
	t.Cleanup(func() { rdb.Close() })
	prefix := randomName("oauthkit-soak-") + ":"
	t.Cleanup(func() {
		ctx := context.WithoutCancel(t.Context())
		iter := rdb.Scan(ctx, 0, prefix+"*", 1000).Iterator()
		var keys []string
		for iter.Next(ctx) {
			keys = append(keys, iter.Val())
			if len(keys) == 1000 {
				rdb.Del(ctx, keys...)
				keys = keys[:0]
			}
		}
		if len(keys) > 0 {
			rdb.Del(ctx, keys...)
		}
		if err := iter.Err(); err != nil {
			t.Errorf("delete soak keys: %v", err)
		}
	})
	st, err := redis.New(t.Context(), rdb, redis.WithPrefix(prefix))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

const (
	clientID    = "soak-client"
	redirectURI = "https://client.example.com/callback"
	raceWidth   = 4 // concurrent presentations of one refresh token
)

// harness is one Provider over one store, driven in-process through its
// HTTP handlers as a client would drive it.
type harness struct {
	t       *testing.T
	p       *grant.Provider
	st      backend
	token   http.Handler
	revoke  http.Handler
	secret  string
	failed  atomic.Int64
	stopped atomic.Bool
}

// fail reports a broken expectation; after a few it stops the run.
func (h *harness) fail(format string, args ...any) {
	if n := h.failed.Add(1); n <= 20 {
		h.t.Errorf(format, args...)
	}
	h.stopped.Store(true)
}

func soak(t *testing.T, s settings, st backend) {
	ctx := t.Context()
	secret, hash, err := grant.NewClientSecret()
	if err != nil {
		t.Fatal(err)
	}
	err = st.CreateClient(ctx, &store.Client{
		ID: clientID, SecretHash: hash, AuthMethod: store.AuthSecretBasic, Name: "soak",
		RedirectURIs: []string{redirectURI},
		GrantTypes:   []string{store.GrantAuthorizationCode, store.GrantClientCredentials, store.GrantRefreshToken},
		Scopes:       []string{"read", "write"},
	})
	if err != nil {
		t.Fatal(err)
	}
	p, err := grant.NewProvider(grant.Config{
		Issuer: "https://as.example.com", Clients: st, Tokens: st,
		// Any second presentation of a rotated refresh token revokes its
		// family, so that the expected state never depends on timing.
		RefreshReuseGrace: -1,
		ValidationCache:   grant.ValidationCache{Enabled: s.cache},
		Logger:            slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	h := &harness{t: t, p: p, st: st, token: p.TokenHandler(), revoke: p.RevokeHandler(), secret: secret}

	deadline := time.Now().Add(s.duration)
	workers := make([]*worker, s.workers)
	var wg sync.WaitGroup
	for i := range workers {
		w := &worker{h: h, rng: mrand.New(mrand.NewPCG(s.seed, uint64(i))), ops: map[string]int{}}
		workers[i] = w
		wg.Go(func() {
			for !h.stopped.Load() && time.Now().Before(deadline) {
				w.step(ctx)
				w.retire(ctx)
			}
		})
	}
	wg.Wait()
	if h.failed.Load() > 0 {
		return
	}

	// The final check: every token's state is what the operations say.
	ops := map[string]int{}
	var access, refresh, live, retired int
	for _, w := range workers {
		retired += w.retired
		for k, v := range w.ops {
			ops[k] += v
		}
		for _, tk := range w.lone {
			access++
			if h.checkAccess(ctx, tk) {
				live++
			}
		}
		for _, f := range w.fams {
			for _, tk := range f.access {
				access++
				if h.checkAccess(ctx, tk) {
					live++
				}
			}
			refresh += 1 + len(f.rotated)
			h.checkRefresh(ctx, f)
		}
	}
	total := 0
	for _, v := range ops {
		total += v
	}
	t.Logf("%d operations in %v (%.0f/s): %v", total, s.duration, float64(total)/s.duration.Seconds(), ops)
	t.Logf("checked %d access tokens (%d live, %d revoked) and %d refresh tokens at the end, and %d more tokens on the way: all as expected",
		access, live, access-live, refresh, retired)
	if cs, ok := p.ValidationCacheStats(); ok {
		t.Logf("validation cache: %d hits, %d misses, %d entries, %d losses", cs.Hits, cs.Misses, cs.Entries, cs.Losses)
		if cs.Hits == 0 {
			t.Error("the validation cache answered nothing")
		}
	}
}

// tok is an access token and what it should be.
type tok struct {
	raw     string
	revoked bool    // revoked on its own
	fam     *family // nil for a lone client_credentials token
}

func (t *tok) valid() bool { return !t.revoked && (t.fam == nil || !t.fam.revoked) }

// family is one grant: the access tokens issued in it, its current refresh
// token and those rotated away.
type family struct {
	access  []*tok
	refresh string
	rotated []string
	revoked bool
}

// worker owns its tokens: only it changes them, so its model of them is
// exact, while the store sees every worker's traffic at once.
type worker struct {
	h       *harness
	rng     *mrand.Rand
	lone    []*tok
	fams    []*family
	ops     map[string]int
	retired int // tokens checked and dropped from the model by retire
}

// Bounds on a worker's model, so that a long soak runs in bounded memory:
// past maxModel lone tokens (or families), the oldest are checked one last
// time and forgotten, keeping the newest keepModel.
const (
	maxModel  = 40_000
	keepModel = 10_000
)

// retire checks and forgets the worker's oldest tokens when its model is
// too large.
func (w *worker) retire(ctx context.Context) {
	if len(w.lone) > maxModel {
		old := w.lone[:len(w.lone)-keepModel]
		for _, t := range old {
			w.h.checkAccess(ctx, t)
		}
		w.retired += len(old)
		w.lone = append([]*tok(nil), w.lone[len(old):]...)
	}
	if len(w.fams) > maxModel/4 {
		old := w.fams[:len(w.fams)-keepModel/4]
		for _, f := range old {
			for _, t := range f.access {
				w.h.checkAccess(ctx, t)
			}
			w.h.checkRefresh(ctx, f)
			w.retired += len(f.access) + 1 + len(f.rotated)
		}
		w.fams = append([]*family(nil), w.fams[len(old):]...)
	}
}

// step runs one operation, chosen at random with fixed weights.
func (w *worker) step(ctx context.Context) {
	n := w.rng.IntN(100)
	switch {
	case n < 20:
		w.issue(ctx)
	case n < 30:
		w.newFamily(ctx)
	case n < 60:
		w.validate(ctx)
	case n < 78:
		w.refresh(ctx)
	case n < 86:
		w.revokeAccess(ctx)
	case n < 91:
		w.revokeRefresh(ctx)
	case n < 94:
		w.reuseRotated(ctx)
	case n < 97:
		w.replayCode(ctx)
	default:
		w.race(ctx)
	}
}

func (w *worker) issue(ctx context.Context) {
	w.ops["issue"]++
	if r, ok := w.h.post(ctx, w.h.token, url.Values{"grant_type": {"client_credentials"}, "scope": {"read"}}, http.StatusOK); ok {
		w.lone = append(w.lone, &tok{raw: r.AccessToken})
	}
}

// code stores an authorization code as the authorization endpoint would
// after login and consent, and returns it with its PKCE verifier.
func (h *harness) code(ctx context.Context) (code, verifier string, ok bool) {
	code, verifier = grant.PrefixCode+secret32(), secret32()
	sum := sha256.Sum256([]byte(verifier))
	now := time.Now()
	err := h.st.CreateToken(ctx, &store.Token{
		Hash: store.HashSecret(code), Kind: store.KindCode, Family: randomName("fam-"),
		ClientID: clientID, Subject: "u1", Username: "user1", Scopes: []string{"read", "write"},
		IssuedAt: now, ExpiresAt: now.Add(time.Minute),
		RedirectURI: redirectURI, CodeChallenge: base64.RawURLEncoding.EncodeToString(sum[:]),
	})
	if err != nil {
		h.fail("store an authorization code: %v", err)
		return "", "", false
	}
	return code, verifier, true
}

// secret32 is 32 random bytes in base64url: the form of oauthkit's codes
// after their prefix, and a valid PKCE verifier.
func secret32() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func exchangeForm(code, verifier string) url.Values {
	return url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirectURI}, "code_verifier": {verifier}}
}

// newFamily redeems a fresh authorization code.
func (w *worker) newFamily(ctx context.Context) *family {
	w.ops["code"]++
	code, verifier, ok := w.h.code(ctx)
	if !ok {
		return nil
	}
	r, ok := w.h.post(ctx, w.h.token, exchangeForm(code, verifier), http.StatusOK)
	if !ok {
		return nil
	}
	f := &family{refresh: r.RefreshToken}
	f.access = append(f.access, &tok{raw: r.AccessToken, fam: f})
	w.fams = append(w.fams, f)
	return f
}

// replayCode redeems a code twice: the second time fails and revokes what
// the first issued.
func (w *worker) replayCode(ctx context.Context) {
	w.ops["code-replay"]++
	code, verifier, ok := w.h.code(ctx)
	if !ok {
		return
	}
	r, ok := w.h.post(ctx, w.h.token, exchangeForm(code, verifier), http.StatusOK)
	if !ok {
		return
	}
	g := &family{refresh: r.RefreshToken}
	g.access = append(g.access, &tok{raw: r.AccessToken, fam: g})
	w.fams = append(w.fams, g)
	if _, ok := w.h.post(ctx, w.h.token, exchangeForm(code, verifier), http.StatusBadRequest); ok {
		g.revoked = true
	}
}

// validate checks one of the worker's access tokens, or a refresh token,
// against the model now, in the middle of everyone's traffic.
func (w *worker) validate(ctx context.Context) {
	w.ops["validate"]++
	if len(w.fams) > 0 && w.rng.IntN(4) == 0 {
		w.h.checkRefresh(ctx, w.fams[w.rng.IntN(len(w.fams))])
		return
	}
	if t := w.pickAccess(); t != nil {
		w.h.checkAccess(ctx, t)
	}
}

func (w *worker) pickAccess() *tok {
	if len(w.fams) > 0 && (len(w.lone) == 0 || w.rng.IntN(2) == 0) {
		f := w.fams[w.rng.IntN(len(w.fams))]
		return f.access[w.rng.IntN(len(f.access))]
	}
	if len(w.lone) > 0 {
		return w.lone[w.rng.IntN(len(w.lone))]
	}
	return nil
}

// pickFamily returns a random family, preferring live ones.
func (w *worker) pickFamily() *family {
	if len(w.fams) == 0 {
		return nil
	}
	for range 3 {
		if f := w.fams[w.rng.IntN(len(w.fams))]; !f.revoked {
			return f
		}
	}
	return w.fams[w.rng.IntN(len(w.fams))]
}

// refresh rotates a family's refresh token; a revoked family's must be
// refused.
func (w *worker) refresh(ctx context.Context) {
	f := w.pickFamily()
	if f == nil {
		return
	}
	w.ops["refresh"]++
	form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {f.refresh}}
	if f.revoked {
		w.h.post(ctx, w.h.token, form, http.StatusBadRequest)
		return
	}
	r, ok := w.h.post(ctx, w.h.token, form, http.StatusOK)
	if !ok {
		return
	}
	f.rotated = append(f.rotated, f.refresh)
	f.refresh = r.RefreshToken
	f.access = append(f.access, &tok{raw: r.AccessToken, fam: f})
}

func (w *worker) revokeAccess(ctx context.Context) {
	t := w.pickAccess()
	if t == nil {
		return
	}
	w.ops["revoke-access"]++
	if _, ok := w.h.post(ctx, w.h.revoke, url.Values{"token": {t.raw}, "token_type_hint": {"access_token"}}, http.StatusOK); ok {
		t.revoked = true
	}
}

func (w *worker) revokeRefresh(ctx context.Context) {
	f := w.pickFamily()
	if f == nil {
		return
	}
	w.ops["revoke-refresh"]++
	if _, ok := w.h.post(ctx, w.h.revoke, url.Values{"token": {f.refresh}}, http.StatusOK); ok {
		f.revoked = true
	}
}

// reuseRotated presents a rotated-away refresh token: refused, and the
// whole family is revoked.
func (w *worker) reuseRotated(ctx context.Context) {
	f := w.pickFamily()
	if f == nil || len(f.rotated) == 0 {
		return
	}
	w.ops["refresh-reuse"]++
	old := f.rotated[w.rng.IntN(len(f.rotated))]
	if _, ok := w.h.post(ctx, w.h.token, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {old}}, http.StatusBadRequest); ok {
		f.revoked = true
	}
}

// race presents one refresh token raceWidth times at once: at most one
// presentation wins, and the others, being reuse, revoke the family.
func (w *worker) race(ctx context.Context) {
	f := w.newFamily(ctx)
	if f == nil {
		return
	}
	w.ops["refresh-race"]++
	form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {f.refresh}}
	var wins atomic.Int32
	var news sync.Map
	var wg sync.WaitGroup
	for range raceWidth {
		wg.Go(func() {
			code, r, err := w.h.do(ctx, w.h.token, form)
			switch {
			case err != nil:
				w.h.fail("refresh race: %v", err)
			case code == http.StatusOK:
				wins.Add(1)
				news.Store(r.AccessToken, r.RefreshToken)
			case code != http.StatusBadRequest:
				w.h.fail("refresh race: status %d", code)
			}
		})
	}
	wg.Wait()
	if n := wins.Load(); n > 1 {
		w.h.fail("refresh race: %d of %d presentations of one refresh token succeeded", n, raceWidth)
	}
	f.rotated = append(f.rotated, f.refresh)
	news.Range(func(a, r any) bool {
		f.access = append(f.access, &tok{raw: a.(string), fam: f})
		f.refresh = r.(string)
		return true
	})
	f.revoked = true
}

// checkAccess validates t through the Provider and compares with the
// model; it returns whether t is valid.
func (h *harness) checkAccess(ctx context.Context, t *tok) bool {
	_, err := h.p.ValidateToken(ctx, t.raw)
	got := err == nil
	if err != nil && !errors.Is(err, middleware.ErrInvalidToken) {
		h.fail("validate: %v", err)
		return false
	}
	if want := t.valid(); got != want {
		kind := "lone"
		if t.fam != nil {
			kind = fmt.Sprintf("family (revoked=%v)", t.fam.revoked)
		}
		h.fail("access token of a %s grant, revoked=%v: valid=%v, want %v", kind, t.revoked, got, want)
	}
	return got
}

// checkRefresh looks the family's refresh tokens up in the store: the
// current one is live unless the family was revoked; rotated ones never.
func (h *harness) checkRefresh(ctx context.Context, f *family) {
	look := func(raw string) bool {
		_, err := h.st.Token(ctx, store.HashSecret(raw))
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			h.fail("refresh token lookup: %v", err)
		}
		return err == nil
	}
	if got := look(f.refresh); got == f.revoked {
		h.fail("current refresh token of a family (revoked=%v): live=%v", f.revoked, got)
	}
	for _, old := range f.rotated {
		if look(old) {
			h.fail("a rotated-away refresh token is live again (family revoked=%v)", f.revoked)
		}
	}
}

// reply is the part of a token endpoint answer the soak reads.
type reply struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
	Error        string `json:"error"`
	Description  string `json:"error_description"`
}

// do posts form to handler with the client's Basic credentials.
func (h *harness) do(ctx context.Context, handler http.Handler, form url.Values) (int, reply, error) {
	body := form.Encode()
	r := httptest.NewRequestWithContext(ctx, http.MethodPost, "/oauth/token", strings.NewReader(body))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.SetBasicAuth(clientID, h.secret)
	rec := httptest.NewRecorder()
	handler.ServeHTTP(rec, r)
	var out reply
	if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
		return rec.Code, out, fmt.Errorf("status %d, body %q: %v", rec.Code, rec.Body, err)
	}
	return rec.Code, out, nil
}

// post is do that expects status want; it reports anything else.
func (h *harness) post(ctx context.Context, handler http.Handler, form url.Values, want int) (reply, bool) {
	code, r, err := h.do(ctx, handler, form)
	if err != nil {
		h.fail("%s: %v", form.Get("grant_type")+form.Get("token_type_hint"), err)
		return r, false
	}
	if code != want {
		h.fail("%s: status %d (%s: %s), want %d", form.Get("grant_type")+form.Get("token_type_hint"), code, r.Error, r.Description, want)
		return r, false
	}
	if want == http.StatusOK && form.Has("grant_type") && r.AccessToken == "" {
		h.fail("%s: no access token in a 200 answer", form.Get("grant_type"))
		return r, false
	}
	return r, true
}
