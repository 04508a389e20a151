package store_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/oauthkit/oauthkit/store"
)

// validClient is a confidential web client that passes Validate; each case
// of TestValidate changes one thing.
func validClient() *store.Client {
	return &store.Client{
		ID: "web-app", SecretHash: store.HashSecret("s"), Name: "Web app", AuthMethod: store.AuthSecretBasic,
		RedirectURIs: []string{"https://app.example/cb"},
		GrantTypes:   []string{store.GrantAuthorizationCode, store.GrantRefreshToken},
		Scopes:       []string{"openid", "read"},
	}
}

const jwks = `{"keys": [{"kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}]}`

func TestValidate(t *testing.T) {
	const (
		ok       = ""
		redirect = store.CodeInvalidRedirectURI
		metadata = store.CodeInvalidClientMetadata
	)
	for _, tc := range []struct {
		name  string
		code  string // "" when the client is valid
		field string
		edit  func(c *store.Client)
	}{
		{"valid", ok, "", func(c *store.Client) {}},

		// client_id
		{"id empty", metadata, "client_id", func(c *store.Client) { c.ID = "" }},
		{"id of MaxClientIDLen bytes", ok, "", func(c *store.Client) { c.ID = strings.Repeat("a", store.MaxClientIDLen) }},
		{"id one byte too long", metadata, "client_id", func(c *store.Client) { c.ID = strings.Repeat("a", store.MaxClientIDLen+1) }},
		{"id https URL", ok, "", func(c *store.Client) { c.ID = "https://app.example/oauth/client.json" }},
		{"id with colon", ok, "", func(c *store.Client) { c.ID = "urn:app:1" }},
		{"id unicode", ok, "", func(c *store.Client) { c.ID = "app-ü" }},
		{"id space", metadata, "client_id", func(c *store.Client) { c.ID = "web app" }},
		{"id tab", metadata, "client_id", func(c *store.Client) { c.ID = "web\tapp" }},
		{"id newline", metadata, "client_id", func(c *store.Client) { c.ID = "web\napp" }},
		{"id NUL", metadata, "client_id", func(c *store.Client) { c.ID = "web\x00app" }},
		{"id DEL", metadata, "client_id", func(c *store.Client) { c.ID = "web\x7fapp" }},
		{"id C1 control", metadata, "client_id", func(c *store.Client) { c.ID = "web\u0085app" }},
		{"id no-break space", metadata, "client_id", func(c *store.Client) { c.ID = "web\u00a0app" }},
		{"id bidi override", metadata, "client_id", func(c *store.Client) { c.ID = "web\u202eapp" }},
		{"id invalid UTF-8", metadata, "client_id", func(c *store.Client) { c.ID = "web\xffapp" }},

		// token_endpoint_auth_method and secrets
		{"auth method empty", metadata, "token_endpoint_auth_method", func(c *store.Client) { c.AuthMethod = "" }},
		{"auth method unknown", metadata, "token_endpoint_auth_method", func(c *store.Client) { c.AuthMethod = "client_secret_jwt" }},
		{"post", ok, "", func(c *store.Client) { c.AuthMethod = store.AuthSecretPost }},
		{"basic without secret", metadata, "token_endpoint_auth_method", func(c *store.Client) { c.SecretHash = store.Hash{} }},
		{"post without secret", metadata, "token_endpoint_auth_method", func(c *store.Client) {
			c.AuthMethod, c.SecretHash = store.AuthSecretPost, store.Hash{}
		}},
		{"public", ok, "", func(c *store.Client) { c.AuthMethod, c.SecretHash = store.AuthNone, store.Hash{} }},
		{"public with secret", metadata, "token_endpoint_auth_method", func(c *store.Client) { c.AuthMethod = store.AuthNone }},
		{"public client_credentials", metadata, "grant_types", func(c *store.Client) {
			c.AuthMethod, c.SecretHash, c.GrantTypes = store.AuthNone, store.Hash{}, []string{store.GrantClientCredentials}
		}},
		{"confidential client_credentials", ok, "", func(c *store.Client) {
			c.GrantTypes, c.RedirectURIs = []string{store.GrantClientCredentials}, nil
		}},

		// private_key_jwt, jwks, jwks_uri
		{"private_key_jwt jwks", ok, "", func(c *store.Client) {
			c.AuthMethod, c.SecretHash, c.JWKS = store.AuthPrivateKeyJWT, store.Hash{}, []byte(jwks)
		}},
		{"private_key_jwt jwks_uri", ok, "", func(c *store.Client) {
			c.AuthMethod, c.SecretHash, c.JWKSURI = store.AuthPrivateKeyJWT, store.Hash{}, "https://app.example/jwks.json"
		}},
		{"private_key_jwt loopback jwks_uri", ok, "", func(c *store.Client) {
			c.AuthMethod, c.JWKSURI = store.AuthPrivateKeyJWT, "http://127.0.0.1:8080/jwks.json"
		}},
		{"private_key_jwt no keys", metadata, "token_endpoint_auth_method", func(c *store.Client) {
			c.AuthMethod, c.SecretHash = store.AuthPrivateKeyJWT, store.Hash{}
		}},
		{"jwks and jwks_uri", metadata, "jwks", func(c *store.Client) {
			c.AuthMethod, c.JWKS, c.JWKSURI = store.AuthPrivateKeyJWT, []byte(jwks), "https://app.example/jwks.json"
		}},
		{"jwks not JSON", metadata, "jwks", func(c *store.Client) { c.JWKS = []byte(`{"keys": [`) }},
		{"jwks array", metadata, "jwks", func(c *store.Client) { c.JWKS = []byte(`[{"kty": "OKP"}]`) }},
		{"jwks null", metadata, "jwks", func(c *store.Client) { c.JWKS = []byte(`null`) }},
		{"jwks no keys member", metadata, "jwks", func(c *store.Client) { c.JWKS = []byte(`{"kty": "OKP"}`) }},
		{"jwks keys not array", metadata, "jwks", func(c *store.Client) { c.JWKS = []byte(`{"keys": {"kty": "OKP"}}`) }},
		{"jwks keys empty", metadata, "jwks", func(c *store.Client) { c.JWKS = []byte(`{"keys": []}`) }},
		{"jwks key not object", metadata, "jwks", func(c *store.Client) { c.JWKS = []byte(`{"keys": ["k"]}`) }},
		{"jwks key null", metadata, "jwks", func(c *store.Client) { c.JWKS = []byte(`{"keys": [null]}`) }},
		{"jwks trailing data", metadata, "jwks", func(c *store.Client) { c.JWKS = []byte(jwks + ` {}`) }},
		{"jwks_uri http", metadata, "jwks_uri", func(c *store.Client) { c.JWKSURI = "http://app.example/jwks.json" }},
		{"jwks_uri http localhost", metadata, "jwks_uri", func(c *store.Client) { c.JWKSURI = "http://localhost/jwks.json" }},
		{"jwks_uri relative", metadata, "jwks_uri", func(c *store.Client) { c.JWKSURI = "/jwks.json" }},
		{"jwks_uri fragment", metadata, "jwks_uri", func(c *store.Client) { c.JWKSURI = "https://app.example/jwks.json#k" }},
		{"jwks_uri private scheme", metadata, "jwks_uri", func(c *store.Client) { c.JWKSURI = "com.example.app:/jwks" }},

		// grant_types
		{"no grants", ok, "", func(c *store.Client) { c.GrantTypes, c.RedirectURIs = nil, nil }},
		{"every grant", ok, "", func(c *store.Client) {
			c.GrantTypes = []string{store.GrantAuthorizationCode, store.GrantClientCredentials, store.GrantRefreshToken,
				store.GrantPassword, store.GrantDeviceCode}
		}},
		{"implicit", metadata, "grant_types", func(c *store.Client) { c.GrantTypes = []string{"implicit"} }},
		{"grant empty string", metadata, "grant_types", func(c *store.Client) { c.GrantTypes = []string{""} }},
		{"code without redirect URIs", redirect, "redirect_uris", func(c *store.Client) { c.RedirectURIs = nil }},

		// redirect_uris
		{"https with port and query", ok, "", func(c *store.Client) { c.RedirectURIs = []string{"https://app.example:8443/cb?x=1"} }},
		{"http 127.0.0.1", ok, "", func(c *store.Client) { c.RedirectURIs = []string{"http://127.0.0.1/cb"} }},
		{"http 127.0.0.1 port", ok, "", func(c *store.Client) { c.RedirectURIs = []string{"http://127.0.0.1:8080/cb"} }},
		{"http 127.1.2.3", ok, "", func(c *store.Client) { c.RedirectURIs = []string{"http://127.1.2.3/cb"} }},
		{"http [::1]", ok, "", func(c *store.Client) { c.RedirectURIs = []string{"http://[::1]:8080/cb"} }},
		{"https localhost", ok, "", func(c *store.Client) { c.RedirectURIs = []string{"https://localhost/cb"} }},
		{"private-use scheme", ok, "", func(c *store.Client) { c.RedirectURIs = []string{"com.example.app:/cb"} }},
		{"private-use scheme slashes", ok, "", func(c *store.Client) { c.RedirectURIs = []string{"com.example.app://cb"} }},
		{"http localhost", redirect, "redirect_uris", func(c *store.Client) { c.RedirectURIs = []string{"http://localhost/cb"} }},
		{"http localhost port", redirect, "redirect_uris", func(c *store.Client) { c.RedirectURIs = []string{"http://localhost:8080/cb"} }},
		{"http 127 host name", redirect, "redirect_uris", func(c *store.Client) { c.RedirectURIs = []string{"http://127.attacker.example/cb"} }},
		{"http 127.0.0.1 host name", redirect, "redirect_uris", func(c *store.Client) { c.RedirectURIs = []string{"http://127.0.0.1.attacker.example/cb"} }},
		{"http short IPv4", redirect, "redirect_uris", func(c *store.Client) { c.RedirectURIs = []string{"http://127.1/cb"} }},
		{"http hex IPv4", redirect, "redirect_uris", func(c *store.Client) { c.RedirectURIs = []string{"http://0x7f.0.0.1/cb"} }},
		{"http IPv4-mapped", redirect, "redirect_uris", func(c *store.Client) { c.RedirectURIs = []string{"http://[::ffff:127.0.0.1]/cb"} }},
		{"http ::1 zone", redirect, "redirect_uris", func(c *store.Client) { c.RedirectURIs = []string{"http://[::1%25lo]/cb"} }},
		{"http 10/8", redirect, "redirect_uris", func(c *store.Client) { c.RedirectURIs = []string{"http://10.0.0.1/cb"} }},
		{"http host", redirect, "redirect_uris", func(c *store.Client) { c.RedirectURIs = []string{"http://app.example/cb"} }},
		{"http bad port", redirect, "redirect_uris", func(c *store.Client) { c.RedirectURIs = []string{"http://127.0.0.1:99999/cb"} }},
		{"private-use scheme without dot", redirect, "redirect_uris", func(c *store.Client) { c.RedirectURIs = []string{"myapp:/cb"} }},
		{"javascript", redirect, "redirect_uris", func(c *store.Client) { c.RedirectURIs = []string{"javascript:alert(1)"} }},
		{"data", redirect, "redirect_uris", func(c *store.Client) { c.RedirectURIs = []string{"data:text/html,x"} }},
		{"fragment", redirect, "redirect_uris", func(c *store.Client) { c.RedirectURIs = []string{"https://app.example/cb#f"} }},
		{"empty fragment", redirect, "redirect_uris", func(c *store.Client) { c.RedirectURIs = []string{"https://app.example/cb#"} }},
		{"relative", redirect, "redirect_uris", func(c *store.Client) { c.RedirectURIs = []string{"/cb"} }},
		{"empty", redirect, "redirect_uris", func(c *store.Client) { c.RedirectURIs = []string{""} }},
		{"https no host", redirect, "redirect_uris", func(c *store.Client) { c.RedirectURIs = []string{"https:/cb"} }},
		{"userinfo", redirect, "redirect_uris", func(c *store.Client) { c.RedirectURIs = []string{"https://app.example@evil.example/cb"} }},
		{"space", redirect, "redirect_uris", func(c *store.Client) { c.RedirectURIs = []string{"https://app.example/c b"} }},
		{"control character", redirect, "redirect_uris", func(c *store.Client) { c.RedirectURIs = []string{"https://app.example/cb\r\n"} }},
		{"invalid UTF-8", redirect, "redirect_uris", func(c *store.Client) { c.RedirectURIs = []string{"https://app.example/\xff"} }},
		{"second URI bad", redirect, "redirect_uris", func(c *store.Client) {
			c.RedirectURIs = []string{"https://app.example/cb", "http://localhost/cb"}
		}},

		// post_logout_redirect_uris
		{"post-logout ok", ok, "", func(c *store.Client) {
			c.PostLogoutRedirectURIs = []string{"https://app.example/bye", "http://[::1]/bye", "com.example.app:/bye"}
		}},
		{"post-logout http localhost", metadata, "post_logout_redirect_uris", func(c *store.Client) {
			c.PostLogoutRedirectURIs = []string{"http://localhost/bye"}
		}},
		{"post-logout fragment", metadata, "post_logout_redirect_uris", func(c *store.Client) {
			c.PostLogoutRedirectURIs = []string{"https://app.example/bye#x"}
		}},
		{"post-logout no dot", metadata, "post_logout_redirect_uris", func(c *store.Client) {
			c.PostLogoutRedirectURIs = []string{"myapp:/bye"}
		}},

		// scope
		{"scopes none", ok, "", func(c *store.Client) { c.Scopes = nil }},
		{"scope punctuation", ok, "", func(c *store.Client) { c.Scopes = []string{"https://api.example/read", "a:b", "!#[]~"} }},
		{"scope empty", metadata, "scope", func(c *store.Client) { c.Scopes = []string{""} }},
		{"scope space", metadata, "scope", func(c *store.Client) { c.Scopes = []string{"read write"} }},
		{"scope quote", metadata, "scope", func(c *store.Client) { c.Scopes = []string{`re"ad`} }},
		{"scope backslash", metadata, "scope", func(c *store.Client) { c.Scopes = []string{`re\ad`} }},
		{"scope control", metadata, "scope", func(c *store.Client) { c.Scopes = []string{"read\x00"} }},
		{"scope DEL", metadata, "scope", func(c *store.Client) { c.Scopes = []string{"read\x7f"} }},
		{"scope non-ASCII", metadata, "scope", func(c *store.Client) { c.Scopes = []string{"lesen-ü"} }},
		{"scope invalid UTF-8", metadata, "scope", func(c *store.Client) { c.Scopes = []string{"read\xc3"} }},

		// algorithms
		{"algs", ok, "", func(c *store.Client) { c.IDTokenSignedResponseAlg, c.TokenEndpointAuthSigningAlg = "EdDSA", "ES256" }},
		{"id token alg none", metadata, "id_token_signed_response_alg", func(c *store.Client) { c.IDTokenSignedResponseAlg = "none" }},
		{"id token alg junk", metadata, "id_token_signed_response_alg", func(c *store.Client) { c.IDTokenSignedResponseAlg = "RS 256" }},
		{"auth signing alg none", metadata, "token_endpoint_auth_signing_alg", func(c *store.Client) { c.TokenEndpointAuthSigningAlg = "none" }},
		{"auth signing alg long", metadata, "token_endpoint_auth_signing_alg", func(c *store.Client) {
			c.TokenEndpointAuthSigningAlg = strings.Repeat("A", 33)
		}},

		// what is shown or echoed
		{"info", ok, "", func(c *store.Client) {
			c.Name, c.ClientURI, c.LogoURI = "Café app", "https://app.example/", "https://app.example/logo.png"
			c.Contacts, c.SoftwareID, c.SoftwareVersion = []string{"ops@app.example"}, "4NRB1-0XZABZI9E6-5SM3R", "2.1"
		}},
		{"name control", metadata, "client_name", func(c *store.Client) { c.Name = "App\x1b[31m" }},
		{"name invalid UTF-8", metadata, "client_name", func(c *store.Client) { c.Name = "App\xff" }},
		{"software_id control", metadata, "software_id", func(c *store.Client) { c.SoftwareID = "a\nb" }},
		{"software_version control", metadata, "software_version", func(c *store.Client) { c.SoftwareVersion = "1\x00" }},
		{"contact empty", metadata, "contacts", func(c *store.Client) { c.Contacts = []string{""} }},
		{"contact control", metadata, "contacts", func(c *store.Client) { c.Contacts = []string{"a@b.example\r\nBcc: x"} }},
		{"client_uri javascript", metadata, "client_uri", func(c *store.Client) { c.ClientURI = "javascript:alert(1)" }},
		{"client_uri relative", metadata, "client_uri", func(c *store.Client) { c.ClientURI = "/home" }},
		{"logo_uri data", metadata, "logo_uri", func(c *store.Client) { c.LogoURI = "data:image/png;base64,AAAA" }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := validClient()
			tc.edit(c)
			err := c.Validate()
			if tc.code == ok {
				if err != nil {
					t.Fatalf("Validate(%+v) = %v, want nil", c, err)
				}
				return
			}
			var ve *store.ValidationError
			if !errors.As(err, &ve) || !errors.Is(err, store.ErrInvalidClient) {
				t.Fatalf("Validate = %v, want a *ValidationError matching ErrInvalidClient", err)
			}
			if ve.Code != tc.code || ve.Field != tc.field || ve.Description == "" {
				t.Errorf("Validate = %+v, want code %s, field %s, a description", ve, tc.code, tc.field)
			}
			if !strings.HasPrefix(err.Error(), "store: "+tc.code+": ") {
				t.Errorf("Error() = %q", err.Error())
			}
		})
	}
}

// TestValidateDescriptionBounded checks that an error description quotes a
// long value only in part, and escapes what it quotes.
func TestValidateDescriptionBounded(t *testing.T) {
	c := validClient()
	c.RedirectURIs = []string{"http://app.example/" + strings.Repeat("é", 5000)}
	var ve *store.ValidationError
	if !errors.As(c.Validate(), &ve) {
		t.Fatal("no ValidationError")
	}
	if len(ve.Description) > 300 {
		t.Errorf("description is %d bytes long", len(ve.Description))
	}
	c.RedirectURIs = []string{"https://app.example/\r\nSet-Cookie: x"}
	if errors.As(c.Validate(), &ve); strings.ContainsAny(ve.Description, "\r\n") {
		t.Errorf("description %q carries control characters", ve.Description)
	}
}

func FuzzValidate(f *testing.F) {
	f.Add("web-app", "client_secret_basic", "https://app.example/cb", "read", "authorization_code", []byte(nil), "")
	f.Add("spa", "none", "http://[::1]:8080/cb", "openid", "refresh_token", []byte(nil), "")
	f.Add("https://app.example/c.json", "private_key_jwt", "com.example.app:/cb", "a:b", "authorization_code", []byte(jwks), "")
	f.Add("svc", "private_key_jwt", "http://127.attacker.example/cb", "x", "client_credentials", []byte(`{"keys":[1]}`), "https://app.example/jwks")
	f.Add("a\xff", "none", "myapp:/cb#x", "r\x00", "implicit", []byte(`{"keys":`), "http://localhost/jwks")
	f.Fuzz(func(t *testing.T, id, method, redirect, scope, grant string, jwks []byte, jwksURI string) {
		c := &store.Client{
			ID: id, AuthMethod: method, RedirectURIs: []string{redirect}, Scopes: []string{scope},
			GrantTypes: []string{grant}, JWKS: jwks, JWKSURI: jwksURI, PostLogoutRedirectURIs: []string{redirect},
		}
		if method != store.AuthNone {
			c.SecretHash = store.HashSecret(id)
		}
		err := c.Validate()
		if err != nil {
			var ve *store.ValidationError
			if !errors.As(err, &ve) || ve.Code != store.CodeInvalidRedirectURI && ve.Code != store.CodeInvalidClientMetadata {
				t.Fatalf("Validate = %#v, want a *ValidationError with an RFC 7591 code", err)
			}
			return
		}
		if c.Public() && c.AllowsGrant(store.GrantClientCredentials) {
			t.Fatalf("accepted a public client_credentials client %+v", c)
		}
		if strings.HasPrefix(redirect, "http:") && !strings.HasPrefix(redirect, "http://127.") && !strings.HasPrefix(redirect, "http://[::1]") {
			t.Fatalf("accepted http redirect URI %q", redirect)
		}
		if strings.Contains(redirect, "#") || strings.ContainsAny(id, " \x00\n") {
			t.Fatalf("accepted %q / %q", id, redirect)
		}
		if _, err := c.MarshalMetadata(); err != nil {
			t.Fatalf("MarshalMetadata of a valid client: %v", err)
		}
	})
}
