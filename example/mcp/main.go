// Command mcp is an MCP server (the official Go SDK, Streamable HTTP)
// protected by oauthkit as the MCP authorization specification asks: it
// publishes its protected resource metadata (RFC 9728), names it in every
// challenge, and accepts only tokens that the example's authorization
// server issued for it (RFC 8707 audience) with scope read. Its one tool,
// get_data, answers "This is protected data.". It validates tokens like
// example/resource, without the token store: with the JWKS the example
// publishes (run the example with -access-token jwt) or by introspection
// (RFC 7662) as the confidential client demo-resource. See README.md.
//
//	go run ./example -access-token jwt -resource http://127.0.0.1:5002/mcp
//	go run ./example/mcp -addr 127.0.0.1:5002 -issuer http://127.0.0.1:5000
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/oauthkit/oauthkit/middleware"
	"github.com/oauthkit/oauthkit/middleware/mcpauth"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stderr)
	stop()
	os.Exit(code)
}

// The contract other tools rely on.
const (
	mcpPath   = "/mcp"
	toolName  = "get_data"
	toolText  = "This is protected data."
	toolScope = "read"
)

// config is what newServer needs.
type config struct {
	Mode         string // "jwks" or "introspect"
	Issuer       string // the authorization server's issuer URL
	Resource     string // this server's resource identifier: its /mcp URL
	ClientID     string // introspection: this server's client
	ClientSecret string
	CacheTTL     time.Duration    // introspection: how long answers are reused
	Now          func() time.Time // the clock; nil for time.Now
	Logger       *slog.Logger
}

// newServer returns the MCP server's handler: the metadata document and
// the MCP endpoint behind the Guard.
func newServer(c config) (http.Handler, error) {
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	v, err := validator(c)
	if err != nil {
		return nil, err
	}
	g, err := middleware.New(v, middleware.Options{
		Realm:  "mcp",
		Logger: c.Logger,
		Resource: middleware.ProtectedResource{
			ID:                   c.Resource,
			AuthorizationServers: []string{c.Issuer},
			ScopesSupported:      []string{toolScope},
			Name:                 "oauthkit example MCP server",
		},
	})
	if err != nil {
		return nil, err
	}
	server := mcp.NewServer(&mcp.Implementation{Name: "oauthkit-example-mcp", Version: "1.0.0"}, &mcp.ServerOptions{Logger: c.Logger})
	mcp.AddTool(server, &mcp.Tool{Name: toolName, Description: "Returns the protected data (needs scope " + toolScope + ")."}, getData)
	mux := http.NewServeMux()
	mux.Handle(g.MetadataPath(), g.MetadataHandler())
	mux.Handle(mcpPath, mcpauth.Require(g, toolScope)(mcp.NewStreamableHTTPHandler(
		func(*http.Request) *mcp.Server { return server },
		&mcp.StreamableHTTPOptions{SessionTimeout: 10 * time.Minute, Logger: c.Logger},
	)))
	return mux, nil
}

// validator checks tokens as example/resource does; the audience is this
// server's resource identifier, which the Guard checks for either mode.
func validator(c config) (middleware.Validator, error) {
	iss := strings.TrimSuffix(c.Issuer, "/")
	switch c.Mode {
	case "jwks":
		return middleware.NewJWKSValidator(middleware.JWKSConfig{
			URL: iss + "/.well-known/jwks.json", Issuer: c.Issuer, Audience: c.Resource, Now: c.Now, Logger: c.Logger,
		})
	case "introspect":
		return middleware.NewIntrospectionValidator(middleware.IntrospectionConfig{
			URL: iss + "/oauth/introspect", ClientID: c.ClientID, ClientSecret: c.ClientSecret,
			Issuer: c.Issuer, CacheTTL: c.CacheTTL, Now: c.Now, Logger: c.Logger,
		})
	}
	return nil, errors.New("-mode must be jwks or introspect")
}

// getData is the tool: it needs no arguments, and the Guard has checked
// the token's scope already. The token is there for the tool to use,
// through the SDK's own API (req.Extra.TokenInfo).
func getData(ctx context.Context, req *mcp.CallToolRequest, _ struct{}) (*mcp.CallToolResult, any, error) {
	if req.Extra == nil || req.Extra.TokenInfo == nil {
		return nil, nil, errors.New("no token") // unreachable behind the Guard
	}
	return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: toolText}}}, nil, nil
}

func run(ctx context.Context, args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("mcp", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:5002", "address to listen on")
	var c config
	fs.StringVar(&c.Mode, "mode", "jwks", "how to validate tokens: jwks (the example run with -access-token jwt) or introspect")
	fs.StringVar(&c.Issuer, "issuer", "http://127.0.0.1:5000", "the authorization server's issuer URL")
	fs.StringVar(&c.Resource, "resource", "", "this server's resource identifier, required in the tokens' aud (default http://ADDR/mcp)")
	fs.StringVar(&c.ClientID, "client-id", "demo-resource", "introspection: this server's client ID")
	fs.StringVar(&c.ClientSecret, "client-secret", os.Getenv("RESOURCE_CLIENT_SECRET"), "introspection: this server's client secret (default $RESOURCE_CLIENT_SECRET)")
	fs.DurationVar(&c.CacheTTL, "cache-ttl", 30*time.Second, "introspection: how long an answer is reused (revocation delay)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if c.Resource == "" {
		c.Resource = "http://" + *addr + mcpPath
	}
	c.Logger = slog.New(slog.NewTextHandler(stderr, nil))
	h, err := newServer(c)
	if err != nil {
		fmt.Fprintf(stderr, "mcp: %v\n", err)
		return 2
	}
	// No WriteTimeout: MCP responses and the standalone stream are
	// server-sent events that outlive any fixed bound; idle sessions end
	// after SessionTimeout.
	srv := &http.Server{Addr: *addr, Handler: h, ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 10 * time.Second,
		IdleTimeout: 60 * time.Second, MaxHeaderBytes: 16 << 10, ErrorLog: slog.NewLogLogger(c.Logger.Handler(), slog.LevelWarn)}
	c.Logger.Info("mcp: listening", "addr", *addr, "resource", c.Resource, "mode", c.Mode, "issuer", c.Issuer)
	errc := make(chan error, 1)
	go func() { errc <- srv.ListenAndServe() }()
	select {
	case err := <-errc:
		fmt.Fprintf(stderr, "mcp: %v\n", err)
		return 1
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil && !errors.Is(err, http.ErrServerClosed) {
		// open event streams do not end by themselves
		_ = srv.Close()
	}
	return 0
}
