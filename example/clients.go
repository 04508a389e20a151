package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/oauthkit/oauthkit/grant"
	"github.com/oauthkit/oauthkit/store"
)

// registration is one client in a -clients file, with RFC 7591 §2 field
// names.
type registration struct {
	ClientID                string   `json:"client_id"`
	ClientSecret            string   `json:"client_secret"`
	ClientName              string   `json:"client_name"`
	RedirectURIs            []string `json:"redirect_uris"`
	GrantTypes              []string `json:"grant_types"`
	Scope                   string   `json:"scope"`
	TokenEndpointAuthMethod string   `json:"token_endpoint_auth_method"`
	DPoPBoundAccessTokens   bool     `json:"dpop_bound_access_tokens"` // RFC 9449 §5.2: every token request must carry a DPoP proof

	// For private_key_jwt: the client's public keys, inline or by URL,
	// and optionally the one algorithm it signs its assertions with.
	JWKS                        json.RawMessage `json:"jwks"`
	JWKSURI                     string          `json:"jwks_uri"`
	TokenEndpointAuthSigningAlg string          `json:"token_endpoint_auth_signing_alg"`

	// For OpenID Connect: where the browser may go after logout
	// (RP-Initiated Logout), and the ID tokens' algorithm: RS256 (default),
	// ES256 or EdDSA.
	PostLogoutRedirectURIs []string `json:"post_logout_redirect_uris"`
	IDTokenSignedAlg       string   `json:"id_token_signed_response_alg"`
}

// minSecretLen keeps hand-written secrets out of brute-force reach: they are
// stored as a fast SHA-256, which is safe only for high-entropy values.
const minSecretLen = 32

// maxClientsFile bounds what loadClients reads.
const maxClientsFile = 1 << 20

// loadClients reads and checks a -clients file.
func loadClients(path string) ([]*store.Client, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("-clients: %w", err)
	}
	if len(data) > maxClientsFile {
		return nil, fmt.Errorf("-clients %s: larger than %d bytes", path, maxClientsFile)
	}
	clients, err := parseClients(data)
	if err != nil {
		return nil, fmt.Errorf("-clients %s: %w", path, err)
	}
	return clients, nil
}

// parseClients turns a JSON array of registrations into clients. Its errors
// say where in the file (line and column) the problem is.
func parseClients(data []byte) ([]*store.Client, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	start := firstValue(data)
	tok, err := dec.Token()
	switch {
	case errors.Is(err, io.EOF):
		return nil, errors.New("the file is empty; it must hold a JSON array of client registrations: [{\"client_id\": …}, …]")
	case err != nil:
		return nil, jsonError(data, err, start)
	case tok != json.Delim('['):
		return nil, fmt.Errorf("%s: the file holds %s; it must hold a JSON array of client registrations: [{\"client_id\": …}, …]", position(data, start), kindOf(tok))
	}
	seen := map[string]bool{loginClientID: true}
	var out []*store.Client
	for i := 1; dec.More(); i++ {
		at := int(dec.InputOffset())
		at += firstValue(data[at:])
		if at < len(data) && data[at] == ',' {
			at++
			at += firstValue(data[at:])
		}
		var r registration
		if err := dec.Decode(&r); err != nil {
			return nil, fmt.Errorf("client %d: %w", i, jsonError(data, err, at))
		}
		c, err := r.client()
		if err != nil {
			return nil, fmt.Errorf("client %d (%q, %s): %v", i, r.ClientID, position(data, at), err)
		}
		if seen[c.ID] {
			return nil, fmt.Errorf("client %d (%s): client_id %q is used twice or reserved", i, position(data, at), c.ID)
		}
		seen[c.ID] = true
		out = append(out, c)
	}
	if _, err := dec.Token(); err != nil { // the closing ]
		return nil, jsonError(data, err, len(data))
	}
	if end := int(dec.InputOffset()); firstValue(data[end:]) < len(data[end:]) {
		return nil, fmt.Errorf("%s: unexpected data after the JSON array", position(data, end+firstValue(data[end:])))
	}
	return out, nil
}

// client checks the registration's secret or keys, gives a registration
// without a method the one its credentials imply (private_key_jwt for keys,
// none for no secret), and leaves every other default to
// store.Client.SetDefaults and every other rule to store.Client.Validate.
func (r registration) client() (*store.Client, error) {
	if string(r.JWKS) == "null" {
		r.JWKS = nil
	}
	c := &store.Client{
		ID: r.ClientID, Name: r.ClientName, AuthMethod: r.TokenEndpointAuthMethod,
		RedirectURIs: r.RedirectURIs, GrantTypes: r.GrantTypes, Scopes: strings.Fields(r.Scope),
		JWKS: r.JWKS, JWKSURI: r.JWKSURI, TokenEndpointAuthSigningAlg: r.TokenEndpointAuthSigningAlg,
		DPoPBoundAccessTokens:  r.DPoPBoundAccessTokens,
		PostLogoutRedirectURIs: r.PostLogoutRedirectURIs, IDTokenSignedResponseAlg: r.IDTokenSignedAlg,
	}
	keys := len(r.JWKS) > 0 || r.JWKSURI != ""
	switch {
	case c.AuthMethod == "" && keys:
		c.AuthMethod = store.AuthPrivateKeyJWT
	case c.AuthMethod == "" && r.ClientSecret == "":
		c.AuthMethod = store.AuthNone
	}
	switch {
	case keys && c.AuthMethod != store.AuthPrivateKeyJWT:
		return nil, fmt.Errorf("jwks and jwks_uri are for token_endpoint_auth_method private_key_jwt")
	case r.ClientSecret != "" && c.AuthMethod == store.AuthPrivateKeyJWT:
		return nil, fmt.Errorf("a private_key_jwt client authenticates with its keys: remove client_secret")
	case r.ClientSecret != "" && len(r.ClientSecret) < minSecretLen:
		return nil, fmt.Errorf("client_secret must be at least %d characters", minSecretLen)
	case r.ClientSecret != "":
		c.SecretHash = store.HashSecret(r.ClientSecret)
	}
	switch r.IDTokenSignedAlg {
	case "", grant.AlgRS256, grant.AlgES256, grant.AlgEdDSA:
	default:
		return nil, fmt.Errorf("id_token_signed_response_alg %q is not one the example signs with (RS256, ES256, EdDSA)", r.IDTokenSignedAlg)
	}
	c.SetDefaults()
	if err := c.Validate(); err != nil {
		return nil, errors.New(describe(err))
	}
	return c, nil
}

// describe returns the description of a *store.ValidationError, which is
// written for the person who registered the client, or err's text.
func describe(err error) string {
	var ve *store.ValidationError
	if errors.As(err, &ve) {
		return ve.Description
	}
	return err.Error()
}
