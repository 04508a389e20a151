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

// The device authorization grant (RFC 8628) for a TV or a CLI: the grant
// in GrantTypes, a client registered for it, and the verification page
// built with the same options as the authorization endpoint's. Mount adds
// the device authorization endpoint; the page goes at Endpoints.Device,
// the verification_uri the devices show.
func ExampleProvider_DeviceHandler() {
	st := memory.New()
	_ = st.CreateClient(context.Background(), &store.Client{ID: "tv", Name: "Living-room TV", AuthMethod: store.AuthNone,
		GrantTypes: []string{store.GrantDeviceCode, store.GrantRefreshToken}, Scopes: []string{"read"}})
	p, err := grant.NewProvider(grant.Config{
		Issuer: "https://auth.example.com", Clients: st, Tokens: st, Users: st,
		GrantTypes: []string{store.GrantAuthorizationCode, store.GrantRefreshToken, store.GrantDeviceCode},
	})
	if err != nil {
		log.Fatal(err)
	}
	opts := grant.AuthorizeOptions{ScopeDescriptions: map[string]string{"read": "read your data"}}
	authz, err := p.AuthorizeHandler(opts)
	if err != nil {
		log.Fatal(err)
	}
	device, err := p.DeviceHandler(grant.DeviceOptions{AuthorizeOptions: opts})
	if err != nil {
		log.Fatal(err)
	}
	pages := grant.Pages{Authorize: authz, Device: device}
	mux := http.NewServeMux()
	p.Mount(mux, pages)

	for _, r := range p.Routes(pages) {
		fmt.Println(r.Pattern)
	}
	// Output:
	// /.well-known/oauth-authorization-server
	// /oauth/token
	// /oauth/revoke
	// /oauth/introspect
	// /.well-known/jwks.json
	// /oauth/device_authorization
	// /oauth/authorize
	// /device
}
