package grant

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/oauthkit/oauthkit/store"
)

// OpenID Connect 1.0 on the authorization code flow: an OpenID request is
// an authorization request whose scope parameter names openid (Core
// §3.1.2.1). For it the Provider honours prompt, max_age, id_token_hint,
// login_hint and nonce (oidc_authorize.go), and the token endpoint answers
// the code with an ID token (oidc_idtoken.go) signed by the key set of
// Config.SigningKeys; the UserInfo endpoint (oidc_userinfo.go), the
// discovery document (oidc_discovery.go) and RP-Initiated Logout
// (oidc_logout.go) complete it. With Config.OIDC off, openid is a scope
// like any other and none of this runs.

// OIDC configures OpenID Connect 1.0. The zero value leaves it off.
type OIDC struct {
	// Enabled turns OpenID Connect on: ID tokens for OpenID requests, the
	// discovery document, the UserInfo and end-session endpoints. It needs
	// Config.SigningKeys, with at least one RS256 key (Core §15.1: every
	// OP supports RS256); ID tokens are signed with the first key of the
	// client's id_token_signed_response_alg (store.Client
	// IDTokenSignedResponseAlg; default RS256), and the JWKS publishes
	// them in every access token format. Default false.
	Enabled bool
	// Claims returns the standard claims of user u for the UserInfo
	// endpoint. The Provider releases only those the access token's scopes
	// allow (Core §5.4: profile, email, address, phone) and always sets sub
	// to u.ID itself. Return store.ErrNotFound for a user that no longer
	// exists (the token is then refused). Default: preferred_username is
	// the user's login name, and no other claim is known.
	Claims func(ctx context.Context, u *store.User) (*UserClaims, error)
	// IDTokenTTL is the lifetime of ID tokens. Default 1 hour.
	IDTokenTTL time.Duration
}

// Scope values of OpenID Connect Core §5.4 and §11.
const (
	ScopeOpenID        = "openid"
	ScopeProfile       = "profile"
	ScopeEmail         = "email"
	ScopeAddress       = "address"
	ScopePhone         = "phone"
	ScopeOfflineAccess = "offline_access"
)

// OpenID Connect Core §3.1.2.6 and §6 error codes, sent to the client's
// redirect URI.
const (
	CodeLoginRequired          = "login_required"
	CodeConsentRequired        = "consent_required"
	CodeRequestNotSupported    = "request_not_supported"
	CodeRequestURINotSupported = "request_uri_not_supported"
)

// UserClaims are the standard claims of OpenID Connect Core §5.1 that a
// host knows of a user. Empty fields are left out of the answer.
type UserClaims struct {
	// Scope profile.
	Name              string    `json:"name,omitempty"`
	GivenName         string    `json:"given_name,omitempty"`
	FamilyName        string    `json:"family_name,omitempty"`
	MiddleName        string    `json:"middle_name,omitempty"`
	Nickname          string    `json:"nickname,omitempty"`
	PreferredUsername string    `json:"preferred_username,omitempty"`
	Profile           string    `json:"profile,omitempty"`
	Picture           string    `json:"picture,omitempty"`
	Website           string    `json:"website,omitempty"`
	Gender            string    `json:"gender,omitempty"`
	Birthdate         string    `json:"birthdate,omitempty"` // YYYY-MM-DD, or YYYY
	Zoneinfo          string    `json:"zoneinfo,omitempty"`  // such as Europe/Paris
	Locale            string    `json:"locale,omitempty"`    // BCP47, such as en-US
	UpdatedAt         time.Time `json:"-"`                   // updated_at, in seconds

	// Scope email. EmailVerified is sent with Email only.
	Email         string `json:"email,omitempty"`
	EmailVerified bool   `json:"-"`

	// Scope address.
	Address *Address `json:"address,omitempty"`

	// Scope phone. PhoneNumberVerified is sent with PhoneNumber only.
	PhoneNumber         string `json:"phone_number,omitempty"` // E.164, such as +1 (425) 555-1212
	PhoneNumberVerified bool   `json:"-"`
}

// Address is the address claim (Core §5.1.1).
type Address struct {
	Formatted     string `json:"formatted,omitempty"`
	StreetAddress string `json:"street_address,omitempty"`
	Locality      string `json:"locality,omitempty"`
	Region        string `json:"region,omitempty"`
	PostalCode    string `json:"postal_code,omitempty"`
	Country       string `json:"country,omitempty"`
}

// scopeClaims lists the claims each scope releases (Core §5.4), for
// claims_supported.
var scopeClaims = []struct {
	scope  string
	claims []string
}{
	{ScopeProfile, []string{"name", "family_name", "given_name", "middle_name", "nickname", "preferred_username",
		"profile", "picture", "website", "gender", "birthdate", "zoneinfo", "locale", "updated_at"}},
	{ScopeEmail, []string{"email", "email_verified"}},
	{ScopeAddress, []string{"address"}},
	{ScopePhone, []string{"phone_number", "phone_number_verified"}},
}

// idTokenClaimNames are the claims of the ID tokens, for claims_supported.
var idTokenClaimNames = []string{"sub", "iss", "aud", "exp", "iat", "auth_time", "nonce"}

// setOIDCDefaults checks Config.OIDC.
func (c *Config) setOIDCDefaults() error {
	o := &c.OIDC
	if !o.Enabled {
		return nil
	}
	if o.IDTokenTTL == 0 {
		o.IDTokenTTL = time.Hour
	}
	if o.IDTokenTTL < 0 {
		return errors.New("grant: Config.OIDC.IDTokenTTL must be positive")
	}
	if !slices.Contains(c.GrantTypes, store.GrantAuthorizationCode) {
		return errors.New("grant: OpenID Connect needs the authorization_code grant in Config.GrantTypes")
	}
	ks, err := newKeySet(c.SigningKeys)
	if err != nil {
		return err
	}
	return ks.checkOIDC()
}

// checkOIDC refuses a key set without the RS256 key every OP must have.
func (ks *keySet) checkOIDC() error {
	if ks.signer(AlgRS256) == nil {
		return errors.New("grant: OpenID Connect needs an RS256 key in Config.SigningKeys (OpenID Connect Core §15.1)")
	}
	return nil
}

// openIDGrant reports whether a grant's tokens come with ID tokens: its
// scopes hold openid and OpenID Connect is on.
func (p *Provider) openIDGrant(scopes []string) bool {
	return p.cfg.OIDC.Enabled && slices.Contains(scopes, ScopeOpenID)
}

// withRefresh reports whether the tokens of grant g, exchanged for a code
// by client c, include a refresh token: for an OpenID grant only when the
// user consented to offline_access (Core §11; see oidc_authorize.go), as
// for any grant only when c may refresh.
func (p *Provider) withRefresh(c *store.Client, g store.Token) bool {
	if p.openIDGrant(g.Scopes) && !slices.Contains(g.Scopes, ScopeOfflineAccess) {
		return false
	}
	return p.refreshAllowed(c)
}

// without returns scopes less drop, as a new slice when anything is
// dropped (scopes may be shared).
func without(scopes []string, drop ...string) []string {
	if !slices.ContainsFunc(scopes, func(s string) bool { return slices.Contains(drop, s) }) {
		return scopes
	}
	out := make([]string, 0, len(scopes))
	for _, s := range scopes {
		if !slices.Contains(drop, s) {
			out = append(out, s)
		}
	}
	return out
}
