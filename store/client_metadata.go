package store

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
)

// clientMetadata is the JSON form of the Client fields that backends keep in
// one metadata column, under their RFC 7591 and OpenID Connect Registration
// names where they have one.
type clientMetadata struct {
	PostLogoutRedirectURIs      []string        `json:"post_logout_redirect_uris,omitempty"`
	IDTokenSignedResponseAlg    string          `json:"id_token_signed_response_alg,omitempty"`
	JWKS                        json.RawMessage `json:"jwks,omitempty"`
	JWKSURI                     string          `json:"jwks_uri,omitempty"`
	TokenEndpointAuthSigningAlg string          `json:"token_endpoint_auth_signing_alg,omitempty"`
	DPoPBoundAccessTokens       bool            `json:"dpop_bound_access_tokens,omitempty"`
	StrictAuthMethod            bool            `json:"strict_auth_method,omitempty"`
	RegistrationTokenHash       string          `json:"registration_token_hash,omitempty"` // hex SHA-256
	ClientURI                   string          `json:"client_uri,omitempty"`
	LogoURI                     string          `json:"logo_uri,omitempty"`
	Contacts                    []string        `json:"contacts,omitempty"`
	SoftwareID                  string          `json:"software_id,omitempty"`
	SoftwareVersion             string          `json:"software_version,omitempty"`
}

// MarshalMetadata returns the JSON object a backend stores, in one column or
// field, for every Client field after CreatedAt (PostLogoutRedirectURIs
// onwards): "{}" when none is set. Empty fields are left out, so a field
// added to Client later needs no migration. JWKS must be valid JSON (as
// [Client.Validate] requires); it is kept as a JSON value, compacted.
func (c *Client) MarshalMetadata() ([]byte, error) {
	m := clientMetadata{
		PostLogoutRedirectURIs:      c.PostLogoutRedirectURIs,
		IDTokenSignedResponseAlg:    c.IDTokenSignedResponseAlg,
		JWKS:                        c.JWKS,
		JWKSURI:                     c.JWKSURI,
		TokenEndpointAuthSigningAlg: c.TokenEndpointAuthSigningAlg,
		DPoPBoundAccessTokens:       c.DPoPBoundAccessTokens,
		StrictAuthMethod:            c.StrictAuthMethod,
		ClientURI:                   c.ClientURI,
		LogoURI:                     c.LogoURI,
		Contacts:                    c.Contacts,
		SoftwareID:                  c.SoftwareID,
		SoftwareVersion:             c.SoftwareVersion,
	}
	if !c.RegistrationTokenHash.IsZero() {
		m.RegistrationTokenHash = c.RegistrationTokenHash.String()
	}
	b, err := json.Marshal(&m)
	if err != nil {
		return nil, fmt.Errorf("store: client metadata: %w", err)
	}
	return b, nil
}

// UnmarshalMetadata sets c's metadata fields (those MarshalMetadata writes)
// from data; a field absent from data becomes zero, and empty data (an empty
// or NULL column, or JSON null) means none is set. Unknown keys are ignored,
// so that data written by a newer version still reads.
func (c *Client) UnmarshalMetadata(data []byte) error {
	var m clientMetadata
	if len(bytes.TrimSpace(data)) > 0 {
		if err := json.Unmarshal(data, &m); err != nil {
			return fmt.Errorf("store: client metadata: %w", err)
		}
	}
	var rth Hash
	if m.RegistrationTokenHash != "" {
		b, err := hex.DecodeString(m.RegistrationTokenHash)
		if err != nil || len(b) != len(rth) {
			return fmt.Errorf("store: client metadata: registration_token_hash is not a hex SHA-256")
		}
		copy(rth[:], b)
	}
	var jwks []byte
	if len(m.JWKS) > 0 && string(m.JWKS) != "null" {
		jwks = m.JWKS
	}
	c.PostLogoutRedirectURIs = m.PostLogoutRedirectURIs
	c.IDTokenSignedResponseAlg = m.IDTokenSignedResponseAlg
	c.JWKS = jwks
	c.JWKSURI = m.JWKSURI
	c.TokenEndpointAuthSigningAlg = m.TokenEndpointAuthSigningAlg
	c.DPoPBoundAccessTokens = m.DPoPBoundAccessTokens
	c.StrictAuthMethod = m.StrictAuthMethod
	c.RegistrationTokenHash = rth
	c.ClientURI = m.ClientURI
	c.LogoURI = m.LogoURI
	c.Contacts = m.Contacts
	c.SoftwareID = m.SoftwareID
	c.SoftwareVersion = m.SoftwareVersion
	return nil
}
