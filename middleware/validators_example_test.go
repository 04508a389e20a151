package middleware_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"

	"github.com/oauthkit/oauthkit/grant"
	"github.com/oauthkit/oauthkit/middleware"
	"github.com/oauthkit/oauthkit/store"
	"github.com/oauthkit/oauthkit/store/memory"
)

// authServer runs an authorization server on the loopback interface, with
// a service client "reporting", and returns it with the client's secret and
// a function that gets the client a token.
func authServer(cfg grant.Config) (srv *httptest.Server, secret string, token func() string) {
	st := memory.New()
	secret, err := grant.RegisterClient(context.Background(), st, &store.Client{
		ID: "reporting", GrantTypes: []string{store.GrantClientCredentials}, Scopes: []string{"read"},
	})
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	srv = httptest.NewServer(mux)
	cfg.Issuer, cfg.Clients, cfg.Tokens = srv.URL, st, st
	p, err := grant.NewProvider(cfg)
	if err != nil {
		log.Fatal(err)
	}
	p.Mount(mux, grant.Pages{})
	token = func() string {
		r, _ := http.NewRequest("POST", srv.URL+"/oauth/token", strings.NewReader(url.Values{"grant_type": {"client_credentials"}}.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		r.SetBasicAuth("reporting", secret)
		res, err := http.DefaultClient.Do(r)
		if err != nil {
			log.Fatal(err)
		}
		defer res.Body.Close()
		var tok struct {
			AccessToken string `json:"access_token"`
		}
		if err := json.NewDecoder(res.Body).Decode(&tok); err != nil {
			log.Fatal(err)
		}
		return tok.AccessToken
	}
	return srv, secret, token
}

// A resource server apart from the authorization server checks JWT access
// tokens (RFC 9068) with the keys the authorization server publishes.
func ExampleNewJWKSValidator() {
	key, err := grant.GenerateSigningKey(grant.AlgEdDSA)
	if err != nil {
		log.Fatal(err)
	}
	as, _, token := authServer(grant.Config{
		AccessTokenFormat: grant.FormatJWT, SigningKeys: []grant.SigningKey{key}, Audience: []string{"https://api.example.com"},
	})
	defer as.Close()

	v, err := middleware.NewJWKSValidator(middleware.JWKSConfig{
		URL:      as.URL + "/.well-known/jwks.json",
		Issuer:   as.URL,
		Audience: "https://api.example.com",
	})
	if err != nil {
		log.Fatal(err)
	}
	api := middleware.RequireOAuth(v, "read")(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tok, _ := middleware.TokenFromContext(r.Context())
		fmt.Fprintf(w, "hello %s", tok.ClientID)
	}))
	r := httptest.NewRequest("GET", "/api/data", nil)
	r.Header.Set("Authorization", "Bearer "+token())
	w := httptest.NewRecorder()
	api.ServeHTTP(w, r)
	fmt.Println(w.Code, w.Body)
	// Output: 200 hello reporting
}

// A resource server apart from the authorization server checks opaque
// tokens at its introspection endpoint (RFC 7662), as a client listed in
// the authorization server's Config.Introspectors.
func ExampleNewIntrospectionValidator() {
	as, secret, token := authServer(grant.Config{Introspectors: []string{"reporting"}})
	defer as.Close()

	// (Here the resource server introspects with the one client there is;
	// a real one has a client of its own.)
	v, err := middleware.NewIntrospectionValidator(middleware.IntrospectionConfig{
		URL:          as.URL + "/oauth/introspect",
		ClientID:     "reporting",
		ClientSecret: secret,
	})
	if err != nil {
		log.Fatal(err)
	}
	tok, err := v.ValidateToken(context.Background(), token())
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(tok.ClientID, tok.Scopes)
	_, err = v.ValidateToken(context.Background(), "okat_not-a-token")
	fmt.Println(errors.Is(err, middleware.ErrInvalidToken))
	// Output:
	// reporting [read]
	// true
}
