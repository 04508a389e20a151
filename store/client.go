package store

import (
	"context"
	"slices"
	"time"
)

// Client authentication methods (RFC 7591 token_endpoint_auth_method).
const (
	AuthSecretBasic   = "client_secret_basic" // HTTP Basic with client_id and secret
	AuthSecretPost    = "client_secret_post"  // client_id and client_secret in the form body
	AuthNone          = "none"                // a public client: no secret, PKCE instead
	AuthPrivateKeyJWT = "private_key_jwt"     // a JWT signed with the client's key (RFC 7523 §2.2 client assertion)
)

// Grant types a client may be registered for (RFC 7591 grant_types).
const (
	GrantAuthorizationCode = "authorization_code"
	GrantClientCredentials = "client_credentials"
	GrantRefreshToken      = "refresh_token"
	GrantPassword          = "password"
	GrantDeviceCode        = "urn:ietf:params:oauth:grant-type:device_code" // RFC 8628
)

// Client is a registered OAuth 2.0 client. A confidential client has a
// SecretHash or keys (AuthMethod [AuthPrivateKeyJWT]); a public client
// (AuthMethod [AuthNone]) has neither.
//
// [Client.Validate] states what a registration must satisfy; every
// [ClientRegistry] checks it on CreateClient and UpdateClient. Backends keep
// the fields from ID to CreatedAt in columns of their own and every later
// field in one JSON document, [Client.MarshalMetadata], so that a field added
// later needs no migration.
type Client struct {
	ID           string
	SecretHash   Hash      // SHA-256 of the client secret; zero for public clients
	Name         string    // shown on the consent page
	RedirectURIs []string  // matched exactly (RFC 9700 §2.1)
	GrantTypes   []string  // the grants this client may use
	Scopes       []string  // the scopes it may ask for; empty means none beyond the provider's defaults
	AuthMethod   string    // AuthSecretBasic, AuthSecretPost, AuthPrivateKeyJWT or AuthNone
	FirstParty   bool      // trusted by the host: consent may be skipped
	CreatedAt    time.Time // when it was registered

	// PostLogoutRedirectURIs are where the provider may send the browser
	// after logout (OpenID Connect RP-Initiated Logout,
	// post_logout_redirect_uris); matched exactly.
	PostLogoutRedirectURIs []string

	// IDTokenSignedResponseAlg is the JWS alg of the ID tokens issued to
	// the client (OpenID Connect Registration id_token_signed_response_alg);
	// "" means the provider's default.
	IDTokenSignedResponseAlg string

	// JWKS is the client's public keys as an inline JWK Set, in JSON (RFC
	// 7591 jwks), for private_key_jwt. Stores keep the same JSON value but
	// may compact its white space. At most one of JWKS and JWKSURI is set.
	JWKS []byte

	// JWKSURI is where the client publishes its JWK Set (RFC 7591 jwks_uri).
	JWKSURI string

	// TokenEndpointAuthSigningAlg is the JWS alg the client signs its
	// private_key_jwt assertions with (RFC 7591
	// token_endpoint_auth_signing_alg); "" means any the provider allows.
	TokenEndpointAuthSigningAlg string

	// DPoPBoundAccessTokens means the client always uses DPoP: the provider
	// refuses its token requests that carry no DPoP proof (RFC 9449 §5.2
	// dpop_bound_access_tokens).
	DPoPBoundAccessTokens bool

	// StrictAuthMethod means the client must authenticate with exactly
	// AuthMethod. By default (false) a confidential client that has a
	// SecretHash may use client_secret_basic or client_secret_post either;
	// AuthMethod is then the method advertised for it.
	StrictAuthMethod bool

	// RegistrationTokenHash is the SHA-256 of the client's RFC 7592
	// registration access token; zero when the client was not dynamically
	// registered.
	RegistrationTokenHash Hash

	// RFC 7591 §2 metadata the provider only shows or echoes.
	ClientURI       string   // client_uri: the client's home page
	LogoURI         string   // logo_uri
	Contacts        []string // contacts: people responsible, usually e-mail addresses
	SoftwareID      string   // software_id
	SoftwareVersion string   // software_version
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
	// CreateClient stores c. It should refuse a registration that
	// [Client.Validate] refuses, with Validate's error and storing nothing,
	// and return ErrExists if a client with the same ID is registered.
	CreateClient(ctx context.Context, c *Client) error
	// UpdateClient replaces the registration with c.ID by c, every field,
	// except that CreatedAt keeps its stored value. It should return
	// ErrNotFound if there is none, and refuse what [Client.Validate]
	// refuses as CreateClient does, changing nothing.
	UpdateClient(ctx context.Context, c *Client) error
	// DeleteClient removes the client with the given ID. If there is none,
	// DeleteClient should be a no-op and return nil. Tokens already issued
	// to the client are left alone: [TokenStore.RevokeClient], called
	// next, revokes them.
	DeleteClient(ctx context.Context, id string) error
	// Clients returns every registered client, ordered by ID.
	Clients(ctx context.Context) ([]*Client, error)
}
