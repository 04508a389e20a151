package grant_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"net/url"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/oauthkit/oauthkit/grant"
	"github.com/oauthkit/oauthkit/store"
	"github.com/oauthkit/oauthkit/store/memory"
)

// A client registered for private_key_jwt authenticates with an assertion
// signed by its own key: the server keeps only the public key.
func Example_privateKeyJWT() {
	ctx := context.Background()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	publicSet, _ := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: key.Public(), KeyID: "k1", Use: "sig"}}})

	st := memory.New()
	_ = st.CreateClient(ctx, &store.Client{
		ID: "billing", AuthMethod: store.AuthPrivateKeyJWT, JWKS: publicSet,
		GrantTypes: []string{store.GrantClientCredentials}, Scopes: []string{"read"},
	})
	p, _ := grant.NewProvider(grant.Config{Issuer: "https://as.example.com", Clients: st, Tokens: st, Logger: slog.New(slog.DiscardHandler)})

	// The client's side: iss and sub its ID, aud the issuer, a fresh jti.
	signer, _ := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: key},
		(&jose.SignerOptions{}).WithHeader("kid", "k1").WithType("client-authentication+jwt"))
	now := time.Now()
	assertion, _ := jwt.Signed(signer).Claims(jwt.Claims{
		Issuer: "billing", Subject: "billing", Audience: jwt.Audience{p.Issuer()}, ID: rand.Text(),
		IssuedAt: jwt.NewNumericDate(now), Expiry: jwt.NewNumericDate(now.Add(time.Minute)),
	}).Serialize()

	form := url.Values{
		"grant_type":            {"client_credentials"},
		"client_assertion_type": {grant.AssertionTypeJWTBearer},
		"client_assertion":      {assertion},
	}
	for range 2 { // the second use of the same assertion is refused
		r := httptest.NewRequest("POST", "/oauth/token", strings.NewReader(form.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		w := httptest.NewRecorder()
		p.TokenHandler().ServeHTTP(w, r)
		var body struct {
			TokenType string `json:"token_type"`
			Error     string `json:"error"`
		}
		_ = json.Unmarshal(w.Body.Bytes(), &body)
		fmt.Println(w.Code, body.TokenType+body.Error)
	}
	// Output:
	// 200 Bearer
	// 401 invalid_client
}
