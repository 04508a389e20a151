package store

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/oauthkit/oauthkit/internal/loopback"
)

// RFC 7591 §3.2.2 error codes, as a [ValidationError] carries them.
const (
	CodeInvalidRedirectURI    = "invalid_redirect_uri"    // a redirect URI is missing or unacceptable
	CodeInvalidClientMetadata = "invalid_client_metadata" // any other field is
)

// MaxClientIDLen is the longest client ID, in bytes, that [Client.Validate]
// accepts: room for the URLs of client ID metadata documents
// (draft-ietf-oauth-client-id-metadata-document), whose client IDs are
// https URLs chosen by the client, while keeping IDs small enough to
// index and log.
const MaxClientIDLen = 512

// ValidationError is the error [Client.Validate] returns: why a registration
// is refused, in the terms of an RFC 7591 registration error response. It
// matches [ErrInvalidClient] with errors.Is; errors.As gives the code.
type ValidationError struct {
	Code        string // CodeInvalidRedirectURI or CodeInvalidClientMetadata
	Field       string // the RFC 7591 / OpenID Connect name of the field at fault, such as "redirect_uris"
	Description string // what is wrong, safe to send back as error_description
}

// Error returns the code and the description.
func (e *ValidationError) Error() string { return "store: " + e.Code + ": " + e.Description }

// Is reports whether target is ErrInvalidClient.
func (e *ValidationError) Is(target error) bool { return target == ErrInvalidClient }

func invalid(code, field, format string, args ...any) *ValidationError {
	return &ValidationError{Code: code, Field: field, Description: fmt.Sprintf(format, args...)}
}

func badMetadata(field, format string, args ...any) *ValidationError {
	return invalid(CodeInvalidClientMetadata, field, format, args...)
}

// Validate checks c as a registration, the rules every [ClientRegistry]
// applies on CreateClient and UpdateClient. It returns nil or a
// *[ValidationError]: CodeInvalidRedirectURI for a redirect URI, else
// CodeInvalidClientMetadata. The rules:
//
//   - ID: 1 to [MaxClientIDLen] bytes of valid UTF-8, printable, no spaces
//     (an https URL is a valid ID).
//   - AuthMethod: client_secret_basic or client_secret_post with a
//     SecretHash; private_key_jwt with JWKS or JWKSURI; none (public) with no
//     SecretHash and without client_credentials.
//   - JWKS and JWKSURI: not both (RFC 7591 §2); JWKS a JSON object whose
//     "keys" is a non-empty array of objects; JWKSURI like a web redirect URI.
//   - GrantTypes: the five Grant constants; authorization_code needs at
//     least one redirect URI.
//   - RedirectURIs and PostLogoutRedirectURIs: absolute, no fragment, no
//     userinfo; https, or http only on a loopback IP literal (127.0.0.0/8,
//     [::1], never a name such as localhost: RFC 8252 §7.3, §8.3), or a
//     private-use scheme that is a reversed domain name, containing a '.'
//     (RFC 8252 §7.1).
//   - Scopes: RFC 6749 §3.3 scope-tokens.
//   - IDTokenSignedResponseAlg and TokenEndpointAuthSigningAlg: alg names
//     (letters, digits, "-_.+", up to 32), never "none".
//   - Name, Contacts, SoftwareID, SoftwareVersion: valid UTF-8 without
//     control characters; ClientURI and LogoURI absolute http(s) URLs.
func (c *Client) Validate() error {
	for _, check := range [...]func(*Client) *ValidationError{
		checkID, checkAuthMethod, checkKeys, checkGrants, checkRedirectURIs, checkScopes, checkAlgs, checkInfo,
	} {
		if e := check(c); e != nil {
			return e
		}
	}
	return nil
}

func checkID(c *Client) *ValidationError {
	if c.ID == "" || len(c.ID) > MaxClientIDLen || !token(c.ID) {
		return badMetadata("client_id", "client_id is required: up to %d bytes of printable characters, no spaces", MaxClientIDLen)
	}
	return nil
}

func checkAuthMethod(c *Client) *ValidationError {
	const field = "token_endpoint_auth_method"
	switch c.AuthMethod {
	case AuthNone:
		if !c.SecretHash.IsZero() {
			return badMetadata(field, `token_endpoint_auth_method "none" is for public clients, which have no client secret`)
		}
	case AuthSecretBasic, AuthSecretPost:
		if c.SecretHash.IsZero() {
			return badMetadata(field, "token_endpoint_auth_method %q needs a client secret", c.AuthMethod)
		}
	case AuthPrivateKeyJWT:
		if len(c.JWKS) == 0 && c.JWKSURI == "" {
			return badMetadata(field, "token_endpoint_auth_method private_key_jwt needs jwks or jwks_uri")
		}
	default:
		return badMetadata(field, "token_endpoint_auth_method %s is not supported (client_secret_basic, client_secret_post, private_key_jwt, none)", quote(c.AuthMethod))
	}
	return nil
}

func checkKeys(c *Client) *ValidationError {
	if len(c.JWKS) > 0 && c.JWKSURI != "" {
		return badMetadata("jwks", "jwks and jwks_uri must not both be given (RFC 7591 §2)")
	}
	if len(c.JWKS) > 0 {
		var set struct {
			Keys []map[string]json.RawMessage `json:"keys"`
		}
		raw := bytes.TrimSpace(c.JWKS)
		if len(raw) == 0 || raw[0] != '{' || json.Unmarshal(raw, &set) != nil || len(set.Keys) == 0 {
			return badMetadata("jwks", `jwks must be a JWK Set: a JSON object with a non-empty "keys" array of JWKs`)
		}
		for _, k := range set.Keys {
			if k == nil {
				return badMetadata("jwks", `jwks must be a JWK Set: every member of "keys" a JSON object`)
			}
		}
	}
	if c.JWKSURI != "" {
		if why := webURI(c.JWKSURI, true); why != "" {
			return badMetadata("jwks_uri", "jwks_uri %s %s", quote(c.JWKSURI), why)
		}
	}
	return nil
}

func checkGrants(c *Client) *ValidationError {
	for _, g := range c.GrantTypes {
		switch g {
		case GrantAuthorizationCode, GrantRefreshToken, GrantPassword, GrantDeviceCode:
		case GrantClientCredentials:
			if c.Public() {
				return badMetadata("grant_types", "a public client cannot use client_credentials")
			}
		default:
			return badMetadata("grant_types", "grant type %s is not supported", quote(g))
		}
	}
	if c.AllowsGrant(GrantAuthorizationCode) && len(c.RedirectURIs) == 0 {
		return invalid(CodeInvalidRedirectURI, "redirect_uris", "redirect_uris are required for authorization_code")
	}
	return nil
}

func checkRedirectURIs(c *Client) *ValidationError {
	for _, u := range c.RedirectURIs {
		if why := redirectURI(u); why != "" {
			return invalid(CodeInvalidRedirectURI, "redirect_uris", "redirect_uri %s %s", quote(u), why)
		}
	}
	for _, u := range c.PostLogoutRedirectURIs {
		if why := redirectURI(u); why != "" {
			return badMetadata("post_logout_redirect_uris", "post_logout_redirect_uri %s %s", quote(u), why)
		}
	}
	return nil
}

func checkScopes(c *Client) *ValidationError {
	for _, s := range c.Scopes {
		if !scopeToken(s) {
			return badMetadata("scope", "scope %s is not an RFC 6749 §3.3 scope-token", quote(s))
		}
	}
	return nil
}

func checkAlgs(c *Client) *ValidationError {
	for _, a := range [...]struct{ field, alg string }{
		{"id_token_signed_response_alg", c.IDTokenSignedResponseAlg},
		{"token_endpoint_auth_signing_alg", c.TokenEndpointAuthSigningAlg},
	} {
		if a.alg != "" && (a.alg == "none" || !algName(a.alg)) {
			return badMetadata(a.field, "%s %s is not a JWS algorithm this library allows", a.field, quote(a.alg))
		}
	}
	return nil
}

func checkInfo(c *Client) *ValidationError {
	for _, f := range [...]struct{ field, value string }{
		{"client_name", c.Name}, {"software_id", c.SoftwareID}, {"software_version", c.SoftwareVersion},
	} {
		if !text(f.value) {
			return badMetadata(f.field, "%s must be valid UTF-8 without control characters", f.field)
		}
	}
	for _, s := range c.Contacts {
		if s == "" || !text(s) {
			return badMetadata("contacts", "contacts must be non-empty, valid UTF-8 without control characters")
		}
	}
	for _, f := range [...]struct{ field, value string }{{"client_uri", c.ClientURI}, {"logo_uri", c.LogoURI}} {
		if f.value == "" {
			continue
		}
		if u, err := url.Parse(f.value); !token(f.value) || err != nil || u.Scheme != "https" && u.Scheme != "http" ||
			u.Host == "" || u.User != nil {
			return badMetadata(f.field, "%s %s must be an absolute http or https URL", f.field, quote(f.value))
		}
	}
	return nil
}

// redirectURI says what is wrong with s as a redirect URI (RFC 6749 §3.1.2,
// RFC 8252 §7), or "" if nothing is.
func redirectURI(s string) string {
	u, err := url.Parse(s)
	switch {
	case !token(s):
		return "must be printable UTF-8 without spaces or control characters"
	case err != nil || !u.IsAbs() || u.Fragment != "" || strings.Contains(s, "#"):
		return "must be an absolute URI without fragment"
	case u.User != nil:
		return "must not carry userinfo"
	case u.Scheme == "https" || u.Scheme == "http":
		return webURI(s, true)
	case !strings.Contains(u.Scheme, "."):
		return "has a private-use scheme that is not a reversed domain name (RFC 8252 §7.1)"
	}
	return ""
}

// webURI says what is wrong with s as an https URI (or, if loopbackHTTP, an
// http URI on a loopback IP literal), or "" if nothing is.
func webURI(s string, loopbackHTTP bool) string {
	u, err := url.Parse(s)
	if !token(s) {
		return "must be printable UTF-8 without spaces or control characters"
	}
	if err != nil || !u.IsAbs() || u.Host == "" || u.Fragment != "" || strings.Contains(s, "#") {
		return "must be an absolute URL with a host and without fragment"
	}
	if u.User != nil {
		return "must not carry userinfo"
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n > 65535 {
			return "has an invalid port"
		}
	}
	switch {
	case u.Scheme == "https":
		return ""
	case u.Scheme == "http" && loopbackHTTP:
		if !loopback.Host(u.Hostname()) {
			return "uses http, which is allowed only on a loopback IP literal (127.0.0.1, [::1]; not localhost)"
		}
		return ""
	}
	return "must use https"
}

// token reports whether s is valid UTF-8 of printable characters without
// spaces.
func token(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if r == ' ' || !unicode.IsPrint(r) {
			return false
		}
	}
	return true
}

// text reports whether s is valid UTF-8 without control characters.
func text(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if unicode.IsControl(r) {
			return false
		}
	}
	return true
}

// scopeToken reports whether s is an RFC 6749 §3.3 scope-token:
// 1*( %x21 / %x23-5B / %x5D-7E ).
func scopeToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x21 || c == 0x22 || c == 0x5c || c > 0x7e {
			return false
		}
	}
	return true
}

// algName reports whether s looks like a JWS alg name (RFC 7518 §3.1):
// letters, digits and "-_.+", up to 32 of them.
func algName(s string) bool {
	if len(s) > 32 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("-_.+", c) >= 0) {
			return false
		}
	}
	return true
}

// quote returns s quoted for an error description, cut to 100 bytes so that
// an answer stays small.
func quote(s string) string {
	const limit = 100
	if len(s) > limit {
		cut := limit
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		return strconv.Quote(s[:cut]) + "…"
	}
	return strconv.Quote(s)
}
