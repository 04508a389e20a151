// Package sharedtest holds tests that need a Provider over a real store,
// run by the store packages whose backends instances share (PostgreSQL,
// Redis): throttling that holds across two instances, the device
// authorization grant spread over two instances, and malformed input
// refused before the database sees it.
package sharedtest

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/oauthkit/oauthkit/grant"
	"github.com/oauthkit/oauthkit/oauthtest"
	"github.com/oauthkit/oauthkit/store"
	"github.com/oauthkit/oauthkit/store/memory"
	"github.com/oauthkit/oauthkit/store/password"
	"github.com/oauthkit/oauthkit/store/storetest"
)

// countingUsers counts password checks.
type countingUsers struct {
	store.UserStore
	n atomic.Int64
}

func (u *countingUsers) Authenticate(ctx context.Context, name, pw string) (*store.User, error) {
	u.n.Add(1)
	return u.UserStore.Authenticate(ctx, name, pw)
}

const loginClient = "login"

// provider returns a Provider on st, for the password grant and /login,
// with users as its UserStore.
func provider(t *testing.T, st storetest.Store, users store.UserStore, now func() time.Time) *grant.Provider {
	t.Helper()
	p, err := grant.NewProvider(grant.Config{
		Issuer: "https://as.example.com", Clients: st, Tokens: st, Users: users,
		GrantTypes:    []string{store.GrantPassword, store.GrantClientCredentials},
		LoginClientID: loginClient, Now: now,
		Logger: slog.New(slog.DiscardHandler),
		// Every parallel guess reaches the throttle, none is shed with a
		// 503 before it (and refunded), so that the counts are exact.
		Throttle: grant.Throttle{MaxPasswordChecks: 64},
	})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func newUsers(t *testing.T) *countingUsers {
	t.Helper()
	mem := memory.New(memory.WithPasswordParams(password.Params{Memory: 1024, Time: 1, Threads: 1}))
	if err := mem.AddUser("1", "user1", "password1"); err != nil {
		t.Fatal(err)
	}
	return &countingUsers{UserStore: mem}
}

func register(t *testing.T, st storetest.Store) {
	t.Helper()
	err := st.CreateClient(t.Context(), &store.Client{ID: loginClient, AuthMethod: store.AuthNone,
		GrantTypes: []string{store.GrantPassword}, Scopes: []string{"read"}, CreatedAt: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
}

func login(h http.Handler, addr, user, pw string) int {
	r := httptest.NewRequest("POST", "/login", strings.NewReader(`{"username": "`+user+`", "password": "`+pw+`"}`))
	r.Header.Set("Content-Type", "application/json")
	r.RemoteAddr = addr + ":40000"
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w.Code
}

// Throttle runs the 40-parallel attack of grant's
// TestParallelWrongPasswordsReserved against two Providers, each on its
// own handle (a and b) to one shared database: the wrong passwords that
// reach the user store are bounded in total by one instance's limit, not
// twice it; the user logs in from another address at once, and from the
// attacked one after the window.
func Throttle(t *testing.T, a, b storetest.Store) {
	if _, ok := a.(store.AttemptCounter); !ok {
		t.Fatal("the store does not share throttling counts (store.AttemptCounter)")
	}
	register(t, a)
	users := newUsers(t)
	clk := oauthtest.NewClock(time.Date(2030, 3, 4, 5, 6, 7, 0, time.UTC))
	hs := []http.Handler{provider(t, a, users, clk.Now).LoginHandler(), provider(t, b, users, clk.Now).LoginHandler()}
	var wg sync.WaitGroup
	start := make(chan struct{})
	var tooMany atomic.Int64
	for i := range 40 {
		wg.Go(func() {
			<-start
			if login(hs[i%2], "203.0.113.7", "user1", "guess") == http.StatusTooManyRequests {
				tooMany.Add(1)
			}
		})
	}
	close(start)
	wg.Wait()
	const burst = 5 // grant's default Throttle.PerAccount
	if n := users.n.Load(); n > burst {
		t.Fatalf("40 parallel guesses over two instances: %d reached the user store, limit %d in total", n, burst)
	}
	if n := tooMany.Load(); n < 40-burst {
		t.Fatalf("only %d of 40 throttled", n)
	}
	for i, h := range hs {
		if s := login(h, "203.0.113.7", "user1", "password1"); s != http.StatusTooManyRequests {
			t.Fatalf("instance %d after the attack: %d, want 429", i+1, s)
		}
		if s := login(h, "198.51.100.1", "user1", "password1"); s != 200 {
			t.Fatalf("instance %d, the user from another address: %d", i+1, s)
		}
	}
	clk.Advance(time.Minute) // grant's default window
	if s := login(hs[1], "203.0.113.7", "user1", "password1"); s != 200 {
		t.Fatalf("the right password after the window: %d", s)
	}
}

// countingClients counts client lookups.
type countingClients struct {
	storetest.Store
	n atomic.Int64
}

func (c *countingClients) Client(ctx context.Context, id string) (*store.Client, error) {
	c.n.Add(1)
	return c.Store.Client(ctx, id)
}

// Syntax sends malformed client IDs (NUL, control characters, invalid
// UTF-8) to the token endpoint, and malformed usernames to it and to
// /login, on a Provider over st: each is refused with the RFC 6749 error
// before the database is asked (PostgreSQL used to answer 500 for a NUL).
func Syntax(t *testing.T, st storetest.Store) {
	register(t, st)
	users := newUsers(t)
	clients := &countingClients{Store: st}
	p := provider(t, clients, users, time.Now)
	clients.n.Store(0) // NewProvider looked up the login client
	token := p.TokenHandler()
	post := func(body string, basic string) *httptest.ResponseRecorder {
		r := httptest.NewRequest("POST", "/oauth/token", strings.NewReader(body))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if basic != "" {
			r.SetBasicAuth(basic, "secret")
		}
		w := httptest.NewRecorder()
		token.ServeHTTP(w, r)
		return w
	}
	for _, id := range []string{"a\x00b", "\x00", "caf\xe9", "a\r\nb", "\x7f"} {
		for _, w := range []*httptest.ResponseRecorder{
			post("grant_type=client_credentials&client_id="+url.QueryEscape(id)+"&client_secret=x", ""),
			post("grant_type=client_credentials", id),
		} {
			if w.Code != http.StatusUnauthorized || !strings.Contains(w.Body.String(), `"invalid_client"`) {
				t.Errorf("client_id %q: %d %s, want 401 invalid_client", id, w.Code, w.Body)
			}
		}
	}
	if n := clients.n.Load(); n != 0 {
		t.Errorf("the store was asked %d times about malformed client IDs", n)
	}
	for _, name := range []string{"a\x00b", "caf\xe9", "a\nb"} {
		w := post("grant_type=password&client_id="+loginClient+"&username="+url.QueryEscape(name)+"&password=x", "")
		if w.Code != http.StatusBadRequest || !strings.Contains(w.Body.String(), `"invalid_request"`) {
			t.Errorf("username %q: %d %s, want 400 invalid_request", name, w.Code, w.Body)
		}
	}
	r := httptest.NewRequest("POST", "/login", strings.NewReader(`{"username": "a\u0000b", "password": "x"}`))
	r.Header.Set("Content-Type", "application/json")
	w := httptest.NewRecorder()
	p.LoginHandler().ServeHTTP(w, r)
	if w.Code != http.StatusBadRequest || !strings.Contains(w.Body.String(), `"invalid_request"`) {
		t.Errorf("/login with a NUL in the username: %d %s", w.Code, w.Body)
	}
	if n := users.n.Load(); n != 0 {
		t.Errorf("the user store was asked %d times about malformed usernames", n)
	}
}
