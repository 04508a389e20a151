package grant

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"

	"github.com/oauthkit/oauthkit/store"
)

// Endpoints are the paths, relative to the issuer's origin, at which the
// host mounts a Provider's handlers. MetadataHandler publishes them; it
// cannot see the host's mux, so keep them in step (Provider.Endpoints gives
// the values to mount at).
type Endpoints struct {
	Authorize     string // AuthorizeHandler; default /oauth/authorize
	Token         string // TokenHandler; default /oauth/token
	Revocation    string // RevokeHandler; default /oauth/revoke
	Introspection string // IntrospectHandler; default /oauth/introspect
	JWKS          string // JWKSHandler, published only for JWT access tokens; default /.well-known/jwks.json
}

// MetadataPath is where RFC 8414 §3 puts the metadata document of an
// issuer without a path component.
const MetadataPath = "/.well-known/oauth-authorization-server"

func (e *Endpoints) setDefaults() {
	def := func(s *string, v string) {
		if *s == "" {
			*s = v
		}
	}
	def(&e.Authorize, "/oauth/authorize")
	def(&e.Token, "/oauth/token")
	def(&e.Revocation, "/oauth/revoke")
	def(&e.Introspection, "/oauth/introspect")
	def(&e.JWKS, "/.well-known/jwks.json")
}

// Endpoints returns the endpoint paths in use, defaults filled in.
func (p *Provider) Endpoints() Endpoints { return p.cfg.Endpoints }

// metadata is RFC 8414 §2's document.
type metadata struct {
	Issuer                        string   `json:"issuer"`
	AuthorizationEndpoint         string   `json:"authorization_endpoint,omitempty"`
	TokenEndpoint                 string   `json:"token_endpoint"`
	JWKSURI                       string   `json:"jwks_uri,omitempty"`
	ScopesSupported               []string `json:"scopes_supported,omitempty"`
	ResponseTypesSupported        []string `json:"response_types_supported"`
	ResponseModesSupported        []string `json:"response_modes_supported"`
	GrantTypesSupported           []string `json:"grant_types_supported"`
	TokenAuthMethods              []string `json:"token_endpoint_auth_methods_supported"`
	RevocationEndpoint            string   `json:"revocation_endpoint"`
	RevocationAuthMethods         []string `json:"revocation_endpoint_auth_methods_supported"`
	IntrospectionEndpoint         string   `json:"introspection_endpoint"`
	IntrospectionAuthMethods      []string `json:"introspection_endpoint_auth_methods_supported"`
	CodeChallengeMethodsSupported []string `json:"code_challenge_methods_supported,omitempty"`
	IssParameterSupported         bool     `json:"authorization_response_iss_parameter_supported"`
}

// MetadataHandler returns the authorization server metadata document (RFC
// 8414), built from the Provider's configuration: serve it at
// [MetadataPath] (for an issuer with a path, RFC 8414 §3.1 inserts
// MetadataPath between the host and that path). The authorization
// endpoint and PKCE methods are listed only when the authorization_code
// grant is on, jwks_uri only for JWT access tokens.
func (p *Provider) MetadataHandler() http.Handler {
	body := p.metadata()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		writePublicJSON(w, body)
	})
}

func (p *Provider) metadata() metadata {
	base := originOf(p.cfg.Issuer)
	e := p.cfg.Endpoints
	secretMethods := []string{store.AuthSecretBasic, store.AuthSecretPost}
	md := metadata{
		Issuer:                   p.cfg.Issuer,
		TokenEndpoint:            base + e.Token,
		ScopesSupported:          p.cfg.ScopesSupported,
		ResponseTypesSupported:   []string{"code"},
		ResponseModesSupported:   []string{"query"},
		GrantTypesSupported:      p.cfg.GrantTypes,
		TokenAuthMethods:         []string{store.AuthSecretBasic, store.AuthSecretPost, store.AuthNone},
		RevocationEndpoint:       base + e.Revocation,
		RevocationAuthMethods:    []string{store.AuthSecretBasic, store.AuthSecretPost, store.AuthNone},
		IntrospectionEndpoint:    base + e.Introspection,
		IntrospectionAuthMethods: secretMethods,
		IssParameterSupported:    true,
	}
	if slices.Contains(p.cfg.GrantTypes, store.GrantAuthorizationCode) {
		md.AuthorizationEndpoint = base + e.Authorize
		md.CodeChallengeMethodsSupported = []string{"S256"}
	}
	if p.cfg.AccessTokenFormat == FormatJWT {
		md.JWKSURI = base + e.JWKS
	}
	return md
}

// originOf returns scheme://host of an issuer URL already checked by
// checkIssuer.
func originOf(iss string) string {
	scheme, rest, _ := strings.Cut(iss, "://")
	host, _, _ := strings.Cut(rest, "/")
	return scheme + "://" + host
}

// writePublicJSON writes a public document that caches may keep briefly.
func writePublicJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Cache-Control", "public, max-age=300")
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_ = json.NewEncoder(w).Encode(v)
}
