// Command resource is an API server apart from the authorization server:
// it serves GET /api/data to bearers of the example's access tokens, which
// it validates without the token store, either with the JWKS the example
// publishes (run the example with -access-token jwt) or by introspection
// (RFC 7662) as the confidential client demo-resource.
//
//	go run ./example -access-token jwt
//	go run ./example/resource -mode jwks
//
//	go run ./example
//	go run ./example/resource -mode introspect -client-secret <demo-resource's secret>
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/oauthkit/oauthkit/middleware"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stderr))
}

// config is what newServer needs.
type config struct {
	Mode         string // "jwks" or "introspect"
	Issuer       string // the authorization server's issuer URL
	Audience     string // this API's identifier, in the tokens' aud
	ClientID     string // introspection: this server's client
	ClientSecret string
	CacheTTL     time.Duration    // introspection: how long answers are reused
	Now          func() time.Time // the clock; nil for time.Now
	Logger       *slog.Logger
}

// newServer returns the resource server's handler.
func newServer(c config) (http.Handler, error) {
	iss := strings.TrimSuffix(c.Issuer, "/")
	var (
		v   middleware.Validator
		err error
	)
	switch c.Mode {
	case "jwks":
		v, err = middleware.NewJWKSValidator(middleware.JWKSConfig{
			URL: iss + "/.well-known/jwks.json", Issuer: c.Issuer, Audience: c.Audience, Now: c.Now, Logger: c.Logger,
		})
	case "introspect":
		v, err = middleware.NewIntrospectionValidator(middleware.IntrospectionConfig{
			URL: iss + "/oauth/introspect", ClientID: c.ClientID, ClientSecret: c.ClientSecret,
			Issuer: c.Issuer, Audience: c.Audience, CacheTTL: c.CacheTTL, Now: c.Now, Logger: c.Logger,
		})
	default:
		err = errors.New("-mode must be jwks or introspect")
	}
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.Handle("GET /api/data", middleware.RequireOAuth(v, "read")(http.HandlerFunc(data)))
	return mux, nil
}

func data(w http.ResponseWriter, r *http.Request) {
	tok, _ := middleware.TokenFromContext(r.Context())
	w.Header().Set("Content-Type", "application/json")
	user := tok.Username
	if user == "" {
		user = tok.Subject
	}
	fmt.Fprintf(w, "{\"data\": \"This is protected data.\", \"client_id\": %q, \"user\": %q}\n", tok.ClientID, user)
}

func run(args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("resource", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:5001", "address to listen on")
	var c config
	fs.StringVar(&c.Mode, "mode", "jwks", "how to validate tokens: jwks or introspect")
	fs.StringVar(&c.Issuer, "issuer", "http://127.0.0.1:5000", "the authorization server's issuer URL")
	fs.StringVar(&c.Audience, "audience", "oauthkit-example-api", "this API's identifier, required in the tokens' aud")
	fs.StringVar(&c.ClientID, "client-id", "demo-resource", "introspection: this server's client ID")
	fs.StringVar(&c.ClientSecret, "client-secret", os.Getenv("RESOURCE_CLIENT_SECRET"), "introspection: this server's client secret (default $RESOURCE_CLIENT_SECRET)")
	fs.DurationVar(&c.CacheTTL, "cache-ttl", 30*time.Second, "introspection: how long an answer is reused (revocation delay)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	c.Logger = slog.New(slog.NewTextHandler(stderr, nil))
	h, err := newServer(c)
	if err != nil {
		fmt.Fprintf(stderr, "resource: %v\n", err)
		return 2
	}
	srv := &http.Server{Addr: *addr, Handler: h, ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 10 * time.Second,
		WriteTimeout: 10 * time.Second, IdleTimeout: 60 * time.Second, MaxHeaderBytes: 16 << 10}
	c.Logger.Info("resource: listening", "addr", *addr, "mode", c.Mode, "issuer", c.Issuer)
	if err := srv.ListenAndServe(); err != nil {
		fmt.Fprintf(stderr, "resource: %v\n", err)
		return 1
	}
	return 0
}
