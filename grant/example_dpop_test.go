package grant_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"log"
	"net/http/httptest"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	josejwt "github.com/go-jose/go-jose/v4/jwt"

	"github.com/oauthkit/oauthkit/grant"
	"github.com/oauthkit/oauthkit/store"
	"github.com/oauthkit/oauthkit/store/memory"
)

// A token request with a DPoP proof (RFC 9449) gets a token bound to the
// proof's key; a client registered with DPoPBoundAccessTokens must always
// send one.
func ExampleDPoP() {
	ctx := context.Background()
	st := memory.New()
	secret, hash, _ := grant.NewClientSecret()
	err := st.CreateClient(ctx, &store.Client{
		ID: "reporting", SecretHash: hash, AuthMethod: store.AuthSecretBasic, DPoPBoundAccessTokens: true,
		GrantTypes: []string{store.GrantClientCredentials}, Scopes: []string{"read"},
	})
	if err != nil {
		log.Fatal(err)
	}
	p, err := grant.NewProvider(grant.Config{Issuer: "https://auth.example.com", Clients: st, Tokens: st,
		DPoP: grant.DPoP{Algorithms: []string{"ES256"}}})
	if err != nil {
		log.Fatal(err)
	}
	// The client's proof for POST https://auth.example.com/oauth/token.
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	signer, _ := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: key}, (&jose.SignerOptions{EmbedJWK: true}).WithType("dpop+jwt"))
	proof, _ := josejwt.Signed(signer).Claims(map[string]any{
		"jti": "f6e5d4c3b2a1", "htm": "POST", "htu": "https://auth.example.com/oauth/token", "iat": time.Now().Unix(),
	}).Serialize()

	for _, dpop := range []string{"", proof} {
		r := httptest.NewRequest("POST", "/oauth/token", strings.NewReader("grant_type=client_credentials"))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		r.SetBasicAuth("reporting", secret)
		if dpop != "" {
			r.Header.Set("DPoP", dpop)
		}
		w := httptest.NewRecorder()
		p.TokenHandler().ServeHTTP(w, r)
		var out struct{ TokenType, Error string }
		_ = json.Unmarshal(w.Body.Bytes(), &struct {
			TokenType *string `json:"token_type"`
			Error     *string `json:"error"`
		}{&out.TokenType, &out.Error})
		fmt.Println(w.Code, out.TokenType+out.Error)
	}
	// Output:
	// 400 invalid_dpop_proof
	// 200 DPoP
}
