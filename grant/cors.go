package grant

import (
	"context"
	"net/http"
	"sync/atomic"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/oauthkit/oauthkit/internal/cors"
	"github.com/oauthkit/oauthkit/store"
)

// CORS, so that browser-based apps can call the Provider (the mechanism is
// internal/cors; this file says which origins may read what):
//
//   - the metadata document and the JWKS are public: every origin may read
//     them (Access-Control-Allow-Origin: *);
//   - the token and revocation endpoints answer a cross-origin request
//     readably only for an origin of one of the calling client's registered
//     redirect URIs. For a public client a loopback redirect URI stands for
//     every port of its host (RFC 8252 §7.3); a confidential client's
//     matches exactly.
//
// Cookies are never involved: no Access-Control-Allow-Credentials.
//
// A token or revocation request from a public client (a form body, no
// Authorization header) is a CORS "simple request" and needs no preflight.
// A preflight carries no client_id, so it is granted to an origin that some
// registered client's redirect URIs have, which the provider can tell only
// when Config.Clients is a store.ClientRegistry; otherwise preflights are
// refused, which only stops browsers from sending an Authorization header.
// The origins of all clients are listed once per preflightOriginsTTL, not
// per preflight; a newly registered client's origin is thus granted
// preflights within that time. Whether a response is readable is always
// decided from the authenticated client itself.

// preflightOriginsTTL is how long the origins of every registered client
// are kept for answering preflights.
const preflightOriginsTTL = 30 * time.Second

// listClientsTimeout bounds the listing of the clients for preflights.
const listClientsTimeout = 5 * time.Second

// publicCORS lets every origin read a public document.
func publicCORS(h http.HandlerFunc) http.Handler {
	pol := &cors.Policy{Public: true, Methods: []string{http.MethodGet, http.MethodHead}, Headers: []string{"*"}}
	return pol.Wrap(h)
}

// cors wraps an endpoint that clients call from browsers. The endpoint must
// call p.allowOrigin once it knows the calling client.
func (p *Provider) cors(h http.Handler) http.Handler {
	pol := &cors.Policy{
		Methods:        []string{http.MethodPost},
		Headers:        []string{"Authorization", "Content-Type", "DPoP"},
		Expose:         []string{"WWW-Authenticate", "Retry-After", "DPoP-Nonce"},
		MaxAge:         10 * time.Minute,
		AllowPreflight: p.anyClientOrigin,
	}
	return pol.Wrap(h)
}

// allowOrigin lets the request's Origin read the response when it is an
// origin of c's registered redirect URIs. Call it before writing the
// response, once the client is authenticated.
func (p *Provider) allowOrigin(w http.ResponseWriter, r *http.Request, c *store.Client) {
	if o, ok := cors.RequestOrigin(r); ok && clientHasOrigin(c, o) {
		cors.Allow(w, o)
	}
}

// clientHasOrigin reports whether o is the origin of one of c's redirect
// URIs; for a public client, any port of a loopback one.
func clientHasOrigin(c *store.Client, o cors.Origin) bool {
	for _, uri := range c.RedirectURIs {
		if reg, ok := cors.OriginOf(uri); ok && cors.Match(reg, o, c.Public()) {
			return true
		}
	}
	return false
}

// originCache keeps the origins of every registered client for
// preflights; a field of Provider, ready at its zero value.
type originCache struct {
	set    atomic.Pointer[clientOrigins]
	flight singleflight.Group
}

// clientOrigins is the origin set of all clients at one time.
type clientOrigins struct {
	set     cors.Set
	expires time.Time
}

// anyClientOrigin reports whether o belongs to some registered client.
func (p *Provider) anyClientOrigin(r *http.Request, o cors.Origin) bool {
	reg, ok := p.clients.(store.ClientRegistry)
	if !ok {
		return false
	}
	now := p.cfg.Now()
	if s := p.origins.set.Load(); s != nil && now.Before(s.expires) {
		return s.set.Contains(o)
	}
	v, err, _ := p.origins.flight.Do("", func() (any, error) {
		if s := p.origins.set.Load(); s != nil && now.Before(s.expires) {
			return s, nil
		}
		// Shared by every preflight waiting: not cancelled with this one.
		ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), listClientsTimeout)
		defer cancel()
		clients, err := reg.Clients(ctx)
		if err != nil {
			return nil, err
		}
		s := &clientOrigins{expires: now.Add(preflightOriginsTTL)}
		for _, c := range clients {
			for _, uri := range c.RedirectURIs {
				if o, ok := cors.OriginOf(uri); ok {
					s.set.Add(o, c.Public())
				}
			}
		}
		p.origins.set.Store(s)
		return s, nil
	})
	if err != nil {
		if ok, held := p.logs.Allow("client list"); ok { // sampled: a store that is down fails every preflight
			p.cfg.Logger.ErrorContext(r.Context(), "grant: listing clients for a CORS preflight failed", "err", err, "suppressed", held)
		}
		if s := p.origins.set.Load(); s != nil {
			return s.set.Contains(o) // the last list, rather than none
		}
		return false
	}
	return v.(*clientOrigins).set.Contains(o)
}
