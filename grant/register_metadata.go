package grant

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/oauthkit/oauthkit/store"
)

// clientMetadata is RFC 7591 §2's client metadata in JSON: what a
// registration request (RFC 7591 §3.1), an update (RFC 7592 §2.2) and a
// client ID metadata document carry. Unknown members are ignored (RFC 7591
// §2 lets the server ignore what it does not understand).
type clientMetadata struct {
	ClientID                string          `json:"client_id"`
	ClientSecret            string          `json:"client_secret"`
	RedirectURIs            []string        `json:"redirect_uris"`
	TokenEndpointAuthMethod string          `json:"token_endpoint_auth_method"`
	GrantTypes              []string        `json:"grant_types"`
	ResponseTypes           []string        `json:"response_types"`
	ClientName              string          `json:"client_name"`
	ClientURI               string          `json:"client_uri"`
	LogoURI                 string          `json:"logo_uri"`
	Scope                   string          `json:"scope"`
	Contacts                []string        `json:"contacts"`
	JWKSURI                 string          `json:"jwks_uri"`
	JWKS                    json.RawMessage `json:"jwks"`
	SoftwareID              string          `json:"software_id"`
	SoftwareVersion         string          `json:"software_version"`
	SoftwareStatement       string          `json:"software_statement"`

	all map[string]json.RawMessage // every member, as sent
}

// Bounds on registered metadata, beyond store.Client.Validate's rules, so
// that one registration stays small.
const (
	maxRedirectURIs = 20
	maxURILen       = 2048
	maxTextLen      = 256 // client_name, a contact, software_id, software_version
	maxContacts     = 10
)

// RFC 7591 §3.2.2's error codes beyond those of store.ValidationError.
const (
	CodeInvalidSoftwareStatement    = "invalid_software_statement"    // the software statement is invalid
	CodeUnapprovedSoftwareStatement = "unapproved_software_statement" // it is not approved for use here
)

func errMetadata(desc string) *Error {
	return newError(http.StatusBadRequest, store.CodeInvalidClientMetadata, desc)
}

func errRedirectURI(desc string) *Error {
	return newError(http.StatusBadRequest, store.CodeInvalidRedirectURI, desc)
}

// parseClientMetadata reads one JSON object of client metadata.
func parseClientMetadata(body []byte) (*clientMetadata, *Error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	var all map[string]json.RawMessage
	if err := dec.Decode(&all); err != nil || all == nil {
		return nil, errMetadata("the body must be one JSON object of client metadata (RFC 7591 §2)")
	}
	if _, err := dec.Token(); err == nil {
		return nil, errMetadata("the body must be one JSON object of client metadata (RFC 7591 §2)")
	}
	m := &clientMetadata{all: all}
	if err := json.Unmarshal(body, m); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			field := safeName(te.Field)
			if te.Field == "redirect_uris" {
				return nil, errRedirectURI("redirect_uris must be an array of strings")
			}
			return nil, errMetadata("the metadata field " + field + " has the wrong type")
		}
		return nil, errMetadata("the body must be one JSON object of client metadata (RFC 7591 §2)")
	}
	return m, nil
}

// metadataRules are what a source of registrations may ask for.
type metadataRules struct {
	authMethods []string // token_endpoint_auth_method values allowed
	defaultAuth string   // when omitted
	grantTypes  []string // grant types allowed
	scopes      []string // scopes offered; a registration asking for none gets them all
}

// client builds the registration m asks for, under rules: a Client without
// ID, secret or registration token, which the caller adds before
// store.Client.Validate has the last word.
func (m *clientMetadata) client(r metadataRules) (*store.Client, *Error) {
	c := &store.Client{
		Name: m.ClientName, RedirectURIs: m.RedirectURIs, AuthMethod: m.TokenEndpointAuthMethod,
		ClientURI: m.ClientURI, LogoURI: m.LogoURI, Contacts: m.Contacts,
		SoftwareID: m.SoftwareID, SoftwareVersion: m.SoftwareVersion, JWKSURI: m.JWKSURI,
	}
	if len(m.JWKS) > 0 && string(m.JWKS) != "null" {
		c.JWKS = m.JWKS
	}
	if c.AuthMethod == "" {
		c.AuthMethod = r.defaultAuth
	}
	if !slices.Contains(r.authMethods, c.AuthMethod) {
		return nil, errMetadata(fmt.Sprintf("token_endpoint_auth_method %s is not offered here (offered: %s)",
			quoteName(c.AuthMethod), strings.Join(r.authMethods, ", ")))
	}
	c.GrantTypes = m.GrantTypes
	if c.GrantTypes == nil {
		c.GrantTypes = []string{store.GrantAuthorizationCode} // RFC 7591 §2
	}
	for _, g := range c.GrantTypes {
		if !slices.Contains(r.grantTypes, g) {
			return nil, errMetadata("grant type " + quoteName(g) + " is not offered to registered clients")
		}
	}
	if e := checkResponseTypes(m.ResponseTypes, c.GrantTypes); e != nil {
		return nil, e
	}
	scopes, ok := parseScope(m.Scope)
	if !ok {
		return nil, errMetadata("scope is not a space-separated list of scope tokens (RFC 6749 §3.3)")
	}
	for _, s := range scopes {
		if !slices.Contains(r.scopes, s) {
			return nil, errMetadata("scope " + quoteName(s) + " is not offered to registered clients")
		}
	}
	if len(scopes) == 0 {
		scopes = slices.Clone(r.scopes)
	}
	c.Scopes = scopes
	if e := checkBounds(c); e != nil {
		return nil, e
	}
	return c, nil
}

// checkResponseTypes enforces RFC 7591 §2.1: response type code goes with
// the authorization_code grant, and is the only one there is (no implicit
// grant). Omitted, they default to what the grant types need.
func checkResponseTypes(rts, grants []string) *Error {
	code := slices.Contains(grants, store.GrantAuthorizationCode)
	if rts == nil {
		return nil
	}
	for _, rt := range rts {
		if rt != "code" {
			return errMetadata("response type " + quoteName(rt) + " is not supported (only code)")
		}
	}
	if slices.Contains(rts, "code") != code {
		return errMetadata("response_types code and grant_types authorization_code go together (RFC 7591 §2.1)")
	}
	return nil
}

// checkBounds keeps a registration small.
func checkBounds(c *store.Client) *Error {
	if len(c.RedirectURIs) > maxRedirectURIs {
		return errRedirectURI(fmt.Sprintf("at most %d redirect_uris are allowed", maxRedirectURIs))
	}
	for _, u := range c.RedirectURIs {
		if len(u) > maxURILen {
			return errRedirectURI(fmt.Sprintf("a redirect URI may have at most %d bytes", maxURILen))
		}
	}
	for _, f := range [...]struct{ name, v string }{{"client_uri", c.ClientURI}, {"logo_uri", c.LogoURI}, {"jwks_uri", c.JWKSURI}} {
		if len(f.v) > maxURILen {
			return errMetadata(fmt.Sprintf("%s may have at most %d bytes", f.name, maxURILen))
		}
	}
	if len(c.Contacts) > maxContacts {
		return errMetadata(fmt.Sprintf("at most %d contacts are allowed", maxContacts))
	}
	for _, f := range append([]string{c.Name, c.SoftwareID, c.SoftwareVersion}, c.Contacts...) {
		if len(f) > maxTextLen {
			return errMetadata(fmt.Sprintf("client_name, contacts, software_id and software_version may have at most %d bytes each", maxTextLen))
		}
	}
	return nil
}

// asRegistrationError turns a store.Client.Validate error into the answer
// RFC 7591 §3.2.2 gives it.
func asRegistrationError(err error) (*Error, bool) {
	var ve *store.ValidationError
	if errors.As(err, &ve) {
		return newError(http.StatusBadRequest, ve.Code, ve.Description), true
	}
	return nil, false
}

// clientInformation is RFC 7591 §3.2.1's client information response, with
// RFC 7592 §3's registration access token and client configuration URI.
type clientInformation struct {
	ClientID                string          `json:"client_id"`
	ClientSecret            string          `json:"client_secret,omitempty"`
	ClientIDIssuedAt        int64           `json:"client_id_issued_at,omitempty"`
	ClientSecretExpiresAt   *int64          `json:"client_secret_expires_at,omitempty"`
	RegistrationAccessToken string          `json:"registration_access_token,omitempty"`
	RegistrationClientURI   string          `json:"registration_client_uri,omitempty"`
	ClientName              string          `json:"client_name,omitempty"`
	RedirectURIs            []string        `json:"redirect_uris,omitempty"`
	TokenEndpointAuthMethod string          `json:"token_endpoint_auth_method"`
	GrantTypes              []string        `json:"grant_types"`
	ResponseTypes           []string        `json:"response_types,omitempty"`
	Scope                   string          `json:"scope,omitempty"`
	ClientURI               string          `json:"client_uri,omitempty"`
	LogoURI                 string          `json:"logo_uri,omitempty"`
	Contacts                []string        `json:"contacts,omitempty"`
	JWKSURI                 string          `json:"jwks_uri,omitempty"`
	JWKS                    json.RawMessage `json:"jwks,omitempty"`
	SoftwareID              string          `json:"software_id,omitempty"`
	SoftwareVersion         string          `json:"software_version,omitempty"`
}

// information is the client information response for c, with the secret
// and registration token given (empty: not sent).
func (p *Provider) information(c *store.Client, secret, regToken string) clientInformation {
	info := clientInformation{
		ClientID: c.ID, ClientSecret: secret, RegistrationAccessToken: regToken,
		RegistrationClientURI: p.registrationClientURI(c.ID),
		ClientName:            c.Name, RedirectURIs: c.RedirectURIs, TokenEndpointAuthMethod: c.AuthMethod,
		GrantTypes: c.GrantTypes, Scope: joinScopes(c.Scopes), ClientURI: c.ClientURI, LogoURI: c.LogoURI,
		Contacts: c.Contacts, JWKSURI: c.JWKSURI, JWKS: c.JWKS, SoftwareID: c.SoftwareID, SoftwareVersion: c.SoftwareVersion,
	}
	if !c.CreatedAt.IsZero() {
		info.ClientIDIssuedAt = c.CreatedAt.Unix()
	}
	if usesSecret(c) {
		var never int64 // generated secrets do not expire
		info.ClientSecretExpiresAt = &never
	}
	if c.AllowsGrant(store.GrantAuthorizationCode) {
		info.ResponseTypes = []string{"code"}
	}
	return info
}
