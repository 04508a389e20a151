package grant

import (
	"net/http"

	"github.com/oauthkit/oauthkit/store"
)

// Route is one endpoint of a Provider and where to mount it.
type Route struct {
	// Pattern is the endpoint's path on the issuer's host (the issuer's
	// path included), usable as it is as an http.ServeMux pattern. It names
	// no method: every handler answers the methods it serves, refuses the
	// others with 405 and an Allow header, and answers CORS preflights.
	Pattern string
	// Handler serves the endpoint.
	Handler http.Handler
}

// Pages are the endpoint handlers that the host builds itself, with their
// own options, for Routes to mount. A nil field leaves its endpoint out.
type Pages struct {
	// Authorize is the authorization endpoint, from AuthorizeHandler.
	Authorize http.Handler
	// Device is the device verification page, from DeviceHandler.
	Device http.Handler
}

// Mux is where Mount registers routes: an *http.ServeMux, or any router
// with the same Handle method.
type Mux interface {
	Handle(pattern string, handler http.Handler)
}

// Routes returns every endpoint the Provider serves, each with the path to
// mount it at: the token, revocation and introspection endpoints, the
// metadata document at its RFC 8414 §3.1 URL (see MetadataURL), the JWKS
// (empty without JWT access tokens and OpenID Connect), the device
// authorization endpoint when the device grant is served, LoginHandler
// when Config.LoginClientID is set, the registration and client
// configuration endpoints when Config.Registration is on, the handlers of
// pages that are not nil, and with Config.OIDC the discovery document
// (DiscoveryURL), the UserInfo endpoint and, when Pages.Authorize comes
// from AuthorizeHandler, the end-session endpoint with the same options.
// Paths follow Config.Endpoints under the issuer's path, as the metadata
// document publishes them.
//
// This is the one list of the Provider's routes: a new endpoint adds its
// line here (in the order of this list), and hosts that Mount get it. An
// endpoint configured in Config.Endpoints takes p.Endpoints(); a
// well-known document takes its own rule for issuers with a path (RFC
// 8414 §3.1 inserts the well-known path before the issuer's path; OpenID
// Connect Discovery §4 appends /.well-known/openid-configuration to it).
func (p *Provider) Routes(pages Pages) []Route {
	e := p.Endpoints()
	rs := []Route{
		{p.metadataPath(), p.MetadataHandler()},
		{e.Token, p.TokenHandler()},
		{e.Revocation, p.RevokeHandler()},
		{e.Introspection, p.IntrospectHandler()},
		{e.JWKS, p.JWKSHandler()},
	}
	if p.serves(store.GrantDeviceCode) {
		rs = append(rs, Route{e.DeviceAuthorization, p.DeviceAuthorizationHandler()})
	}
	if pages.Authorize != nil {
		rs = append(rs, Route{e.Authorize, pages.Authorize})
	}
	if pages.Device != nil {
		rs = append(rs, Route{e.Device, pages.Device})
	}
	if p.cfg.LoginClientID != "" {
		rs = append(rs, Route{e.Login, p.LoginHandler()})
	}
	if p.cfg.Registration.on() { // register.go
		h := p.RegistrationHandler()
		rs = append(rs, Route{e.Registration, h}, Route{e.Registration + "/{client_id}", h})
	}
	if p.cfg.OIDC.Enabled {
		rs = append(rs, Route{p.discoveryPath(), p.DiscoveryHandler()}, Route{e.UserInfo, p.UserInfoHandler()})
		if a, ok := unbounded(pages.Authorize).(*authorizer); ok {
			rs = append(rs, Route{e.EndSession, p.bounded(endSession{a})})
		}
	}
	return rs
}

// Mount registers every route of Routes(pages) on mux.
func (p *Provider) Mount(mux Mux, pages Pages) {
	for _, r := range p.Routes(pages) {
		mux.Handle(r.Pattern, r.Handler)
	}
}
