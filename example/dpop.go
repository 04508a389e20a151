package main

import (
	"net/http"
	"strings"

	"github.com/oauthkit/oauthkit/grant"
	"github.com/oauthkit/oauthkit/middleware"
	"github.com/oauthkit/oauthkit/store"
)

// newGuard returns the middleware of the /api routes: bearer tokens, and
// DPoP-bound tokens with a proof (RFC 9449). Proofs are checked against
// the issuer's origin, the URL clients reach the API at (the example
// serves its API beside the provider), and their jti are recorded in the
// store, so that instances sharing PostgreSQL or Redis catch a proof
// replayed to another instance.
func newGuard(p *grant.Provider, st backend, instrument func(*middleware.Options)) (*middleware.Guard, error) {
	o := middleware.Options{}
	instrument(&o) // the metrics' hooks, with -metrics (metrics.go)
	if rc, ok := st.(store.ReplayCache); ok {
		o.DPoP.Replay = rc
	}
	origin := publicOrigin(p.Issuer())
	o.DPoP.RequestURL = func(r *http.Request) string { return origin + r.URL.EscapedPath() }
	return middleware.New(p, o)
}

// publicOrigin is scheme://host of the issuer URL.
func publicOrigin(issuer string) string {
	scheme, rest, _ := strings.Cut(issuer, "://")
	host, _, _ := strings.Cut(rest, "/")
	return scheme + "://" + host
}
