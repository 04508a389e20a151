package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
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

// parseClients turns a JSON array of registrations into clients.
func parseClients(data []byte) ([]*store.Client, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var regs []registration
	if err := dec.Decode(&regs); err != nil {
		return nil, fmt.Errorf("not a JSON array of client registrations: %v", err)
	}
	if dec.More() {
		return nil, fmt.Errorf("unexpected data after the JSON array")
	}
	seen := map[string]bool{loginClientID: true}
	out := make([]*store.Client, 0, len(regs))
	for i, r := range regs {
		c, err := r.client()
		if err != nil {
			return nil, fmt.Errorf("client %d (%q): %v", i+1, r.ClientID, err)
		}
		if seen[c.ID] {
			return nil, fmt.Errorf("client %d: client_id %q is used twice or reserved", i+1, c.ID)
		}
		seen[c.ID] = true
		out = append(out, c)
	}
	return out, nil
}

// client checks the registration's secret or keys, fills in the RFC 7591
// §2 defaults (and private_key_jwt for a client that gives keys and no
// method), and leaves every other rule to store.Client.Validate.
func (r registration) client() (*store.Client, error) {
	method := r.TokenEndpointAuthMethod
	if string(r.JWKS) == "null" {
		r.JWKS = nil
	}
	keys := len(r.JWKS) > 0 || r.JWKSURI != ""
	switch {
	case method == "" && keys:
		method = store.AuthPrivateKeyJWT
	case method == "" && r.ClientSecret == "":
		method = store.AuthNone
	case method == "":
		method = store.AuthSecretBasic
	}
	if keys && method != store.AuthPrivateKeyJWT {
		return nil, fmt.Errorf("jwks and jwks_uri are for token_endpoint_auth_method private_key_jwt")
	}
	switch method {
	case store.AuthNone:
		if r.ClientSecret != "" {
			return nil, fmt.Errorf(`token_endpoint_auth_method "none" is for public clients: remove client_secret`)
		}
	case store.AuthSecretBasic, store.AuthSecretPost:
		if len(r.ClientSecret) < minSecretLen {
			return nil, fmt.Errorf("client_secret must be at least %d characters", minSecretLen)
		}
	case store.AuthPrivateKeyJWT:
		if r.ClientSecret != "" {
			return nil, fmt.Errorf("a private_key_jwt client authenticates with its keys: remove client_secret")
		}
	default:
		return nil, fmt.Errorf("token_endpoint_auth_method %q is not supported (client_secret_basic, client_secret_post, private_key_jwt, none)", method)
	}
	switch r.IDTokenSignedAlg {
	case "", grant.AlgRS256, grant.AlgES256, grant.AlgEdDSA:
	default:
		return nil, fmt.Errorf("id_token_signed_response_alg %q is not one the example signs with (RS256, ES256, EdDSA)", r.IDTokenSignedAlg)
	}
	grants := r.GrantTypes
	if len(grants) == 0 {
		grants = []string{store.GrantAuthorizationCode} // RFC 7591 §2 default
	}
	c := &store.Client{
		ID: r.ClientID, Name: r.ClientName, AuthMethod: method,
		RedirectURIs: r.RedirectURIs, GrantTypes: grants, Scopes: strings.Fields(r.Scope),
		JWKS: r.JWKS, JWKSURI: r.JWKSURI, TokenEndpointAuthSigningAlg: r.TokenEndpointAuthSigningAlg,
		DPoPBoundAccessTokens:  r.DPoPBoundAccessTokens,
		PostLogoutRedirectURIs: r.PostLogoutRedirectURIs, IDTokenSignedResponseAlg: r.IDTokenSignedAlg,
	}
	if c.Name == "" {
		c.Name = c.ID
	}
	if method == store.AuthSecretBasic || method == store.AuthSecretPost {
		c.SecretHash = store.HashSecret(r.ClientSecret)
	}
	if err := c.Validate(); err != nil {
		var ve *store.ValidationError
		if errors.As(err, &ve) {
			return nil, errors.New(ve.Description)
		}
		return nil, err
	}
	return c, nil
}
