package main

import (
	"context"
	"fmt"

	"github.com/oauthkit/oauthkit/grant"
	"github.com/oauthkit/oauthkit/store"
)

// resourceClientID is the confidential client that example/resource
// authenticates as to introspect tokens (grant.Config.Introspectors).
const resourceClientID = "demo-resource"

// exampleAudience is the aud of the example's access tokens: the API
// served by this program and by example/resource.
const exampleAudience = "oauthkit-example-api"

// tokenConfig applies -access-token and the introspection settings, and
// registers the resource server's client beside the demo clients.
func (a *app) tokenConfig(ctx context.Context, cfg *grant.Config, o options) error {
	cfg.Audience = []string{exampleAudience}
	cfg.Introspectors = []string{resourceClientID}
	cfg.ScopesSupported = []string{"read", "write"}
	switch o.AccessToken {
	case "", string(grant.FormatOpaque):
	case string(grant.FormatJWT):
		// Signed by the first of the provider's keys (oidc.go). A real
		// deployment loads its keys, and rotates them with SetSigningKeys.
		cfg.AccessTokenFormat = grant.FormatJWT
	default:
		return fmt.Errorf("-access-token %q: want opaque or jwt", o.AccessToken)
	}
	if o.Clients != nil {
		return nil // a -clients file names its own clients
	}
	return a.register(ctx, &store.Client{
		ID: resourceClientID, Name: "Demo resource server (introspection only)",
		AuthMethod: store.AuthSecretBasic, GrantTypes: []string{},
	}, o.Logger)
}
