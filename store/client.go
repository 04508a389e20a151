package store

import (
	"context"
	"slices"
	"time"
)

// Client authentication methods (RFC 7591 token_endpoint_auth_method).
const (
	AuthSecretBasic = "client_secret_basic" // HTTP Basic with client_id and secret
	AuthSecretPost  = "client_secret_post"  // client_id and client_secret in the form body
	AuthNone        = "none"                // a public client: no secret, PKCE instead
)

// Grant types a client may be registered for (RFC 7591 grant_types).
const (
	GrantAuthorizationCode = "authorization_code"
	GrantClientCredentials = "client_credentials"
	GrantRefreshToken      = "refresh_token"
	GrantPassword          = "password"
)

// Client is a registered OAuth 2.0 client. A confidential client has a
// SecretHash; a public client (AuthMethod [AuthNone]) has none.
type Client struct {
	ID           string
	SecretHash   Hash     // SHA-256 of the client secret; zero for public clients
	Name         string   // shown on the consent page
	RedirectURIs []string // matched exactly (RFC 9700 §2.1)
	GrantTypes   []string // the grants this client may use
	Scopes       []string // the scopes it may ask for; empty means none beyond the provider's defaults
	AuthMethod   string   // AuthSecretBasic, AuthSecretPost or AuthNone
	FirstParty   bool     // trusted by the host: consent may be skipped
	// StrictAuthMethod makes the client authenticate with exactly
	// AuthMethod. Default false: a confidential client may use
	// client_secret_basic or client_secret_post, whichever it sends;
	// AuthMethod is the one advertised.
	StrictAuthMethod bool
	CreatedAt        time.Time // when it was registered
}

// Public reports whether c authenticates with no secret (RFC 6749 §2.1).
func (c *Client) Public() bool { return c.AuthMethod == AuthNone }

// AllowsGrant reports whether c is registered for grant type gt.
func (c *Client) AllowsGrant(gt string) bool { return slices.Contains(c.GrantTypes, gt) }

// AllowsScope reports whether c may ask for scope s.
func (c *Client) AllowsScope(s string) bool { return slices.Contains(c.Scopes, s) }

// ClientStore is the clientgetter: it finds registered clients.
type ClientStore interface {
	// Client returns the client with the given ID, or ErrNotFound. The
	// returned Client may be shared: callers should treat it as read-only.
	// Client should be safe for concurrent use.
	Client(ctx context.Context, id string) (*Client, error)
}

// ClientRegistry is a ClientStore that can also register and remove clients.
// It is optional: a host may keep clients in its own configuration.
type ClientRegistry interface {
	ClientStore
	// CreateClient stores c. It should return ErrExists if a client with
	// the same ID is already registered.
	CreateClient(ctx context.Context, c *Client) error
	// DeleteClient removes the client with the given ID. If there is none,
	// DeleteClient should be a no-op and return nil. Tokens already issued
	// to the client are left alone: [TokenStore.RevokeClient], called
	// next, revokes them.
	DeleteClient(ctx context.Context, id string) error
	// Clients returns every registered client, ordered by ID.
	Clients(ctx context.Context) ([]*Client, error)
}
