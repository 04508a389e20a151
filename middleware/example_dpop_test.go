package middleware_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/http/httptest"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	josejwt "github.com/go-jose/go-jose/v4/jwt"

	"github.com/oauthkit/oauthkit/middleware"
)

// A DPoP-bound token (RFC 9449) is admitted only with the DPoP scheme and a
// fresh proof signed by the key it is bound to.
func ExampleDPoPOptions() {
	// The client's key, and a proof of it for one request (go-jose).
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tp, _ := (&jose.JSONWebKey{Key: key.Public()}).Thumbprint(crypto.SHA256)
	signer, _ := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: key}, (&jose.SignerOptions{EmbedJWK: true}).WithType("dpop+jwt"))
	ath := sha256.Sum256([]byte("bound-token"))
	proof, _ := josejwt.Signed(signer).Claims(map[string]any{
		"jti": "a1b2c3d4e5f6", "htm": "GET", "htu": "https://api.example.com/data", "iat": time.Now().Unix(),
		"ath": base64.RawURLEncoding.EncodeToString(ath[:]),
	}).Serialize()

	// The validator says the token is bound to that key (cnf.jkt).
	v := middleware.ValidatorFunc(func(ctx context.Context, raw string) (*middleware.Token, error) {
		if raw != "bound-token" {
			return nil, middleware.ErrInvalidToken
		}
		return &middleware.Token{ClientID: "app", Scopes: []string{"read"}, JKT: base64.RawURLEncoding.EncodeToString(tp)}, nil
	})
	g, _ := middleware.New(v, middleware.Options{}) // pass DPoPOptions{Replay: store} to share replays between instances
	h := g.Require("read")(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))

	for _, c := range []struct{ auth, proof string }{
		{"Bearer bound-token", ""},
		{"DPoP bound-token", proof},
		{"DPoP bound-token", proof}, // the same proof again
	} {
		r := httptest.NewRequest("GET", "https://api.example.com/data", nil)
		r.Header.Set("Authorization", c.auth)
		if c.proof != "" {
			r.Header.Set("DPoP", c.proof)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if ch := w.Header().Get("WWW-Authenticate"); ch != "" {
			fmt.Println(w.Code, ch)
		} else {
			fmt.Println(w.Code)
		}
	}
	// Output:
	// 401 Bearer realm="api", error="invalid_token", error_description="the access token is DPoP-bound: present it with the DPoP scheme and a proof", scope="read"
	// 200
	// 401 DPoP realm="api", algs="ES256 EdDSA PS256 RS256", error="invalid_dpop_proof", error_description="the proof was used before (its jti was seen)", scope="read"
}
