package grant

import (
	"net/http"

	jose "github.com/go-jose/go-jose/v4"
)

// JWKSHandler returns the JSON Web Key Set of the keys that sign JWT access
// tokens and OpenID Connect ID tokens — the current ones and those still
// listed from before — for resource servers and relying parties to verify
// them (the jwks_uri of the metadata): public parts only, each with its
// kid, alg and use "sig". Without JWT access tokens and OpenID Connect the
// set is empty. Caches may keep it five minutes, and any origin
// may read it (CORS, without credentials).
func (p *Provider) JWKSHandler() http.Handler {
	return publicCORS(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		set := jose.JSONWebKeySet{Keys: []jose.JSONWebKey{}}
		if ks := p.keys.Load(); ks != nil {
			for _, s := range ks.signers {
				set.Keys = append(set.Keys, s.jwk)
			}
		}
		writePublicJSON(w, set)
	})
}
