package mcpauth_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/oauthkit/oauthkit/middleware"
	"github.com/oauthkit/oauthkit/middleware/mcpauth"
)

// An MCP server whose tool needs scope read, with tokens from any
// middleware.Validator (here a stand-in; in a real server a
// grant.Provider, middleware.NewJWKSValidator or
// middleware.NewIntrospectionValidator).
func ExampleRequire() {
	var validator middleware.Validator = middleware.ValidatorFunc(func(context.Context, string) (*middleware.Token, error) {
		return nil, middleware.ErrInvalidToken
	})
	g, err := middleware.New(validator, middleware.Options{Resource: middleware.ProtectedResource{
		ID:                   "https://mcp.example.com/mcp",
		AuthorizationServers: []string{"https://auth.example.com"},
		ScopesSupported:      []string{"read"},
	}})
	if err != nil {
		panic(err)
	}
	server := mcp.NewServer(&mcp.Implementation{Name: "example", Version: "1.0.0"}, nil)
	mcp.AddTool(server, &mcp.Tool{Name: "get_data"}, func(ctx context.Context, req *mcp.CallToolRequest, _ struct{}) (*mcp.CallToolResult, any, error) {
		tok, _ := mcpauth.Token(req.Extra.TokenInfo)
		return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: "hello " + tok.Subject}}}, nil, nil
	})
	mux := http.NewServeMux()
	mux.Handle(g.MetadataPath(), g.MetadataHandler())
	mux.Handle("/mcp", mcpauth.Require(g, "read")(mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return server }, nil)))

	w := httptest.NewRecorder()
	mux.ServeHTTP(w, httptest.NewRequest("POST", "https://mcp.example.com/mcp", nil))
	fmt.Println(w.Code, w.Header().Get("WWW-Authenticate"))
	w = httptest.NewRecorder()
	mux.ServeHTTP(w, httptest.NewRequest("GET", "https://mcp.example.com/.well-known/oauth-protected-resource/mcp", nil))
	fmt.Print(w.Body)
	// Output:
	// 401 Bearer resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource/mcp", realm="api", scope="read"
	// {"resource":"https://mcp.example.com/mcp","authorization_servers":["https://auth.example.com"],"scopes_supported":["read"],"bearer_methods_supported":["header"]}
}
