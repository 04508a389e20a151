package grant_test

import (
	"context"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"

	"golang.org/x/oauth2"

	"github.com/oauthkit/oauthkit/grant"
	"github.com/oauthkit/oauthkit/store"
	"github.com/oauthkit/oauthkit/store/memory"
)

// The authorization code flow with PKCE: the host's own session signs the
// user in (Authenticate), a first-party app skips the consent page, and the
// app exchanges the code and its verifier for tokens.
func ExampleProvider_AuthorizeHandler() {
	st := memory.New()
	_, err := grant.RegisterClient(context.Background(), st, &store.Client{
		ID: "app", AuthMethod: store.AuthNone, FirstParty: true,
		RedirectURIs: []string{"http://127.0.0.1:8080/callback"},
		GrantTypes:   []string{store.GrantAuthorizationCode}, Scopes: []string{"read"},
	})
	if err != nil {
		log.Fatal(err)
	}
	p, err := grant.NewProvider(grant.Config{Issuer: "https://auth.example.com", Clients: st, Tokens: st})
	if err != nil {
		log.Fatal(err)
	}
	authz, err := p.AuthorizeHandler(grant.AuthorizeOptions{
		// The user of the host's session; without this hook the built-in
		// login page asks (Config.Users).
		Authenticate: func(w http.ResponseWriter, r *http.Request) (*store.User, bool) {
			return &store.User{ID: "1", Username: "user1"}, true
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	p.Mount(mux, grant.Pages{Authorize: authz})

	// The app sends the browser to the authorization endpoint...
	verifier := oauth2.GenerateVerifier()
	q := url.Values{
		"response_type": {"code"}, "client_id": {"app"}, "redirect_uri": {"http://127.0.0.1:8080/callback"},
		"scope": {"read"}, "state": {"xyz"},
		"code_challenge": {oauth2.S256ChallengeFromVerifier(verifier)}, "code_challenge_method": {"S256"},
	}
	w := httptest.NewRecorder()
	mux.ServeHTTP(w, httptest.NewRequest("GET", "/oauth/authorize?"+q.Encode(), nil))
	back, _ := url.Parse(w.Header().Get("Location"))
	fmt.Println(w.Code, back.Host+back.Path, back.Query().Get("state"), back.Query().Get("iss"))

	// ...and, back at its redirect URI, exchanges the code.
	form := url.Values{
		"grant_type": {"authorization_code"}, "client_id": {"app"}, "code": {back.Query().Get("code")},
		"redirect_uri": {"http://127.0.0.1:8080/callback"}, "code_verifier": {verifier},
	}
	r := httptest.NewRequest("POST", "/oauth/token", strings.NewReader(form.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	w = httptest.NewRecorder()
	mux.ServeHTTP(w, r)
	fmt.Println(w.Code, strings.Contains(w.Body.String(), `"access_token":"okat_`))
	// Output:
	// 302 127.0.0.1:8080/callback xyz https://auth.example.com
	// 200 true
}
