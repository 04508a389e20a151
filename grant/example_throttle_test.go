package grant_test

import (
	"context"
	"fmt"
	"log"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/oauthkit/oauthkit/grant"
	"github.com/oauthkit/oauthkit/store"
	"github.com/oauthkit/oauthkit/store/memory"
)

// caseInsensitiveUsers is a UserStore whose logins ignore case: its
// AccountKey makes "Alice" and "alice" share one throttling count.
type caseInsensitiveUsers struct{ *memory.Store }

func (u caseInsensitiveUsers) AccountKey(username string) string { return strings.ToLower(username) }

func (u caseInsensitiveUsers) Authenticate(ctx context.Context, username, pw string) (*store.User, error) {
	return u.Store.Authenticate(ctx, strings.ToLower(username), pw)
}

// Throttling and client authentication are configured by two sub-structs
// whose zero values are the defaults. On PostgreSQL or Redis, every
// instance shares the counts (the store implements store.AttemptCounter);
// here, in memory, the process keeps them.
func ExampleThrottle() {
	st := memory.New()
	if err := st.AddUser("1", "alice", "correct horse"); err != nil {
		log.Fatal(err)
	}
	if err := st.CreateClient(context.Background(), &store.Client{ID: "app", AuthMethod: store.AuthNone, GrantTypes: []string{store.GrantPassword}}); err != nil {
		log.Fatal(err)
	}
	p, err := grant.NewProvider(grant.Config{
		Issuer: "https://auth.example.com", Clients: st, Tokens: st, Users: caseInsensitiveUsers{st},
		GrantTypes: []string{store.GrantPassword}, LoginClientID: "app",
		Throttle: grant.Throttle{
			PerAccount:        store.Limit{Burst: 3, Every: 5 * time.Minute}, // stricter than the default 5 a minute
			MaxPasswordChecks: 2,                                             // hashes at once; beyond: 503
		},
		ClientAuth: grant.ClientAuth{StrictMethod: false}, // the default: Basic or the form body, whichever a client sends
	})
	if err != nil {
		log.Fatal(err)
	}
	login := p.LoginHandler()
	for _, name := range []string{"Alice", "ALICE", "alice", "alice"} {
		r := httptest.NewRequest("POST", "/login", strings.NewReader(`{"username": "`+name+`", "password": "guess"}`))
		r.Header.Set("Content-Type", "application/json")
		w := httptest.NewRecorder()
		login.ServeHTTP(w, r)
		fmt.Println(name, w.Code, w.Header().Get("Retry-After") != "")
	}
	// Output:
	// Alice 401 false
	// ALICE 401 false
	// alice 401 false
	// alice 429 true
}
