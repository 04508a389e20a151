package sqlite_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/oauthkit/oauthkit/grant"
	"github.com/oauthkit/oauthkit/store"
	"github.com/oauthkit/oauthkit/store/sqlite"
)

// A SQLite file keeps clients and tokens across restarts of one process.
func ExampleOpen() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "oauthkit-example-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	st, err := sqlite.Open(ctx, filepath.Join(dir, "oauthkit.db")) // created if missing; its directory must exist
	if err != nil {
		log.Fatal(err)
	}
	defer st.Close()
	if _, err := grant.RegisterClient(ctx, st, &store.Client{ID: "billing", GrantTypes: []string{store.GrantClientCredentials}}); err != nil {
		log.Fatal(err)
	}
	p, err := grant.NewProvider(grant.Config{Issuer: "https://auth.example.com", Clients: st, Tokens: st})
	if err != nil {
		log.Fatal(err)
	}
	c, err := st.Client(ctx, "billing")
	fmt.Println(p.Issuer(), c.AuthMethod, err)
	// Output: https://auth.example.com client_secret_basic <nil>
}
