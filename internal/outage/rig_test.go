package outage

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	goredis "github.com/redis/go-redis/v9"

	"github.com/oauthkit/oauthkit/grant"
	"github.com/oauthkit/oauthkit/internal/faultproxy"
	"github.com/oauthkit/oauthkit/internal/testservices"
	"github.com/oauthkit/oauthkit/middleware"
	"github.com/oauthkit/oauthkit/store"
	"github.com/oauthkit/oauthkit/store/postgres"
	"github.com/oauthkit/oauthkit/store/redis"
)

func TestMain(m *testing.M) { testservices.Main(m) }

// The stores' deadline in these tests: short, so that the suite is quick.
// A request's store calls together get 1.5 times as long.
const (
	storeTimeout = 300 * time.Millisecond
	budget       = storeTimeout * 3 / 2
)

// backend is a store the rig serves from.
type backend interface {
	store.ClientRegistry
	store.TokenStore
	Close() error
}

// rig is a Provider, with RequireOAuth in front of a protected route, on
// a store reached through a fault proxy.
type rig struct {
	t      *testing.T
	st     backend
	proxy  *faultproxy.Proxy
	p      *grant.Provider
	srv    *httptest.Server
	client *http.Client
	secret string // of the client "svc"
	logs   *logCounter
}

// discard is a logger that drops everything.
var discard = slog.New(slog.DiscardHandler)

// newServer serves h until the test ends.
func newServer(t *testing.T, h http.Handler) *httptest.Server {
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

// randomName returns prefix and 12 random hex digits.
func randomName(prefix string) string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return prefix + hex.EncodeToString(b)
}

// proxied starts a fault proxy to addr, closed when the test ends.
func proxied(t *testing.T, addr string) *faultproxy.Proxy {
	t.Helper()
	p, err := faultproxy.Start(addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

// postgresBackend opens a PostgreSQL store in a fresh schema (dropped at the
// end) through a fault proxy, or skips.
func postgresBackend(t *testing.T) (backend, *faultproxy.Proxy) {
	t.Helper()
	dsn := testservices.Postgres(t)
	pool, err := pgxpool.New(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	schema := randomName("oauthkit_outage_")
	t.Cleanup(func() {
		if _, err := pool.Exec(context.WithoutCancel(t.Context()), "DROP SCHEMA IF EXISTS "+pgx.Identifier{schema}.Sanitize()+" CASCADE"); err != nil {
			t.Errorf("drop schema: %v", err)
		}
	})
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	proxy := proxied(t, u.Host)
	u.Host = proxy.Addr()
	st, err := postgres.Open(t.Context(), u.String(), postgres.WithSchema(schema), postgres.WithCleanupInterval(0),
		postgres.WithConnectTimeout(storeTimeout))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		proxy.Pass()
		st.Close()
	})
	return st, proxy
}

// redisBackend opens a Redis store under a fresh key prefix (its keys
// deleted at the end) through a fault proxy, or skips.
func redisBackend(t *testing.T) (backend, *faultproxy.Proxy) {
	t.Helper()
	addr := testservices.Redis(t)
	prefix := randomName("oauthkit-outage-") + ":"
	t.Cleanup(func() {
		rdb := goredis.NewClient(&goredis.Options{Addr: addr})
		defer rdb.Close()
		ctx := context.WithoutCancel(t.Context())
		if keys, err := rdb.Keys(ctx, prefix+"*").Result(); err == nil && len(keys) > 0 {
			rdb.Del(ctx, keys...)
		}
	})
	proxy := proxied(t, addr)
	st, err := redis.Open(t.Context(), "redis://"+proxy.Addr()+"/0", redis.WithPrefix(prefix),
		redis.WithConnectTimeout(storeTimeout), redis.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		proxy.Pass()
		st.Close()
	})
	return st, proxy
}

// newRig serves a Provider on st, with limits and cfg changes applied.
func newRig(t *testing.T, st backend, proxy *faultproxy.Proxy, limits grant.StoreLimits, mutate ...func(*grant.Config)) *rig {
	t.Helper()
	r := &rig{t: t, st: st, proxy: proxy, logs: &logCounter{}}
	secret, err := grant.RegisterClient(t.Context(), st, &store.Client{
		ID: "svc", GrantTypes: []string{store.GrantClientCredentials}, Scopes: []string{"read"},
	})
	if err != nil && !errors.Is(err, store.ErrExists) { // a second rig on the store, which does not use svc
		t.Fatal(err)
	}
	r.secret = secret
	cfg := grant.Config{
		Issuer: "https://as.example", Clients: st, Tokens: st, Store: limits,
		Logger: slog.New(r.logs),
	}
	for _, m := range mutate {
		m(&cfg)
	}
	if r.p, err = grant.NewProvider(cfg); err != nil {
		t.Fatal(err)
	}
	guard, err := middleware.New(r.p, middleware.Options{Logger: slog.New(r.logs)})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/token", r.p.TokenHandler())
	mux.Handle("/revoke", r.p.RevokeHandler())
	mux.Handle("/introspect", r.p.IntrospectHandler())
	mux.Handle("/healthz", r.p.HealthHandler())
	mux.Handle("/api", guard.Require("read")(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Write([]byte(`{"ok":true}`))
	})))
	r.srv = httptest.NewServer(mux)
	t.Cleanup(r.srv.Close)
	// No client timeout: a hang shows as a long answer, measured, and
	// the test's own deadline ends it.
	r.client = &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	t.Cleanup(r.client.CloseIdleConnections)
	return r
}

// answer is one HTTP exchange.
type answer struct {
	status     int
	retryAfter string
	body       map[string]any
	took       time.Duration
	err        error
}

func (a answer) str(k string) string { s, _ := a.body[k].(string); return s }

// do sends req and times the answer.
func (r *rig) do(req *http.Request) answer {
	start := time.Now()
	resp, err := r.client.Do(req)
	a := answer{err: err}
	if err == nil {
		a.status, a.retryAfter = resp.StatusCode, resp.Header.Get("Retry-After")
		json.NewDecoder(resp.Body).Decode(&a.body)
		resp.Body.Close()
	}
	a.took = time.Since(start)
	return a
}

// request is a POST of form to path.
func (r *rig) request(path string, form url.Values) *http.Request {
	req, _ := http.NewRequestWithContext(r.t.Context(), http.MethodPost, r.srv.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return req
}

// form posts form to path as the client svc.
func (r *rig) form(ctx context.Context, path string, form url.Values) answer {
	req := r.request(path, form).WithContext(ctx)
	req.SetBasicAuth("svc", r.secret)
	return r.do(req)
}

// issue asks for a client_credentials token.
func (r *rig) issue(ctx context.Context) answer {
	return r.form(ctx, "/token", url.Values{"grant_type": {"client_credentials"}})
}

// api calls the protected route with token.
func (r *rig) api(ctx context.Context, token string) answer {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, r.srv.URL+"/api", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	return r.do(req)
}

// logCounter is a slog.Handler that keeps every record's message and
// level, for counting.
type logCounter struct {
	mu      sync.Mutex
	records []slog.Record
}

func (l *logCounter) Enabled(context.Context, slog.Level) bool { return true }
func (l *logCounter) Handle(_ context.Context, r slog.Record) error {
	l.mu.Lock()
	l.records = append(l.records, r.Clone())
	l.mu.Unlock()
	return nil
}
func (l *logCounter) WithAttrs([]slog.Attr) slog.Handler { return l }
func (l *logCounter) WithGroup(string) slog.Handler      { return l }

// count returns how many records at level or above contain msg.
func (l *logCounter) count(level slog.Level, msg string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, r := range l.records {
		if r.Level >= level && strings.Contains(r.Message, msg) {
			n++
		}
	}
	return n
}

// reset forgets the records so far.
func (l *logCounter) reset() {
	l.mu.Lock()
	l.records = nil
	l.mu.Unlock()
}
