package grant

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/oauthkit/oauthkit/middleware"
	"github.com/oauthkit/oauthkit/store"
	"github.com/oauthkit/oauthkit/store/memory"
	"github.com/oauthkit/oauthkit/store/password"
)

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// fixture is a Provider on the memory store with a few clients and users,
// served by an httptest.Server.
type fixture struct {
	t       testing.TB
	p       *Provider
	st      *memory.Store
	clock   *clock
	srv     *httptest.Server
	secrets map[string]string
	events  chan Event
}

const (
	svcClient    = "svc"    // confidential, client_credentials, Basic
	postClient   = "poster" // confidential, client_credentials + password + refresh, client_secret_post
	appClient    = "app"    // confidential, password + refresh, Basic
	publicClient = "cli"    // public, password + refresh
)

func newFixture(t testing.TB, mutate ...func(*Config)) *fixture {
	t.Helper()
	clk := &clock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	st := memory.New(memory.WithClock(clk.Now), memory.WithPasswordParams(password.Params{Memory: 1024, Time: 1, Threads: 1}))
	f := &fixture{t: t, st: st, clock: clk, secrets: map[string]string{}, events: make(chan Event, 1024)}
	ctx := context.Background()
	for _, c := range []*store.Client{
		{ID: svcClient, AuthMethod: store.AuthSecretBasic, GrantTypes: []string{store.GrantClientCredentials}, Scopes: []string{"read", "write"}},
		{ID: postClient, AuthMethod: store.AuthSecretPost, GrantTypes: []string{store.GrantClientCredentials, store.GrantPassword, store.GrantRefreshToken}, Scopes: []string{"read"}},
		{ID: appClient, AuthMethod: store.AuthSecretBasic, GrantTypes: []string{store.GrantPassword, store.GrantRefreshToken}, Scopes: []string{"read", "write", "admin"}},
		{ID: publicClient, AuthMethod: store.AuthNone, GrantTypes: []string{store.GrantPassword, store.GrantRefreshToken}, Scopes: []string{"read", "write"}},
	} {
		if c.AuthMethod != store.AuthNone {
			secret, hash, err := NewClientSecret()
			if err != nil {
				t.Fatal(err)
			}
			c.SecretHash = hash
			f.secrets[c.ID] = secret
		}
		if err := st.CreateClient(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.AddUser("1", "user1", "password1"); err != nil {
		t.Fatal(err)
	}
	cfg := Config{
		Issuer:  "https://as.example.com",
		Clients: st, Tokens: st, Users: st,
		GrantTypes:    []string{store.GrantClientCredentials, store.GrantPassword, store.GrantRefreshToken, store.GrantAuthorizationCode},
		LoginClientID: publicClient,
		Now:           clk.Now,
		Logger:        slog.New(slog.DiscardHandler),
		OnEvent: func(_ context.Context, e Event) {
			select {
			case f.events <- e:
			default:
			}
		},
	}
	for _, m := range mutate {
		m(&cfg)
	}
	p, err := NewProvider(cfg)
	if err != nil {
		t.Fatal(err)
	}
	f.p = p
	mux := http.NewServeMux()
	mux.Handle("/oauth/token", p.TokenHandler())
	mux.Handle("/login", p.LoginHandler())
	mux.Handle("/api/data", middleware.RequireOAuth(p, "read")(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`{"data": "This is protected data."}`))
	})))
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	return f
}
