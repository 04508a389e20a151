package memory_test

import (
	"context"
	"fmt"
	"log"

	"github.com/oauthkit/oauthkit/grant"
	"github.com/oauthkit/oauthkit/store"
	"github.com/oauthkit/oauthkit/store/memory"
)

// A memory store holds clients, tokens and, for demos and tests, users;
// nothing survives the process.
func ExampleNew() {
	ctx := context.Background()
	st := memory.New()
	if err := st.AddUser("1", "user1", "password1"); err != nil {
		log.Fatal(err)
	}
	if _, err := grant.RegisterClient(ctx, st, &store.Client{
		ID: "cli", AuthMethod: store.AuthNone, GrantTypes: []string{store.GrantRefreshToken}, Scopes: []string{"read"},
	}); err != nil {
		log.Fatal(err)
	}
	p, err := grant.NewProvider(grant.Config{Issuer: "https://auth.example.com", Clients: st, Tokens: st, Users: st, LoginClientID: "cli"})
	if err != nil {
		log.Fatal(err)
	}
	u, err := st.Authenticate(ctx, "user1", "password1")
	fmt.Println(p.Issuer(), u.ID, err)
	// Output: https://auth.example.com 1 <nil>
}
