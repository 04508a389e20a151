package grant

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"

	"github.com/oauthkit/oauthkit/store"
)

// Endpoints returns the paths to mount the handlers at on the issuer's
// host: Config.Endpoints, defaults filled in, under the issuer's path.
// [Provider.Routes] lists them with their handlers.
func (p *Provider) Endpoints() Endpoints { return p.cfg.Endpoints.under(issuerPath(p.cfg.Issuer)) }

// MetadataURL returns the URL of the authorization server metadata
// document (RFC 8414 §3.1): MetadataPath on the issuer's host, followed by
// the issuer's path if it has one.
func (p *Provider) MetadataURL() string { return originOf(p.cfg.Issuer) + p.metadataPath() }

func (p *Provider) metadataPath() string { return MetadataPath + issuerPath(p.cfg.Issuer) }

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
	TokenAuthAlgs                 []string `json:"token_endpoint_auth_signing_alg_values_supported"`
	RevocationEndpoint            string   `json:"revocation_endpoint"`
	RevocationAuthMethods         []string `json:"revocation_endpoint_auth_methods_supported"`
	RevocationAuthAlgs            []string `json:"revocation_endpoint_auth_signing_alg_values_supported"`
	IntrospectionEndpoint         string   `json:"introspection_endpoint"`
	IntrospectionAuthMethods      []string `json:"introspection_endpoint_auth_methods_supported"`
	IntrospectionAuthAlgs         []string `json:"introspection_endpoint_auth_signing_alg_values_supported"`
	CodeChallengeMethodsSupported []string `json:"code_challenge_methods_supported,omitempty"`
	IssParameterSupported         bool     `json:"authorization_response_iss_parameter_supported"`
	DPoPSigningAlgs               []string `json:"dpop_signing_alg_values_supported"`
	DeviceAuthorizationEndpoint   string   `json:"device_authorization_endpoint,omitempty"`
	*oidcMetadata                          // OpenID Connect Discovery's fields, when Config.OIDC is on (oidc_discovery.go)
	RegistrationEndpoint          string   `json:"registration_endpoint,omitempty"`                 // RFC 7591 (register.go)
	CIMDSupported                 bool     `json:"client_id_metadata_document_supported,omitempty"` // cimd.go
}

// MetadataHandler returns the authorization server metadata document (RFC
// 8414), built from the Provider's configuration: serve it at the path of
// [Provider.MetadataURL] ([MetadataPath] for an issuer without a path;
// [Provider.Routes] does). The endpoint URLs are the issuer followed by
// Config.Endpoints. The authorization endpoint and PKCE methods are listed
// only when the authorization_code grant is on, jwks_uri only for JWT
// access tokens or OpenID Connect, whose Discovery fields it carries too
// (DiscoveryHandler serves the same document), the device authorization
// endpoint (RFC 8628 §4) only with the device grant. Any origin may read it
// (CORS, without credentials).
func (p *Provider) MetadataHandler() http.Handler {
	body := p.metadata()
	return publicCORS(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		writePublicJSON(w, p.liveMetadata(body))
	})
}

func (p *Provider) metadata() metadata {
	base := strings.TrimSuffix(p.cfg.Issuer, "/")
	e := p.cfg.Endpoints
	confidential := []string{store.AuthSecretBasic, store.AuthSecretPost, store.AuthPrivateKeyJWT}
	algs := p.cfg.ClientAuth.AssertionAlgorithms
	md := metadata{
		Issuer:                   p.cfg.Issuer,
		TokenEndpoint:            p.tokenEndpointURL(),
		ScopesSupported:          p.cfg.ScopesSupported,
		ResponseTypesSupported:   []string{"code"},
		ResponseModesSupported:   []string{"query"},
		GrantTypesSupported:      p.cfg.GrantTypes,
		TokenAuthMethods:         append(slices.Clip(confidential), store.AuthNone),
		TokenAuthAlgs:            algs,
		RevocationEndpoint:       base + e.Revocation,
		RevocationAuthMethods:    append(slices.Clip(confidential), store.AuthNone),
		RevocationAuthAlgs:       algs,
		IntrospectionEndpoint:    base + e.Introspection,
		IntrospectionAuthMethods: confidential,
		IntrospectionAuthAlgs:    algs,
		IssParameterSupported:    true,
		DPoPSigningAlgs:          p.dpop.Algorithms(),
	}
	if slices.Contains(p.cfg.GrantTypes, store.GrantAuthorizationCode) {
		md.AuthorizationEndpoint = base + e.Authorize
		md.CodeChallengeMethodsSupported = []string{"S256"}
	}
	if p.usesKeys() {
		md.JWKSURI = base + e.JWKS
	}
	if p.serves(store.GrantDeviceCode) {
		md.DeviceAuthorizationEndpoint = base + e.DeviceAuthorization
	}
	md.CIMDSupported = p.cfg.ClientIDMetadata.Enabled
	if p.cfg.Registration.on() {
		md.RegistrationEndpoint = base + e.Registration
	}
	p.addOIDCMetadata(&md)
	return md
}

// tokenEndpointURL is the token endpoint's URL, as the metadata document
// publishes it.
func (p *Provider) tokenEndpointURL() string {
	return strings.TrimSuffix(p.cfg.Issuer, "/") + p.cfg.Endpoints.Token
}

// originOf returns scheme://host of an issuer URL already checked by
// checkIssuer.
func originOf(iss string) string {
	scheme, rest, _ := strings.Cut(iss, "://")
	host, _, _ := strings.Cut(rest, "/")
	return scheme + "://" + host
}

// issuerPath returns the path of an issuer URL already checked by
// checkIssuer, without its terminating "/" (RFC 8414 §3.1): "" for an
// issuer without a path.
func issuerPath(iss string) string {
	_, rest, _ := strings.Cut(iss, "://")
	_, path, _ := strings.Cut(rest, "/")
	if path = strings.TrimSuffix(path, "/"); path == "" {
		return ""
	}
	return "/" + path
}

// writePublicJSON writes a public document that caches may keep briefly.
func writePublicJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Cache-Control", "public, max-age=300")
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_ = json.NewEncoder(w).Encode(v)
}
