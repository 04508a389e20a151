package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"slices"
	"strings"

	"github.com/oauthkit/oauthkit/internal/loopback"
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

func (r registration) client() (*store.Client, error) {
	if r.ClientID == "" || len(r.ClientID) > 128 || strings.ContainsAny(r.ClientID, " \t\r\n:") {
		return nil, fmt.Errorf("client_id is required: up to 128 characters, no spaces or colons")
	}
	method := r.TokenEndpointAuthMethod
	switch {
	case method == "" && r.ClientSecret == "":
		method = store.AuthNone
	case method == "":
		method = store.AuthSecretBasic
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
	default:
		return nil, fmt.Errorf("token_endpoint_auth_method %q is not supported (client_secret_basic, client_secret_post, none)", method)
	}
	grants := r.GrantTypes
	if len(grants) == 0 {
		grants = []string{store.GrantAuthorizationCode} // RFC 7591 §2 default
	}
	for _, g := range grants {
		switch g {
		case store.GrantAuthorizationCode, store.GrantRefreshToken, store.GrantPassword:
		case store.GrantClientCredentials:
			if method == store.AuthNone {
				return nil, fmt.Errorf("a public client cannot use client_credentials")
			}
		default:
			return nil, fmt.Errorf("grant type %q is not supported", g)
		}
	}
	if slices.Contains(grants, store.GrantAuthorizationCode) && len(r.RedirectURIs) == 0 {
		return nil, fmt.Errorf("redirect_uris are required for authorization_code")
	}
	for _, u := range r.RedirectURIs {
		if err := checkRedirectURI(u); err != nil {
			return nil, err
		}
	}
	c := &store.Client{
		ID: r.ClientID, Name: r.ClientName, AuthMethod: method,
		RedirectURIs: r.RedirectURIs, GrantTypes: grants, Scopes: strings.Fields(r.Scope),
	}
	if c.Name == "" {
		c.Name = c.ID
	}
	if method != store.AuthNone {
		c.SecretHash = store.HashSecret(r.ClientSecret)
	}
	return c, nil
}

// checkRedirectURI accepts absolute URIs without fragment (RFC 6749 §3.1.2):
// https, http on a loopback IP literal (RFC 8252 §7.3, §8.3), or a
// private-use scheme for native apps (RFC 8252 §7.1).
func checkRedirectURI(s string) error {
	u, err := url.Parse(s)
	if err != nil || !u.IsAbs() || u.Fragment != "" || strings.Contains(s, "#") {
		return fmt.Errorf("redirect_uri %q must be an absolute URI without fragment", s)
	}
	switch u.Scheme {
	case "https":
	case "http":
		if !loopback.Host(u.Hostname()) {
			return fmt.Errorf("redirect_uri %q: http is allowed only on a loopback IP literal (127.0.0.1, [::1])", s)
		}
	default:
		if !strings.Contains(u.Scheme, ".") {
			return fmt.Errorf("redirect_uri %q: a private-use scheme must be a reversed domain name (RFC 8252 §7.1)", s)
		}
	}
	return nil
}
