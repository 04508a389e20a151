package grant

import (
	"net/http"
	"slices"
	"strings"
)

// DiscoveryPath is where OpenID Connect Discovery 1.0 §4 puts the OpenID
// Provider configuration: appended to the issuer, its path included, so
// that for the issuer https://auth.example.com/tenant1 it is
// https://auth.example.com/tenant1/.well-known/openid-configuration
// ([Provider.DiscoveryURL]).
const DiscoveryPath = "/.well-known/openid-configuration"

// DiscoveryURL returns the URL of the OpenID Provider configuration
// document (Discovery §4).
func (p *Provider) DiscoveryURL() string {
	return strings.TrimSuffix(p.cfg.Issuer, "/") + DiscoveryPath
}

func (p *Provider) discoveryPath() string { return issuerPath(p.cfg.Issuer) + DiscoveryPath }

// DiscoveryHandler returns the OpenID Provider configuration (Discovery
// §3): the metadata document of MetadataHandler, which with Config.OIDC on
// carries the OpenID Connect fields too, so that both documents name the
// same endpoints. Serve it at the path of [Provider.DiscoveryURL]
// ([Provider.Routes] does). Without Config.OIDC it answers 404.
func (p *Provider) DiscoveryHandler() http.Handler {
	if !p.cfg.OIDC.Enabled {
		return http.NotFoundHandler()
	}
	return p.MetadataHandler()
}

// oidcMetadata are the fields Discovery §3 adds to RFC 8414's, from the
// live configuration. The booleans are pointers so that documents without
// OpenID Connect leave them out; request_uri_parameter_supported defaults to
// true when absent (§3), so it is published false.
type oidcMetadata struct {
	UserInfoEndpoint             string   `json:"userinfo_endpoint"`
	EndSessionEndpoint           string   `json:"end_session_endpoint"`
	SubjectTypesSupported        []string `json:"subject_types_supported"`
	IDTokenSigningAlgs           []string `json:"id_token_signing_alg_values_supported"`
	ClaimsSupported              []string `json:"claims_supported"`
	PromptValuesSupported        []string `json:"prompt_values_supported"`
	RequestParameterSupported    *bool    `json:"request_parameter_supported"`
	RequestURIParameterSupported *bool    `json:"request_uri_parameter_supported"`
	ClaimsParameterSupported     *bool    `json:"claims_parameter_supported"`
}

// addOIDCMetadata adds the OpenID Connect fields to md, when Config.OIDC
// is on.
func (p *Provider) addOIDCMetadata(md *metadata) {
	if !p.cfg.OIDC.Enabled {
		return
	}
	base := strings.TrimSuffix(p.cfg.Issuer, "/")
	no := false
	scopes := p.cfg.ScopesSupported
	if !slices.Contains(scopes, ScopeOpenID) {
		scopes = append([]string{ScopeOpenID}, scopes...)
	}
	claims := slices.Clone(idTokenClaimNames)
	for _, sc := range scopeClaims {
		if slices.Contains(scopes, sc.scope) {
			claims = append(claims, sc.claims...)
		}
	}
	md.ScopesSupported = scopes
	md.oidcMetadata = &oidcMetadata{
		UserInfoEndpoint:             base + p.cfg.Endpoints.UserInfo,
		EndSessionEndpoint:           base + p.cfg.Endpoints.EndSession,
		SubjectTypesSupported:        []string{"public"},
		ClaimsSupported:              claims,
		PromptValuesSupported:        []string{"none", "login", "consent", "select_account"},
		RequestParameterSupported:    &no,
		RequestURIParameterSupported: &no,
		ClaimsParameterSupported:     &no,
	}
}

// liveMetadata is md with what may change at run time: the algorithms of
// the signing keys in force (SetSigningKeys), RS256 first.
func (p *Provider) liveMetadata(md metadata) metadata {
	if md.oidcMetadata == nil {
		return md
	}
	o := *md.oidcMetadata
	o.IDTokenSigningAlgs = []string{AlgRS256}
	if ks := p.keys.Load(); ks != nil {
		for _, s := range ks.signers {
			if alg := string(s.alg); !slices.Contains(o.IDTokenSigningAlgs, alg) {
				o.IDTokenSigningAlgs = append(o.IDTokenSigningAlgs, alg)
			}
		}
	}
	md.oidcMetadata = &o
	return md
}
