package grant

import (
	"fmt"
	"strings"
)

// Endpoints are the paths of a Provider's handlers, relative to the
// issuer: each is appended to the issuer's path, so that for the issuer
// https://auth.example.com/tenant1 the token endpoint is
// https://auth.example.com/tenant1/oauth/token. MetadataHandler publishes
// them and Provider.Routes mounts them. A path starts with "/", does not end
// with one, and holds only unreserved characters and sub-delimiters (RFC
// 3986), in segments other than "." and "..".
type Endpoints struct {
	Authorize     string // AuthorizeHandler; default /oauth/authorize
	Token         string // TokenHandler; default /oauth/token
	Revocation    string // RevokeHandler; default /oauth/revoke
	Introspection string // IntrospectHandler; default /oauth/introspect
	JWKS          string // JWKSHandler, published only for JWT access tokens or OpenID Connect; default /.well-known/jwks.json
	Login         string // LoginHandler, mounted only with Config.LoginClientID and never published; default /login
	UserInfo      string // UserInfoHandler, mounted and published only with Config.OIDC; default /oauth/userinfo
	EndSession    string // EndSessionHandler, mounted and published only with Config.OIDC; default /oauth/logout

	// The device authorization grant's (RFC 8628), mounted and published
	// only when Config.GrantTypes lists it.
	DeviceAuthorization string // DeviceAuthorizationHandler; default /oauth/device_authorization
	Device              string // DeviceHandler, the verification page (verification_uri); default /device
	Registration        string // RegistrationHandler (RFC 7591), with the client configuration endpoint (RFC 7592) beneath it, mounted with Config.Registration on; default /oauth/register
}

// MetadataPath is where RFC 8414 §3 puts the metadata document of an
// issuer without a path component. For an issuer with a path, §3.1
// inserts it between the host and that path; [Provider.MetadataURL] gives
// the URL for the Provider's issuer either way.
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
	def(&e.Login, "/login")
	def(&e.UserInfo, "/oauth/userinfo")
	def(&e.EndSession, "/oauth/logout")
	def(&e.DeviceAuthorization, "/oauth/device_authorization")
	def(&e.Device, "/device")
	def(&e.Registration, "/oauth/register")
}

// check refuses paths that cannot be mounted as they are, and two
// endpoints, or an endpoint and the metadata document, on one path under
// issuer.
func (e *Endpoints) check(issuer string) error {
	prefix := issuerPath(issuer)
	seen := map[string]string{MetadataPath + prefix: "the metadata document", prefix + DiscoveryPath: "the discovery document"}
	for _, f := range e.fields() {
		if !validPath(f.path) {
			return fmt.Errorf("grant: Config.Endpoints.%s %q must be a path such as /oauth/token (see Endpoints)", f.name, f.path)
		}
		if other, dup := seen[prefix+f.path]; dup {
			return fmt.Errorf("grant: Config.Endpoints.%s %q is the path of %s", f.name, f.path, other)
		}
		seen[prefix+f.path] = "Endpoints." + f.name
	}
	return nil
}

type endpointField struct{ name, path string }

func (e *Endpoints) fields() []endpointField {
	return []endpointField{
		{"Authorize", e.Authorize}, {"Token", e.Token}, {"Revocation", e.Revocation},
		{"Introspection", e.Introspection}, {"JWKS", e.JWKS}, {"Login", e.Login},
		{"UserInfo", e.UserInfo}, {"EndSession", e.EndSession},
		{"DeviceAuthorization", e.DeviceAuthorization}, {"Device", e.Device},
		{"Registration", e.Registration},
	}
}

// under returns e with prefix put before every path.
func (e Endpoints) under(prefix string) Endpoints {
	for _, s := range []*string{&e.Authorize, &e.Token, &e.Revocation, &e.Introspection, &e.JWKS, &e.Login, &e.UserInfo, &e.EndSession, &e.DeviceAuthorization, &e.Device, &e.Registration} {
		*s = prefix + *s
	}
	return e
}

// validPath reports whether p is "/"-separated non-empty segments of
// unreserved characters and sub-delimiters (RFC 3986 §3.3, without
// percent-encoding), none of them "." or "..": a path that an
// http.ServeMux pattern matches as it is written.
func validPath(p string) bool {
	if len(p) < 2 || p[0] != '/' {
		return false
	}
	for seg := range strings.SplitSeq(p[1:], "/") {
		if seg == "" || seg == "." || seg == ".." {
			return false
		}
		for i := 0; i < len(seg); i++ {
			c := seg[i]
			if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("-._~!$&'()*+,;=:@", c) >= 0) {
				return false
			}
		}
	}
	return true
}
