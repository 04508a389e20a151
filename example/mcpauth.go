package main

import (
	"context"
	"strings"

	"github.com/oauthkit/oauthkit/grant"
	"github.com/oauthkit/oauthkit/store"
)

// mcpConfig makes the example an authorization server that MCP clients
// (and other agents) can use without being registered by hand:
//
//   - the resources of the -resource flags are those tokens may be issued
//     for (RFC 8707): a token asked for one of them carries it as its
//     audience, a resource the example does not know is refused with
//     invalid_target;
//   - POST /oauth/register registers public clients (RFC 7591:
//     token_endpoint_auth_method none, redirect URIs on loopback or https),
//     and /oauth/register/{client_id} reads, updates and deletes them with
//     their registration access token (RFC 7592);
//   - client IDs that are https URLs of client ID metadata documents are
//     accepted; while the issuer is http on loopback, so are http loopback
//     ones (development).
func mcpConfig(cfg *grant.Config, o options) {
	cfg.Resources.Allowed = o.Resources
	cfg.Registration = grant.Registration{
		Open:        true,
		AuthMethods: []string{store.AuthNone},
		RedirectURI: webOrLoopback,
	}
	cfg.ClientIDMetadata.Enabled = true
}

// webOrLoopback allows redirect URIs that are https, or http on loopback
// (which registration has already checked is an IP literal): no
// private-use schemes.
func webOrLoopback(_ context.Context, uri string) bool {
	return strings.HasPrefix(uri, "https://") || strings.HasPrefix(uri, "http://")
}
