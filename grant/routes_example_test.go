package grant_test

import (
	"fmt"
	"log"
	"net/http"

	"github.com/oauthkit/oauthkit/grant"
	"github.com/oauthkit/oauthkit/store/memory"
)

// Every endpoint in one call, for an issuer with a path: the routes sit
// under the issuer's path, the metadata at its RFC 8414 §3.1 URL.
func ExampleProvider_Mount() {
	st := memory.New()
	p, err := grant.NewProvider(grant.Config{Issuer: "https://auth.example.com/tenant1", Clients: st, Tokens: st, Users: st})
	if err != nil {
		log.Fatal(err)
	}
	authz, err := p.AuthorizeHandler(grant.AuthorizeOptions{})
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	p.Mount(mux, grant.Pages{Authorize: authz})

	for _, r := range p.Routes(grant.Pages{Authorize: authz}) {
		fmt.Println(r.Pattern)
	}
	fmt.Println(p.MetadataURL())
	// Output:
	// /.well-known/oauth-authorization-server/tenant1
	// /tenant1/oauth/token
	// /tenant1/oauth/revoke
	// /tenant1/oauth/introspect
	// /tenant1/.well-known/jwks.json
	// /tenant1/oauth/authorize
	// https://auth.example.com/.well-known/oauth-authorization-server/tenant1
}
