package grant_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/oauthkit/oauthkit/grant"
	"github.com/oauthkit/oauthkit/middleware"
	"github.com/oauthkit/oauthkit/store"
	"github.com/oauthkit/oauthkit/store/memory"
)

// A service that issues client_credentials tokens and protects a route with
// them.
func ExampleNewProvider() {
	ctx := context.Background()
	st := memory.New()
	secret, hash, err := grant.NewClientSecret() // show the secret once; keep the hash
	if err != nil {
		log.Fatal(err)
	}
	err = st.CreateClient(ctx, &store.Client{
		ID: "reporting", SecretHash: hash, AuthMethod: store.AuthSecretBasic,
		GrantTypes: []string{store.GrantClientCredentials}, Scopes: []string{"read"},
	})
	if err != nil {
		log.Fatal(err)
	}
	p, err := grant.NewProvider(grant.Config{Issuer: "https://auth.example.com", Clients: st, Tokens: st})
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("POST /oauth/token", p.TokenHandler())
	mux.Handle("GET /api/data", middleware.RequireOAuth(p, "read")(http.HandlerFunc(
		func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "protected data") })))

	// The client asks for a token...
	r := httptest.NewRequest("POST", "/oauth/token", strings.NewReader("grant_type=client_credentials"))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.SetBasicAuth("reporting", secret)
	w := httptest.NewRecorder()
	mux.ServeHTTP(w, r)
	var tok struct {
		AccessToken string `json:"access_token"`
		TokenType   string `json:"token_type"`
		ExpiresIn   int    `json:"expires_in"`
		Scope       string `json:"scope"`
	}
	if err := json.NewDecoder(w.Body).Decode(&tok); err != nil {
		log.Fatal(err)
	}
	fmt.Println(w.Code, tok.TokenType, tok.ExpiresIn, tok.Scope, strings.HasPrefix(tok.AccessToken, grant.PrefixAccessToken))

	// ...and calls the API with it.
	r = httptest.NewRequest("GET", "/api/data", nil)
	r.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	w = httptest.NewRecorder()
	mux.ServeHTTP(w, r)
	fmt.Println(w.Code, w.Body)
	// Output:
	// 200 Bearer 3600 read true
	// 200 protected data
}

// The tutorial's POST /login: tokens for a JSON username and password,
// issued to a first-party client. LoginHandler is that client's password
// grant, so it is registered without the password grant: the token endpoint
// does not take passwords for it.
func ExampleProvider_LoginHandler() {
	ctx := context.Background()
	st := memory.New()
	if err := st.AddUser("1", "user1", "password1"); err != nil {
		log.Fatal(err)
	}
	err := st.CreateClient(ctx, &store.Client{
		ID: "web", AuthMethod: store.AuthNone, FirstParty: true,
		GrantTypes: []string{store.GrantRefreshToken}, Scopes: []string{"read", "write"},
	})
	if err != nil {
		log.Fatal(err)
	}
	p, err := grant.NewProvider(grant.Config{
		Issuer: "https://auth.example.com", Clients: st, Tokens: st, Users: st,
		LoginClientID: "web",
	})
	if err != nil {
		log.Fatal(err)
	}
	r := httptest.NewRequest("POST", "/login", strings.NewReader(`{"username": "user1", "password": "password1"}`))
	r.Header.Set("Content-Type", "application/json")
	w := httptest.NewRecorder()
	p.LoginHandler().ServeHTTP(w, r)
	var tok map[string]any
	_ = json.NewDecoder(w.Body).Decode(&tok)
	fmt.Println(w.Code, tok["token_type"], tok["scope"], tok["refresh_token"] != nil)
	// Output: 200 Bearer read write true
}
