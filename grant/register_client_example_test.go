package grant_test

import (
	"context"
	"fmt"
	"log"
	"strings"

	"github.com/oauthkit/oauthkit/grant"
	"github.com/oauthkit/oauthkit/store"
	"github.com/oauthkit/oauthkit/store/memory"
)

// Register a service client: RegisterClient generates its secret, returned
// once, and stores only the hash.
func ExampleRegisterClient() {
	st := memory.New()
	c := &store.Client{ID: "billing", GrantTypes: []string{store.GrantClientCredentials}, Scopes: []string{"read"}}
	secret, err := grant.RegisterClient(context.Background(), st, c)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(c.AuthMethod, strings.HasPrefix(secret, grant.PrefixClientSecret), c.SecretHash.Equal(store.HashSecret(secret)))

	// A registration that store.Client.Validate refuses is not stored.
	_, err = grant.RegisterClient(context.Background(), st, &store.Client{ID: "spa", AuthMethod: store.AuthNone})
	fmt.Println(err)
	// Output:
	// client_secret_basic true true
	// store: invalid_redirect_uri: redirect_uris are required for authorization_code
}
