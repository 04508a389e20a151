package grant

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/oauthkit/oauthkit/internal/jwtverify"
	"github.com/oauthkit/oauthkit/internal/loopback"
	"github.com/oauthkit/oauthkit/internal/replay"
	"github.com/oauthkit/oauthkit/store"
)

// Config configures a Provider. Issuer and the stores are required; every
// other field's comment gives its default, which is the secure choice.
type Config struct {
	// Issuer is the authorization server's identifier: an https URL with no
	// query or fragment (http is accepted for loopback hosts only, for
	// development). Required.
	Issuer string

	// Clients finds registered clients. Required.
	Clients store.ClientStore
	// Tokens keeps codes, access and refresh tokens. Required.
	Tokens store.TokenStore
	// Users checks passwords, for the password grant, LoginHandler and the
	// built-in login page. Required only for those.
	Users store.UserStore

	// GrantTypes the provider serves. Default authorization_code,
	// client_credentials and refresh_token. The password grant must be
	// listed here and in the client's registration to be used; the implicit
	// grant is not available (RFC 9700 §2.1.2).
	GrantTypes []string

	// AccessTokenTTL is the lifetime of access tokens. Default 1 hour.
	AccessTokenTTL time.Duration
	// RefreshTokenTTL is the lifetime of each refresh token; every use
	// rotates it. Default 14 days.
	RefreshTokenTTL time.Duration
	// RefreshReuseGrace is how long after a refresh token was rotated the
	// same client presenting it again is taken for a retry of a request
	// whose answer was lost (a crash, a timeout, a dropped connection), and
	// gets the same access and refresh token as the first answer, on any
	// instance sharing the store and Secret (refresh_retry.go). Another
	// client presenting it, anyone after the grace, or anyone once the
	// rotated refresh token has been used, revokes the whole token family
	// (RFC 9700 §4.14.2). Within the grace, a thief holding the rotated
	// token and the client's credentials gets what the client got, and
	// nothing more. Default 2 seconds; a negative value makes every reuse
	// revoke the family.
	RefreshReuseGrace time.Duration
	// CodeTTL is the lifetime of authorization codes, at most 10 minutes
	// (RFC 6749 §4.1.2). Default 1 minute.
	CodeTTL time.Duration

	// Authorization endpoint (AuthorizeHandler).

	// Secret is the provider's one secret, at least 32 random bytes: every
	// keyed mechanism (the session cookie, CSRF tokens, idempotent refresh
	// retries, DPoP nonces, the hashes of device user codes) uses a subkey
	// derived from it with HKDF (subkey.go). Every
	// instance serving the same issuer must share it. Default: 32 random
	// bytes per Provider, so that sessions end when the process does and
	// work on one instance only, and a refresh retry is recognised only by
	// the instance that answered first (another instance would answer it
	// with tokens of its own, a second refresh token in the family).
	Secret []byte
	// SessionTTL is how long a login on the built-in login page lasts.
	// Default 8 hours.
	SessionTTL time.Duration
	// PKCEOptionalForConfidential lets confidential clients omit PKCE
	// (RFC 9700 §2.1.1 allows it when they use another defence). Public
	// clients always need it. Default false: PKCE S256 for every client.
	PKCEOptionalForConfidential bool

	// LoginClientID names the first-party client on whose behalf
	// LoginHandler issues tokens (the tutorial's POST /login). Empty
	// disables LoginHandler. The tokens carry the client's registered
	// scopes, and a refresh token when it is registered for refresh_token.
	// LoginHandler is its password grant: register it without the password
	// grant (and the provider need not serve it in GrantTypes), so that the
	// token endpoint, which takes the form bodies any web page can make a
	// browser send, never takes passwords for it. NewProvider checks that
	// the client is registered and valid (login_client.go).
	LoginClientID string

	// OnEvent, if set, is called for every token issued or refused and
	// every revocation, for logging, metrics and auditing (the Go form of
	// Flask-OAuthlib's after_request). Events never carry secrets.
	OnEvent func(ctx context.Context, e Event)
	// ExtraTokenFields, if set, adds fields to successful token responses.
	// It cannot replace the standard ones.
	ExtraTokenFields func(ctx context.Context, t IssuedToken) map[string]any

	// ClientAuth configures client authentication; see [ClientAuth].
	ClientAuth ClientAuth
	// DPoP configures DPoP-bound tokens (RFC 9449); see [DPoP]. The zero
	// value accepts DPoP proofs and requires none.
	DPoP DPoP

	// ClientAddr returns the client address that throttling counts
	// failures by. Default: the host of r.RemoteAddr. Set it when the
	// service runs behind a proxy you trust to set X-Forwarded-For.
	ClientAddr func(r *http.Request) string
	// Throttle configures brute-force throttling; see [Throttle].
	Throttle Throttle

	// ValidationCache configures a cache of validated access tokens in
	// front of a shared token store, kept honest by the store's change
	// feed; see [ValidationCache]. Default off.
	ValidationCache ValidationCache
	// Store bounds every store call: a deadline, and a limit on calls in
	// flight; see [StoreLimits]. The zero value is the default (2 seconds,
	// 256 calls per store).
	Store StoreLimits

	// Device configures the device authorization grant (RFC 8628), served
	// when GrantTypes lists store.GrantDeviceCode; see [Device].
	Device Device

	// Endpoints are the paths of the handlers, relative to the issuer (under
	// its path, if it has one), for the metadata document (RFC 8414) and
	// Provider.Routes. Each empty field takes its default; see [Endpoints].
	Endpoints Endpoints
	// ScopesSupported, if set, is published as scopes_supported in the
	// metadata document. Default none published.
	ScopesSupported []string
	// CanIntrospect decides whether an authenticated confidential client
	// may learn about token t at the introspection endpoint. Default: only
	// the client the token was issued to, and the clients listed in
	// Introspectors. Public clients may never introspect.
	CanIntrospect func(ctx context.Context, caller *store.Client, t *store.Token) bool
	// Introspectors lists the confidential clients (typically resource
	// servers) that the default CanIntrospect lets introspect every token.
	// Default none.
	Introspectors []string

	// AccessTokenFormat is FormatOpaque (the default) or FormatJWT (RFC
	// 9068 JWT access tokens, signed with SigningKeys).
	AccessTokenFormat TokenFormat
	// SigningKeys sign JWT access tokens and OpenID Connect ID tokens, the
	// one key set of the Provider: the first key signs access tokens, the
	// first key of an algorithm signs the ID tokens of that algorithm, and
	// all are published by JWKSHandler, so that tokens signed by a previous
	// key stay valid while it is listed. Required for FormatJWT and for
	// OIDC (which needs an RS256 key among them); see
	// [Provider.SetSigningKeys] to rotate at run time.
	SigningKeys []SigningKey

	// OIDC configures OpenID Connect 1.0 (oidc.go). Default off.
	OIDC OIDC
	// Audience is the aud of access tokens issued for no particular
	// resource (a request without RFC 8707 resource parameters): the
	// resource servers they are meant for. Required for FormatJWT (RFC
	// 9068 §2.2); also reported by introspection and ValidateToken. A token
	// requested for resources has those instead (Resources). Default none.
	Audience []string
	// Resources are the RFC 8707 resource indicators clients may name:
	// the resource servers the provider issues tokens for (resource.go).
	// Default none: every resource parameter is refused with invalid_target.
	Resources Resources
	// Registration configures dynamic client registration (RFC 7591,
	// RFC 7592; register.go). Default off.
	Registration Registration
	// ClientIDMetadata configures Client ID Metadata Documents: client IDs
	// that are https URLs of the clients' metadata (cimd.go). Default off.
	ClientIDMetadata ClientIDMetadata

	// Logger receives issued tokens and refusals (at Info; refusals
	// sampled, with client-supplied values cut short) and internal errors
	// (at Error). It never sees a secret. Default slog.Default().
	Logger *slog.Logger
	// Now is the clock. Default time.Now.
	Now func() time.Time
}

const maxCodeTTL = 10 * time.Minute

func (c *Config) setDefaults() error {
	if c.Clients == nil || c.Tokens == nil {
		return errors.New("grant: Config.Clients and Config.Tokens are required")
	}
	if err := checkIssuer(c.Issuer); err != nil {
		return err
	}
	c.Endpoints.setDefaults()
	if err := c.Endpoints.check(c.Issuer); err != nil {
		return err
	}
	if err := c.checkGrantTypes(); err != nil { // grants.go
		return err
	}
	if c.LoginClientID != "" && c.Users == nil {
		return errors.New("grant: LoginClientID needs Config.Users")
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	def(&c.AccessTokenTTL, time.Hour)
	def(&c.RefreshTokenTTL, 14*24*time.Hour)
	def(&c.CodeTTL, time.Minute)
	def(&c.RefreshReuseGrace, 2*time.Second)
	def(&c.SessionTTL, 8*time.Hour)
	if err := c.secretDefault(); err != nil {
		return err
	}
	if c.AccessTokenTTL < 0 || c.RefreshTokenTTL < 0 || c.CodeTTL < 0 || c.CodeTTL > maxCodeTTL || c.SessionTTL < 0 {
		return errors.New("grant: token lifetimes must be positive, and CodeTTL at most 10 minutes")
	}
	if err := c.setTokenDefaults(); err != nil {
		return err
	}
	if err := c.setOIDCDefaults(); err != nil { // oidc.go
		return err
	}
	if err := c.Throttle.setDefaults(c.Tokens); err != nil {
		return err
	}
	if err := c.Resources.check(); err != nil { // resource.go
		return err
	}
	if err := c.checkRegistration(); err != nil { // register.go
		return err
	}
	c.checkCIMD()                                 // cimd.go
	if err := c.Store.setDefaults(); err != nil { // store_limits.go
		return err
	}
	if c.ClientAddr == nil {
		c.ClientAddr = remoteHost
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return c.ClientAuth.setDefaults(c.Tokens, c.Now)
}

// checkIssuer enforces RFC 8414 §2: https, no query or fragment; http only
// on a loopback IP literal (package loopback), for development. The path,
// if any, takes only the characters Endpoints paths may use (endpoints.go):
// the routes are mounted under it.
func checkIssuer(iss string) error {
	u, err := url.Parse(iss)
	if err != nil || u.Host == "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil || strings.HasSuffix(iss, "?") || strings.HasSuffix(iss, "#") {
		return fmt.Errorf("grant: Config.Issuer %q must be an absolute URL without query or fragment", iss)
	}
	if u.Scheme != "https" && (u.Scheme != "http" || !loopback.Host(u.Hostname())) {
		return fmt.Errorf("grant: Config.Issuer %q must use https (http only on a loopback IP literal such as 127.0.0.1 or [::1])", iss)
	}
	if p := strings.TrimSuffix(u.EscapedPath(), "/"); p != "" && !validPath(p) {
		return fmt.Errorf("grant: Config.Issuer %q: the path may hold only unreserved characters and sub-delimiters, in non-empty segments other than \".\" and \"..\" (see Endpoints)", iss)
	}
	return nil
}

func remoteHost(r *http.Request) string {
	host := r.RemoteAddr
	for i := len(host) - 1; i >= 0; i-- {
		if host[i] == ':' {
			host = host[:i]
			break
		}
	}
	if len(host) > 1 && host[0] == '[' {
		host = host[1 : len(host)-1]
	}
	return host
}

// ClientAuth configures client authentication at the token, revocation
// and introspection endpoints. The zero value is the default.
type ClientAuth struct {
	// StrictMethod makes every confidential client authenticate with
	// exactly its registered AuthMethod, as store.Client.StrictAuthMethod
	// does for one client. Default false: client_secret_basic and
	// client_secret_post are both accepted, whichever a client registered
	// for either sends. A private_key_jwt client authenticates with its
	// assertions only, whatever this says.
	StrictMethod bool

	// AssertionAlgorithms are the JWS algorithms private_key_jwt client
	// assertions may be signed with, published as
	// token_endpoint_auth_signing_alg_values_supported: any of EdDSA,
	// ES256, PS256 and RS256. Default all four. "none" and the HMAC
	// algorithms are never accepted.
	AssertionAlgorithms []string
	// AssertionMaxLifetime bounds a client assertion's life: its exp at
	// most this far ahead, its iat (if any) at most this far back, each
	// with 30 seconds of leeway for clocks. Its jti is remembered until exp.
	// Default 5 minutes; at most 1 hour.
	AssertionMaxLifetime time.Duration
	// IssuerAudienceOnly accepts, as the aud of client assertions, only the
	// issuer identifier as a string (draft-ietf-oauth-rfc7523bis, FAPI
	// 2.0). Default false: an assertion that is not explicitly typed
	// (typ client-authentication+jwt) may instead name the token endpoint
	// URL, and hold its one audience in an array, as clients written to RFC
	// 7523 and OpenID Connect Core §9 do. Either way aud holds one value.
	IssuerAudienceOnly bool
	// Replay remembers the jti of client assertions until they expire, so
	// that each is used once. Default Config.Tokens when it implements
	// store.ReplayCache (every backend of this module: PostgreSQL and
	// Redis share it between instances); otherwise a cache in this process
	// of 32 MiB, which refuses assertions (503) rather than forget a live
	// jti when full.
	Replay store.ReplayCache
}

// Bounds on ClientAuth.AssertionMaxLifetime.
const (
	defaultAssertionLifetime = 5 * time.Minute
	maxAssertionLifetime     = time.Hour
)

func (a *ClientAuth) setDefaults(tokens store.TokenStore, now func() time.Time) error {
	if a.AssertionAlgorithms == nil {
		a.AssertionAlgorithms = slices.Clone(jwtverify.Algorithms)
	}
	if len(a.AssertionAlgorithms) == 0 {
		return errors.New("grant: ClientAuth.AssertionAlgorithms must not be empty")
	}
	for _, alg := range a.AssertionAlgorithms {
		if !slices.Contains(jwtverify.Algorithms, alg) {
			return fmt.Errorf("grant: ClientAuth.AssertionAlgorithms: %q is not supported (EdDSA, ES256, PS256, RS256)", alg)
		}
	}
	a.AssertionAlgorithms = slices.Clone(a.AssertionAlgorithms)
	if a.AssertionMaxLifetime == 0 {
		a.AssertionMaxLifetime = defaultAssertionLifetime
	}
	if a.AssertionMaxLifetime < 0 || a.AssertionMaxLifetime > maxAssertionLifetime {
		return errors.New("grant: ClientAuth.AssertionMaxLifetime must be positive and at most 1 hour")
	}
	if a.Replay == nil {
		if rc, ok := tokens.(store.ReplayCache); ok {
			a.Replay = rc
		} else {
			a.Replay = replay.New(0, now)
		}
	}
	return nil
}
