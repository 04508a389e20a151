package middleware_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/oauthkit/oauthkit/middleware"
)

// staticValidator accepts one token; in a real service the validator is a
// grant.Provider or a JWKS/introspection validator.
var staticValidator = middleware.ValidatorFunc(func(ctx context.Context, raw string) (*middleware.Token, error) {
	if raw != "secret-token" {
		return nil, middleware.ErrInvalidToken
	}
	return &middleware.Token{ClientID: "app", Username: "user1", Scopes: []string{"read"}, ExpiresAt: time.Now().Add(time.Hour)}, nil
})

// Protect a handler: a token granted "read" is required.
func ExampleRequireOAuth() {
	data := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tok, _ := middleware.TokenFromContext(r.Context())
		fmt.Fprintf(w, "hello %s", tok.Username)
	})
	h := middleware.RequireOAuth(staticValidator, "read")(data)

	for _, auth := range []string{"", "Bearer wrong", "Bearer secret-token"} {
		r := httptest.NewRequest("GET", "/api/data", nil)
		if auth != "" {
			r.Header.Set("Authorization", auth)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		fmt.Println(w.Code, w.Header().Get("WWW-Authenticate"))
	}
	// Output:
	// 401 Bearer realm="api", scope="read"
	// 401 Bearer realm="api", error="invalid_token", error_description="the access token is invalid, expired or revoked", scope="read"
	// 200
}

// Scopes listed together are all required; RequireAny needs one of them.
func ExampleGuard_RequireAny() {
	g, err := middleware.New(staticValidator, middleware.Options{Realm: "shop"})
	if err != nil {
		panic(err)
	}
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})
	for _, h := range []http.Handler{
		g.Require("read", "write")(ok),    // all of: refused
		g.RequireAny("read", "write")(ok), // any of: admitted
	} {
		r := httptest.NewRequest("GET", "/", nil)
		r.Header.Set("Authorization", "Bearer secret-token")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		fmt.Println(w.Code)
	}
	// Output:
	// 403
	// 200
}

// Handlers that read TokenFromContext can be tested without any server.
func ExampleNewContext() {
	me := func(w http.ResponseWriter, r *http.Request) {
		tok, ok := middleware.TokenFromContext(r.Context())
		fmt.Println(ok, tok.Username, tok.Scopes)
	}
	r := httptest.NewRequest("GET", "/api/me", nil)
	r = r.WithContext(middleware.NewContext(r.Context(), &middleware.Token{Username: "user1", Scopes: []string{"read"}}))
	me(httptest.NewRecorder(), r)
	// Output: true user1 [read]
}
