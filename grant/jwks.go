package grant

import (
	"net/http"
)

// jwk is a public JSON Web Key (RFC 7517, RFC 8037 for OKP).
type jwk struct {
	Kty string `json:"kty"`
	Kid string `json:"kid"`
	Use string `json:"use"`
	Alg string `json:"alg"`
	Crv string `json:"crv,omitempty"`
	X   string `json:"x,omitempty"`
	Y   string `json:"y,omitempty"`
	N   string `json:"n,omitempty"`
	E   string `json:"e,omitempty"`
}

// JWKSHandler returns the JSON Web Key Set of the keys that sign JWT access
// tokens — the current one and those still listed from before — for
// resource servers to verify them (the jwks_uri of the metadata). Without
// JWT access tokens the set is empty. Caches may keep it five minutes, and
// any origin may read it (CORS, without credentials).
func (p *Provider) JWKSHandler() http.Handler {
	return publicCORS(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		keys := []jwk{}
		if ks := p.keys.Load(); ks != nil {
			for _, s := range ks.signers {
				keys = append(keys, s.jwk)
			}
		}
		writePublicJSON(w, struct {
			Keys []jwk `json:"keys"`
		}{keys})
	})
}
