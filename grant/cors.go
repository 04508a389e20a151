package grant

import (
	"net/http"
	"slices"
	"strings"

	"github.com/oauthkit/oauthkit/store"
)

// CORS for the token endpoint (and the revocation endpoint), so that
// browser-based public clients can call it: a cross-origin response is
// readable only by an origin of one of the calling client's registered
// redirect URIs (RFC 8252 §7.3 loopback URIs match on any port). Cookies
// are never involved: no Access-Control-Allow-Credentials.
//
// A token request from a public client (form body, no Authorization
// header) is a CORS "simple request" and needs no preflight. A preflight
// carries no client_id, so it is granted only to an origin that some
// registered client's redirect URIs have, which the provider can tell only
// when Config.Clients is a store.ClientRegistry; otherwise preflights are
// refused, which only stops browsers from sending an Authorization header.

// corsMaxAge is how long browsers may cache a preflight answer, in seconds.
const corsMaxAge = "600"

// cors wraps an endpoint with CORS preflight handling. The endpoint must call
// p.allowOrigin once it knows the calling client.
func (p *Provider) cors(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		origin := r.Header.Get("Origin")
		if origin == "" {
			h.ServeHTTP(w, r)
			return
		}
		w.Header().Add("Vary", "Origin")
		if r.Method != http.MethodOptions || r.Header.Get("Access-Control-Request-Method") == "" {
			h.ServeHTTP(w, r)
			return
		}
		p.preflight(w, r, origin)
	})
}

// preflight answers a CORS preflight request.
func (p *Provider) preflight(w http.ResponseWriter, r *http.Request, origin string) {
	noStore(w.Header())
	if r.Header.Get("Access-Control-Request-Method") != http.MethodPost || !corsHeadersAllowed(r.Header.Values("Access-Control-Request-Headers")) || !p.anyClientOrigin(r, origin) {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	h := w.Header()
	h.Set("Access-Control-Allow-Origin", origin)
	h.Set("Access-Control-Allow-Methods", http.MethodPost)
	h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type")
	h.Set("Access-Control-Max-Age", corsMaxAge)
	w.WriteHeader(http.StatusNoContent)
}

// corsHeadersAllowed reports whether a preflight asks only for headers the
// endpoints read.
func corsHeadersAllowed(vals []string) bool {
	for _, v := range vals {
		for name := range strings.SplitSeq(v, ",") {
			switch strings.ToLower(strings.TrimSpace(name)) {
			case "", "authorization", "content-type":
			default:
				return false
			}
		}
	}
	return true
}

// anyClientOrigin reports whether origin belongs to some registered client.
func (p *Provider) anyClientOrigin(r *http.Request, origin string) bool {
	reg, ok := p.cfg.Clients.(store.ClientRegistry)
	if !ok {
		return false
	}
	clients, err := reg.Clients(r.Context())
	if err != nil {
		p.cfg.Logger.ErrorContext(r.Context(), "grant: listing clients for a CORS preflight failed", "err", err)
		return false
	}
	return slices.ContainsFunc(clients, func(c *store.Client) bool { return clientHasOrigin(c, origin) })
}

// allowOrigin lets the request's Origin read the response when it is an
// origin of c's registered redirect URIs. Call it before writing the
// response, once the client is authenticated.
func (p *Provider) allowOrigin(w http.ResponseWriter, r *http.Request, c *store.Client) {
	origin := r.Header.Get("Origin")
	if origin == "" || !clientHasOrigin(c, origin) {
		return
	}
	w.Header().Set("Access-Control-Allow-Origin", origin)
	w.Header().Set("Access-Control-Expose-Headers", "WWW-Authenticate, Retry-After")
}

// clientHasOrigin reports whether origin is the origin of one of c's
// redirect URIs.
func clientHasOrigin(c *store.Client, origin string) bool {
	for _, uri := range c.RedirectURIs {
		if o := webOrigin(uri, false); o != "" && o == origin {
			return true
		}
		// RFC 8252 §7.3: a loopback redirect URI allows any port.
		if isLoopbackURI(uri) && isLoopbackURI(origin) && webOrigin(uri, true) == webOrigin(origin, true) {
			return true
		}
	}
	return false
}

// isLoopbackURI reports whether uri starts with an RFC 8252 loopback prefix.
func isLoopbackURI(uri string) bool {
	return slices.ContainsFunc(loopbackPrefixes[:], func(pre string) bool { return strings.HasPrefix(uri, pre) })
}
