package grant_test

import (
	"net/http"
	"slices"
	"testing"

	"github.com/oauthkit/oauthkit/grant"
	"github.com/oauthkit/oauthkit/store"
)

func TestMetadataMatchesConfiguration(t *testing.T) {
	e := newEPServer(t, func(c *grant.Config) {
		c.GrantTypes = append(c.GrantTypes, store.GrantAuthorizationCode)
		c.Endpoints = grant.Endpoints{Token: "/t", Revocation: "/r"}
		c.ScopesSupported = []string{"read", "write"}
	})
	req, _ := http.NewRequest(http.MethodGet, e.srv.URL+grant.MetadataPath, nil)
	r := e.send(req)
	if r.status != 200 {
		t.Fatalf("%d %v", r.status, r.body)
	}
	want := map[string]any{
		"issuer":                 e.srv.URL,
		"token_endpoint":         e.srv.URL + "/t",
		"revocation_endpoint":    e.srv.URL + "/r",
		"introspection_endpoint": e.srv.URL + "/oauth/introspect",
		"authorization_endpoint": e.srv.URL + "/oauth/authorize",
		"authorization_response_iss_parameter_supported": true,
	}
	for k, v := range want {
		if r.body[k] != v {
			t.Errorf("%s = %v, want %v", k, r.body[k], v)
		}
	}
	lists := map[string][]string{
		"grant_types_supported":                         {"client_credentials", "password", "refresh_token", "authorization_code"},
		"response_types_supported":                      {"code"},
		"code_challenge_methods_supported":              {"S256"},
		"scopes_supported":                              {"read", "write"},
		"token_endpoint_auth_methods_supported":         {"client_secret_basic", "client_secret_post", "private_key_jwt", "none"},
		"revocation_endpoint_auth_methods_supported":    {"client_secret_basic", "client_secret_post", "private_key_jwt", "none"},
		"introspection_endpoint_auth_methods_supported": {"client_secret_basic", "client_secret_post", "private_key_jwt"},
		// RFC 8414 §2: required when private_key_jwt is listed.
		"token_endpoint_auth_signing_alg_values_supported":         {"EdDSA", "ES256", "RS256", "PS256"},
		"revocation_endpoint_auth_signing_alg_values_supported":    {"EdDSA", "ES256", "RS256", "PS256"},
		"introspection_endpoint_auth_signing_alg_values_supported": {"EdDSA", "ES256", "RS256", "PS256"},
	}
	for k, v := range lists {
		if got := jsonStrings(r.body[k]); !slices.Equal(got, v) {
			t.Errorf("%s = %v, want %v", k, got, v)
		}
	}
	if _, ok := r.body["jwks_uri"]; ok {
		t.Error("jwks_uri published without JWT access tokens")
	}
	if e.p.Endpoints().Token != "/t" {
		t.Error("Endpoints() does not report the configured path")
	}
}

// The signing algorithms published are those ClientAuth accepts.
func TestMetadataAssertionAlgorithms(t *testing.T) {
	e := newEPServer(t, func(c *grant.Config) { c.ClientAuth.AssertionAlgorithms = []string{"ES256"} })
	req, _ := http.NewRequest(http.MethodGet, e.srv.URL+grant.MetadataPath, nil)
	r := e.send(req)
	for _, k := range []string{"token_endpoint_auth_signing_alg_values_supported", "revocation_endpoint_auth_signing_alg_values_supported", "introspection_endpoint_auth_signing_alg_values_supported"} {
		if got := jsonStrings(r.body[k]); !slices.Equal(got, []string{"ES256"}) {
			t.Errorf("%s = %v", k, got)
		}
	}
}

func TestMetadataWithoutAuthorizationCode(t *testing.T) {
	e := newEPServer(t)
	req, _ := http.NewRequest(http.MethodGet, e.srv.URL+grant.MetadataPath, nil)
	r := e.send(req)
	if _, ok := r.body["authorization_endpoint"]; ok {
		t.Error("authorization_endpoint published without the authorization_code grant")
	}
	if r.body["response_types_supported"] == nil {
		t.Error("response_types_supported is required (RFC 8414 §2)")
	}
}

func jsonStrings(v any) []string {
	var out []string
	list, _ := v.([]any)
	for _, x := range list {
		out = append(out, x.(string))
	}
	return out
}
