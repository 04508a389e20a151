package middleware

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/oauthkit/oauthkit/internal/cors"
	"github.com/oauthkit/oauthkit/internal/resource"
)

// WellKnownPath is the well-known URI suffix of protected resource metadata
// (RFC 9728 §3).
const WellKnownPath = "/.well-known/oauth-protected-resource"

// ProtectedResource describes the resource a [Guard] protects, for audience
// binding (RFC 8707) and protected resource metadata (RFC 9728), as the MCP
// authorization specification requires of an MCP server. The zero value is
// off: no audience is checked and no metadata published. Setting ID turns
// on all of the following for every route of the Guard:
//
//   - a token is admitted only when its audience (Token.Audience, from
//     every validator: grant.Provider, JWKS, introspection) names this
//     resource; otherwise 401 invalid_token. Identifiers are compared as
//     canonical URIs, as oauthkit's authorization server writes them:
//     scheme and host case, default ports and percent-encodings of
//     unreserved characters do not matter, nor does one trailing slash
//     (https://h/mcp/ is https://h/mcp, https://h/ is https://h); an
//     audience with dot segments or a path ending in "//" names nothing;
//   - every challenge carries resource_metadata="<MetadataURL>" (RFC 9728
//     §5.1);
//   - [Guard.MetadataHandler] serves the metadata document.
type ProtectedResource struct {
	// ID is the resource identifier (RFC 8707 §2, RFC 9728 §1.2): an https
	// URL (http on a loopback IP literal, for development) without
	// fragment or userinfo. For an MCP server, its endpoint's URL, such as
	// https://mcp.example.com/mcp. The document publishes its canonical
	// form. Required to use any other field; default "" (off).
	ID string
	// AuthorizationServers are the issuer identifiers of the authorization
	// servers whose tokens this resource accepts (authorization_servers):
	// https URLs (http on loopback) without query or fragment. The MCP
	// specification requires at least one. Default none.
	AuthorizationServers []string
	// ScopesSupported is scopes_supported: the scopes a client should ask
	// for to use this resource. Default none listed.
	ScopesSupported []string
	// Name is resource_name, a human-readable name. Default none.
	Name string
	// DocumentationURL, PolicyURL and TOSURL are resource_documentation,
	// resource_policy_uri and resource_tos_uri: https URLs (http on
	// loopback). Default none.
	DocumentationURL, PolicyURL, TOSURL string
	// MetadataURL is where the document is served, named in every
	// challenge. Default the well-known URL of ID ([MetadataURL]): for
	// https://mcp.example.com/mcp,
	// https://mcp.example.com/.well-known/oauth-protected-resource/mcp.
	MetadataURL string
}

// resourceMetadata is RFC 9728 §2's document. This resource signs no
// responses, so jwks_uri and resource_signing_alg_values_supported do not
// apply.
type resourceMetadata struct {
	Resource               string   `json:"resource"`
	AuthorizationServers   []string `json:"authorization_servers,omitempty"`
	ScopesSupported        []string `json:"scopes_supported,omitempty"`
	BearerMethodsSupported []string `json:"bearer_methods_supported"`
	ResourceName           string   `json:"resource_name,omitempty"`
	ResourceDocumentation  string   `json:"resource_documentation,omitempty"`
	ResourcePolicyURI      string   `json:"resource_policy_uri,omitempty"`
	ResourceTOSURI         string   `json:"resource_tos_uri,omitempty"`
}

// protected is a checked ProtectedResource, as a Guard keeps it.
type protected struct {
	aud          audience // the canonical ID
	metadataURL  string
	metadataPath string
	doc          []byte // the metadata document
}

// MetadataURL returns the URL of the protected resource metadata of the
// resource identified by id (RFC 9728 §3.1): the well-known suffix inserted
// between the host and the path, with the path's query after it, for the
// canonical form of id.
func MetadataURL(id string) (string, error) {
	c, err := resource.Canonical(id)
	if err != nil {
		return "", fmt.Errorf("middleware: %w", err)
	}
	scheme, rest, _ := strings.Cut(c, "://")
	end := strings.IndexAny(rest, "/?")
	if end < 0 {
		end = len(rest)
	}
	return scheme + "://" + rest[:end] + WellKnownPath + rest[end:], nil
}

func newProtected(r ProtectedResource, allowQuery bool) (*protected, error) {
	if r.ID == "" {
		if r.MetadataURL != "" || r.AuthorizationServers != nil || r.ScopesSupported != nil || r.Name != "" ||
			r.DocumentationURL != "" || r.PolicyURL != "" || r.TOSURL != "" {
			return nil, errors.New("middleware: ProtectedResource needs its ID")
		}
		return nil, nil
	}
	id, err := resource.Canonical(r.ID)
	if err == nil {
		err = checkEndpoint(id)
	}
	if err != nil {
		return nil, fmt.Errorf("middleware: ProtectedResource.ID: %w", err)
	}
	for _, as := range r.AuthorizationServers {
		if err := checkEndpoint(as); err != nil || strings.ContainsAny(as, "?#") {
			return nil, fmt.Errorf("middleware: ProtectedResource.AuthorizationServers: %q is not an https issuer URL without query or fragment", as)
		}
	}
	for _, s := range r.ScopesSupported {
		if !validScope(s) {
			return nil, fmt.Errorf("middleware: ProtectedResource.ScopesSupported: %q is not a scope token (RFC 6749 §3.3)", s)
		}
	}
	if strings.ContainsFunc(r.Name, func(c rune) bool { return c < 0x20 || c == 0x7f }) {
		return nil, errors.New("middleware: ProtectedResource.Name has a control character")
	}
	for _, u := range []string{r.DocumentationURL, r.PolicyURL, r.TOSURL} {
		if u != "" && checkEndpoint(u) != nil {
			return nil, fmt.Errorf("middleware: ProtectedResource: %q is not an https URL", u)
		}
	}
	p := &protected{aud: newAudience(id), metadataURL: r.MetadataURL}
	if p.metadataURL == "" {
		p.metadataURL, _ = MetadataURL(id)
	}
	u, err := url.Parse(p.metadataURL)
	if err == nil {
		err = checkEndpoint(p.metadataURL)
	}
	if err != nil || u.Fragment != "" || u.Path == "" || u.Path == "/" {
		return nil, fmt.Errorf("middleware: ProtectedResource.MetadataURL: %q is not an https URL with a path", p.metadataURL)
	}
	p.metadataPath = u.EscapedPath()
	methods := []string{"header"}
	if allowQuery {
		methods = append(methods, "query")
	}
	p.doc, err = json.Marshal(resourceMetadata{
		Resource: id, AuthorizationServers: r.AuthorizationServers, ScopesSupported: r.ScopesSupported,
		BearerMethodsSupported: methods, ResourceName: r.Name, ResourceDocumentation: r.DocumentationURL,
		ResourcePolicyURI: r.PolicyURL, ResourceTOSURI: r.TOSURL,
	})
	if err != nil {
		return nil, fmt.Errorf("middleware: ProtectedResource: %w", err)
	}
	return p, nil
}

// validScope reports whether s is a scope-token: 1*( %x21 / %x23-5B /
// %x5D-7E ) (RFC 6749 §3.3).
func validScope(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x21 || c > 0x7e || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}

// MetadataPath returns the path at which to serve [Guard.MetadataHandler]:
// that of ProtectedResource.MetadataURL, such as
// /.well-known/oauth-protected-resource/mcp; "" when the Guard protects no
// resource. Register it without a method, so that browsers' preflights
// reach the handler:
//
//	mux.Handle(g.MetadataPath(), g.MetadataHandler())
func (g *Guard) MetadataPath() string {
	if g.res == nil {
		return ""
	}
	return g.res.metadataPath
}

// MetadataHandler returns the handler of the protected resource metadata
// document (RFC 9728 §3.2): resource (the canonical ID),
// authorization_servers, scopes_supported, bearer_methods_supported
// ("header", and "query" when Options.AllowQueryToken) and the names and
// URLs configured. It answers GET and HEAD (405 otherwise), lets any origin
// read it (CORS, without credentials; preflights granted) and lets caches
// keep it 5 minutes. Without Options.Resource it answers 404.
func (g *Guard) MetadataHandler() http.Handler {
	if g.res == nil {
		return http.NotFoundHandler()
	}
	doc := g.res.doc
	pol := &cors.Policy{Public: true, Methods: []string{http.MethodGet, http.MethodHead}, Headers: []string{"*"}, MaxAge: 10 * time.Minute}
	return pol.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		w.Header().Set("Cache-Control", "public, max-age=300")
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		if r.Method == http.MethodGet {
			_, _ = w.Write(doc)
		}
	}))
}
