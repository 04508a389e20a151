package storetest

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/oauthkit/oauthkit/store"
)

const testJWKS = `{
  "keys": [{"kty": "OKP", "crv": "Ed25519", "kid": "k1", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}]
}`

// fullClient returns a client with every field set.
func fullClient(id string) *store.Client {
	c := newClient(id)
	c.PostLogoutRedirectURIs = []string{"https://app.example/bye", "com.example.app:/bye"}
	c.IDTokenSignedResponseAlg = "EdDSA"
	c.JWKS = []byte(testJWKS)
	c.TokenEndpointAuthSigningAlg = "ES256"
	c.DPoPBoundAccessTokens = true
	c.StrictAuthMethod = true
	c.RegistrationTokenHash = store.HashSecret("registration-" + rawToken())
	c.ClientURI = "https://app.example/"
	c.LogoURI = "https://app.example/logo.png"
	c.Contacts = []string{"ops@app.example", "Zoë <zoe@app.example>"}
	c.SoftwareID = "4NRB1-0XZABZI9E6-5SM3R"
	c.SoftwareVersion = "2.1.0"
	return c
}

// testClientFields round-trips every Client field through CreateClient,
// Client and Clients, then replaces the registration with UpdateClient,
// twice: the second time down to a bare public client.
func testClientFields(t *testing.T, s Store) {
	ctx := t.Context()
	c := fullClient("full")
	sent := *c
	sent.RedirectURIs, sent.Contacts = slices.Clone(c.RedirectURIs), slices.Clone(c.Contacts)
	sent.JWKS = slices.Clone(c.JWKS)
	if err := s.CreateClient(ctx, &sent); err != nil {
		t.Fatalf("CreateClient: %v", err)
	}
	// The caller's slices are the caller's.
	sent.RedirectURIs[0], sent.Contacts[0], sent.JWKS[0] = "https://changed.example/cb", "changed@app.example", '['
	checkBoth(t, s, c)

	u := &store.Client{
		ID: "full", SecretHash: store.HashSecret("a new secret"), Name: "Renamed",
		RedirectURIs: []string{"com.example.app:/cb"}, GrantTypes: []string{store.GrantAuthorizationCode, store.GrantDeviceCode},
		Scopes: []string{"openid"}, AuthMethod: store.AuthPrivateKeyJWT, FirstParty: false,
		CreatedAt:              c.CreatedAt.Add(-48 * time.Hour), // ignored: CreatedAt stays as stored
		PostLogoutRedirectURIs: []string{"http://127.0.0.1:9000/bye"},
		JWKSURI:                "https://app.example/jwks.json",
		RegistrationTokenHash:  store.HashSecret("rotated-" + rawToken()),
		Contacts:               []string{"new@app.example"},
		SoftwareVersion:        "3.0",
	}
	if err := s.UpdateClient(ctx, u); err != nil {
		t.Fatalf("UpdateClient: %v", err)
	}
	want := *u
	want.CreatedAt = c.CreatedAt
	checkBoth(t, s, &want)

	bare := &store.Client{ID: "full", AuthMethod: store.AuthNone}
	if err := s.UpdateClient(ctx, bare); err != nil {
		t.Fatalf("UpdateClient to a bare client: %v", err)
	}
	want = *bare
	want.CreatedAt = c.CreatedAt
	checkBoth(t, s, &want)
}

func readClient(t *testing.T, s Store, id string) *store.Client {
	t.Helper()
	c, err := s.Client(t.Context(), id)
	if err != nil {
		t.Fatalf("Client(%s): %v", id, err)
	}
	return c
}

// checkBoth checks want against what Client and Clients return.
func checkBoth(t *testing.T, s Store, want *store.Client) {
	t.Helper()
	checkClient(t, readClient(t, s, want.ID), want)
	cs, err := s.Clients(t.Context())
	if err != nil {
		t.Fatalf("Clients: %v", err)
	}
	found := false
	for _, c := range cs {
		if c.ID == want.ID {
			found = true
			checkClient(t, c, want)
		}
	}
	if !found {
		t.Errorf("Clients lacks %q", want.ID)
	}
}

// testClientUpdateNotFound: UpdateClient of an unknown client is
// ErrNotFound and registers nothing.
func testClientUpdateNotFound(t *testing.T, s Store) {
	ctx := t.Context()
	if err := s.UpdateClient(ctx, newClient("ghost")); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("UpdateClient(unknown) = %v, want ErrNotFound", err)
	}
	if _, err := s.Client(ctx, "ghost"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Client after UpdateClient(unknown): err = %v, want ErrNotFound", err)
	}
	if err := s.CreateClient(ctx, newClient("real")); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteClient(ctx, "real"); err != nil {
		t.Fatal(err)
	}
	if err := s.UpdateClient(ctx, newClient("real")); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("UpdateClient(deleted) = %v, want ErrNotFound", err)
	}
	if cs, err := s.Clients(ctx); err != nil || len(cs) != 0 {
		t.Errorf("Clients = %d, %v; want none", len(cs), err)
	}
}

// badClients are registrations Validate refuses, each with its RFC 7591
// error code.
var badClients = []struct {
	name string
	code string
	edit func(*store.Client)
}{
	{"empty ID", store.CodeInvalidClientMetadata, func(c *store.Client) { c.ID = "" }},
	{"ID with a space", store.CodeInvalidClientMetadata, func(c *store.Client) { c.ID = "bad id" }},
	{"ID with NUL", store.CodeInvalidClientMetadata, func(c *store.Client) { c.ID = "bad\x00" }},
	{"ID invalid UTF-8", store.CodeInvalidClientMetadata, func(c *store.Client) { c.ID = "bad\xff" }},
	{"unknown auth method", store.CodeInvalidClientMetadata, func(c *store.Client) { c.AuthMethod = "tls_client_auth" }},
	{"secret method without secret", store.CodeInvalidClientMetadata, func(c *store.Client) { c.SecretHash = store.Hash{} }},
	{"public with secret", store.CodeInvalidClientMetadata, func(c *store.Client) { c.AuthMethod = store.AuthNone }},
	{"public client_credentials", store.CodeInvalidClientMetadata, func(c *store.Client) {
		c.AuthMethod, c.SecretHash, c.GrantTypes = store.AuthNone, store.Hash{}, []string{store.GrantClientCredentials}
	}},
	{"private_key_jwt without keys", store.CodeInvalidClientMetadata, func(c *store.Client) {
		c.AuthMethod, c.JWKS, c.JWKSURI = store.AuthPrivateKeyJWT, nil, ""
	}},
	{"jwks and jwks_uri", store.CodeInvalidClientMetadata, func(c *store.Client) { c.JWKSURI = "https://app.example/jwks.json" }},
	{"jwks not a JWK Set", store.CodeInvalidClientMetadata, func(c *store.Client) { c.JWKS = []byte(`{"kty": "OKP"}`) }},
	{"jwks_uri over http", store.CodeInvalidClientMetadata, func(c *store.Client) { c.JWKS, c.JWKSURI = nil, "http://app.example/jwks" }},
	{"unknown grant", store.CodeInvalidClientMetadata, func(c *store.Client) { c.GrantTypes = []string{"implicit"} }},
	{"code without redirect URI", store.CodeInvalidRedirectURI, func(c *store.Client) { c.RedirectURIs = nil }},
	{"http localhost", store.CodeInvalidRedirectURI, func(c *store.Client) { c.RedirectURIs = []string{"http://localhost/cb"} }},
	{"http loopback-looking host", store.CodeInvalidRedirectURI, func(c *store.Client) { c.RedirectURIs = []string{"http://127.attacker.example/cb"} }},
	{"fragment", store.CodeInvalidRedirectURI, func(c *store.Client) { c.RedirectURIs = []string{"https://app.example/cb#x"} }},
	{"private-use scheme without dot", store.CodeInvalidRedirectURI, func(c *store.Client) { c.RedirectURIs = []string{"myapp:/cb"} }},
	{"post-logout URI over http", store.CodeInvalidClientMetadata, func(c *store.Client) {
		c.PostLogoutRedirectURIs = []string{"http://app.example/bye"}
	}},
	{"scope with a space", store.CodeInvalidClientMetadata, func(c *store.Client) { c.Scopes = []string{"read write"} }},
	{"scope with a control character", store.CodeInvalidClientMetadata, func(c *store.Client) { c.Scopes = []string{"read\n"} }},
	{"alg none", store.CodeInvalidClientMetadata, func(c *store.Client) { c.IDTokenSignedResponseAlg = "none" }},
	{"logo over javascript:", store.CodeInvalidClientMetadata, func(c *store.Client) { c.LogoURI = "javascript:alert(1)" }},
}

// testClientInvalid: CreateClient and UpdateClient refuse what Validate
// refuses, with its code, and store nothing.
func testClientInvalid(t *testing.T, s Store) {
	ctx := t.Context()
	good := fullClient("good")
	if err := s.CreateClient(ctx, good); err != nil {
		t.Fatal(err)
	}
	good = readClient(t, s, "good")
	for _, bc := range badClients {
		check := func(op string, err error) {
			t.Helper()
			var ve *store.ValidationError
			if !errors.Is(err, store.ErrInvalidClient) || !errors.As(err, &ve) || ve.Code != bc.code {
				t.Errorf("%s(%s) = %v, want a *ValidationError with code %s", op, bc.name, err, bc.code)
			}
		}
		c := fullClient("bad")
		bc.edit(c)
		check("CreateClient", s.CreateClient(ctx, c))
		if c.ID == "bad" {
			if _, err := s.Client(ctx, "bad"); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("CreateClient(%s) stored the client: err = %v", bc.name, err)
			}
		}
		u := fullClient("good")
		bc.edit(u)
		check("UpdateClient", s.UpdateClient(ctx, u))
	}
	cs, err := s.Clients(ctx)
	if err != nil || len(cs) != 1 {
		t.Fatalf("Clients after refused registrations = %d clients, %v; want only the good one", len(cs), err)
	}
	checkClient(t, cs[0], good)
}
