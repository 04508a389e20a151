package oauthtest_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/oauthkit/oauthkit/middleware"
	"github.com/oauthkit/oauthkit/oauthtest"
)

// t stands in for the *testing.T of a real test.
var t = &fakeT{}

// A handler protected by RequireOAuth, tested with tokens of each kind.
func ExampleServer_Token() {
	srv := oauthtest.New(t)
	hello := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tok, _ := middleware.TokenFromContext(r.Context())
		fmt.Fprintf(w, "hello %s", tok.Username)
	})
	h := middleware.RequireOAuth(srv.Validator(), "read")(hello)

	call := func(token string) {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		h.ServeHTTP(rec, req)
		fmt.Println(rec.Code, rec.Body.String())
	}
	call(srv.Token(t, oauthtest.User("1", "user1"), "read"))
	call(srv.Token(t, oauthtest.User("1", "user1"), "write")) // lacks read
	// Output:
	// 200 hello user1
	// 403 {"error":"insufficient_scope","error_description":"the access token lacks the required scope","scope":"read"}
}

// Expiry and revocation, without sleeping.
func ExampleServer_Advance() {
	srv := oauthtest.New(t, oauthtest.WithJWT())
	h := middleware.RequireOAuth(srv.Validator())(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	status := func(token string) int {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		h.ServeHTTP(rec, req)
		return rec.Code
	}
	tok := srv.Token(t, oauthtest.Client("billing"), "read")
	fmt.Println(status(tok))
	srv.Advance(2 * time.Hour)
	fmt.Println(status(tok))

	tok = srv.Token(t, oauthtest.User("2", "user2"))
	srv.Revoke(t, tok)
	fmt.Println(status(tok))
	// Output:
	// 200
	// 401
	// 401
}
