package grant_test

import (
	"context"
	"fmt"
	"log"
	"net/http"

	"github.com/oauthkit/oauthkit/grant"
	"github.com/oauthkit/oauthkit/store"
	"github.com/oauthkit/oauthkit/store/memory"
)

// An OpenID Provider: the host's claims source, one key set with an RS256
// key, and Mount adds discovery, UserInfo and the end-session endpoint.
func ExampleOIDC() {
	st := memory.New()
	keys, err := testKeys() // grant.GenerateSigningKey(grant.AlgRS256), or your own keys
	if err != nil {
		log.Fatal(err)
	}
	p, err := grant.NewProvider(grant.Config{
		Issuer: "https://auth.example.com", Clients: st, Tokens: st, Users: st,
		SigningKeys:     keys,
		ScopesSupported: []string{"openid", "profile", "email", "offline_access"},
		OIDC: grant.OIDC{Enabled: true, Claims: func(ctx context.Context, u *store.User) (*grant.UserClaims, error) {
			return &grant.UserClaims{PreferredUsername: u.Username, Email: u.Username + "@example.com", EmailVerified: true}, nil
		}},
	})
	if err != nil {
		log.Fatal(err)
	}
	authz, err := p.AuthorizeHandler(grant.AuthorizeOptions{})
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	p.Mount(mux, grant.Pages{Authorize: authz})

	for _, r := range p.Routes(grant.Pages{Authorize: authz})[5:] {
		fmt.Println(r.Pattern)
	}
	fmt.Println(p.DiscoveryURL())
	// Output:
	// /oauth/authorize
	// /.well-known/openid-configuration
	// /oauth/userinfo
	// /oauth/logout
	// https://auth.example.com/.well-known/openid-configuration
}
