package grant_test

import (
	"encoding/json"
	"fmt"
	"log"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"

	"github.com/oauthkit/oauthkit/grant"
	"github.com/oauthkit/oauthkit/store"
	"github.com/oauthkit/oauthkit/store/memory"
)

// An authorization server for MCP clients: tokens for one MCP server (RFC
// 8707), open registration of public clients (RFC 7591), and client ID
// metadata documents. An agent registers, then every token it gets for the
// MCP server has the server's URL as its audience.
func ExampleResources() {
	st := memory.New()
	p, err := grant.NewProvider(grant.Config{
		Issuer: "https://auth.example.com", Clients: st, Tokens: st, Users: st,
		ScopesSupported:  []string{"tools"},
		Resources:        grant.Resources{Allowed: []string{"https://mcp.example.com/mcp"}},
		Registration:     grant.Registration{Open: true, AuthMethods: []string{store.AuthNone}},
		ClientIDMetadata: grant.ClientIDMetadata{Enabled: true},
		Logger:           slog.New(slog.DiscardHandler),
	})
	if err != nil {
		log.Fatal(err)
	}
	authz, err := p.AuthorizeHandler(grant.AuthorizeOptions{})
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	p.Mount(mux, grant.Pages{Authorize: authz})

	var md map[string]any
	w := httptest.NewRecorder()
	mux.ServeHTTP(w, httptest.NewRequest("GET", "/.well-known/oauth-authorization-server", nil))
	json.Unmarshal(w.Body.Bytes(), &md)
	fmt.Println(md["registration_endpoint"], md["client_id_metadata_document_supported"])

	r := httptest.NewRequest("POST", "/oauth/register", strings.NewReader(
		`{"client_name":"agent","redirect_uris":["http://127.0.0.1:3000/cb"],"token_endpoint_auth_method":"none","grant_types":["authorization_code","refresh_token"]}`))
	r.Header.Set("Content-Type", "application/json")
	w = httptest.NewRecorder()
	mux.ServeHTTP(w, r)
	var reg map[string]any
	json.Unmarshal(w.Body.Bytes(), &reg)
	fmt.Println(w.Code, reg["scope"], reg["token_endpoint_auth_method"], reg["registration_access_token"] != nil)

	// A resource the server does not issue tokens for:
	q := url.Values{"client_id": {reg["client_id"].(string)}, "redirect_uri": {"http://127.0.0.1:3000/cb"}, "response_type": {"code"},
		"code_challenge": {"E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"}, "code_challenge_method": {"S256"},
		"resource": {"https://other.example.com/mcp"}}
	w = httptest.NewRecorder()
	mux.ServeHTTP(w, httptest.NewRequest("GET", "/oauth/authorize?"+q.Encode(), nil))
	loc, _ := url.Parse(w.Header().Get("Location"))
	fmt.Println(w.Code, loc.Query().Get("error"))
	// Output:
	// https://auth.example.com/oauth/register true
	// 201 tools none true
	// 302 invalid_target
}
