package postgres_test

import (
	"context"
	"log"
	"time"

	"github.com/oauthkit/oauthkit/grant"
	"github.com/oauthkit/oauthkit/store/postgres"
)

// PostgreSQL, shared by every instance of the service: Open makes a pool
// from a DSN and migrates the schema. (It needs a server, so it is not run
// here.)
func ExampleOpen() {
	ctx := context.Background()
	st, err := postgres.Open(ctx, "postgres://app@db.internal:5432/app?sslmode=verify-full",
		postgres.WithSchema("oauthkit"),
		postgres.WithConnectTimeout(3*time.Second), // default 5 s
	)
	if err != nil {
		log.Fatal(err) // a server that does not answer fails here, within the connect timeout
	}
	defer st.Close()
	p, err := grant.NewProvider(grant.Config{Issuer: "https://auth.example.com", Clients: st, Tokens: st})
	if err != nil {
		log.Fatal(err)
	}
	_ = p // mount p's handlers: p.Mount(mux, grant.Pages{})
}
