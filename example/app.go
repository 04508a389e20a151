package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"

	"github.com/oauthkit/oauthkit/grant"
	"github.com/oauthkit/oauthkit/middleware"
	"github.com/oauthkit/oauthkit/store"
	"github.com/oauthkit/oauthkit/store/memory"
)

// loginClientID is the first-party client behind POST /login.
const loginClientID = "oauthkit-login"

// options are the example's settings, from its flags.
type options struct {
	Issuer  string
	Clients []*store.Client // replaces the demo clients when not nil
	Logger  *slog.Logger

	AccessToken string   // access token format: "opaque" (default) or "jwt" (endpoints.go)
	DPoPNonce   bool     // the token endpoint asks DPoP proofs for its nonces (dpop.go)
	Resources   []string // -resource: the RFC 8707 resources tokens may be issued for (mcpauth.go)
	Secret      []byte   // the provider secret (grant.Config.Secret), from $OAUTHKIT_SESSION_KEY; nil: a random one (sessionkey.go)

	Tuning      tuning    // -access-ttl, -refresh-ttl, -code-ttl, -cleanup (tuning.go); zero: the defaults
	Metrics     *exporter // -metrics (metrics.go); nil: off
	MetricsAddr string    // where the metrics are served, for the banner

	ValidationCache bool // cache validated access tokens, kept honest by the store's change feed (grant.ValidationCache)

	Store       backend                 // clients and tokens (store.go); nil means a new memory store
	ClientStore backend                 // clients, if not in Store (-client-store); nil: Store
	StoreName   string                  // describes Store (and ClientStore) in the banner
	tune        func(cfg *grant.Config) // tests only: adjusts the Provider's configuration
}

// app is the example: one Provider, its stores and its routes.
type app struct {
	provider  *grant.Provider
	store     backend           // the clients (and the tokens, unless ClientStore is set)
	storeName string            // for the banner
	users     *memory.Store     // the demo users
	secrets   map[string]string // generated secrets of the demo clients, by client ID
	fromFile  map[string]bool   // clients of the -clients file, by client ID
	handler   http.Handler
	guard     *middleware.Guard // checks the tokens of the /api routes, bearer and DPoP
	tuning    tuning            // for the banner
	metrics   string            // the metrics' address, for the banner; "" when off

	authorize http.Handler // GET/POST /oauth/authorize: login and consent pages
	device    http.Handler // GET/POST /device: the device verification page (RFC 8628)
}

// demoUsers are the tutorial's users.
var demoUsers = []struct{ id, name, password string }{
	{"1", "user1", "password1"},
	{"2", "user2", "password2"},
}

func newApp(ctx context.Context, o options) (*app, error) {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	st := o.Store
	if st == nil {
		st = memoryBackend{memory.New(memory.WithObserver(o.observer()))}
	}
	clientSt := st
	if o.ClientStore != nil {
		clientSt = o.ClientStore
	}
	users := memory.New(memory.WithObserver(o.observer()))
	a := &app{store: clientSt, storeName: o.StoreName, users: users, secrets: map[string]string{}, fromFile: map[string]bool{}}
	a.tuning, a.metrics = o.Tuning, o.MetricsAddr
	for _, u := range demoUsers {
		if err := users.AddUser(u.id, u.name, u.password); err != nil {
			return nil, err
		}
	}
	clients := o.Clients
	for _, c := range clients {
		a.fromFile[c.ID] = true
	}
	if clients == nil {
		var err error
		if clients, err = a.demoClients(); err != nil {
			return nil, err
		}
	}
	// The client of POST /login: /login is its password grant, so it is
	// not registered for the password grant at the token endpoint.
	clients = append(clients, &store.Client{
		ID: loginClientID, Name: "oauthkit example login", AuthMethod: store.AuthNone, FirstParty: true,
		GrantTypes: []string{store.GrantRefreshToken}, Scopes: []string{"read", "write"},
	})
	for _, c := range clients {
		if err := a.register(ctx, c, o.Logger); err != nil {
			return nil, fmt.Errorf("client %q: %w", c.ID, err)
		}
	}
	cfg := grant.Config{
		Issuer:  o.Issuer,
		Clients: clientSt, Tokens: st, Users: users,
		GrantTypes: []string{
			store.GrantAuthorizationCode, store.GrantClientCredentials,
			store.GrantRefreshToken, store.GrantPassword, store.GrantDeviceCode,
		},
		LoginClientID: loginClientID,
		Logger:        o.Logger,
		Secret:        o.Secret,

		AccessTokenTTL: o.Tuning.AccessTTL, RefreshTokenTTL: o.Tuning.RefreshTTL, CodeTTL: o.Tuning.CodeTTL, // tuning.go
	}
	o.instrument(&cfg)
	if err := a.tokenConfig(ctx, &cfg, o); err != nil { // endpoints.go
		return nil, err
	}
	cfg.DPoP.Nonce = o.DPoPNonce
	cfg.ValidationCache.Enabled = o.ValidationCache
	if err := oidcConfig(&cfg); err != nil { // oidc.go
		return nil, err
	}
	mcpConfig(&cfg, o) // mcpauth.go
	if o.tune != nil {
		o.tune(&cfg)
	}
	p, err := grant.NewProvider(cfg)
	if err != nil {
		return nil, err
	}
	a.provider = p
	pages := grant.AuthorizeOptions{ScopeDescriptions: scopeDescriptions}
	if a.authorize, err = p.AuthorizeHandler(pages); err != nil {
		return nil, err
	}
	if a.device, err = p.DeviceHandler(grant.DeviceOptions{AuthorizeOptions: pages}); err != nil {
		return nil, err
	}
	if a.guard, err = newGuard(p, st, o.instrumentGuard); err != nil { // dpop.go
		return nil, err
	}
	a.handler = a.routes()
	return a, nil
}

// demoClients are a confidential service client and a web app client, whose
// secrets register generates afresh at every start, and two public clients:
// a single-page app and a device.
func (a *app) demoClients() ([]*store.Client, error) {
	return []*store.Client{
		{ID: "demo-service", Name: "Demo service",
			GrantTypes: []string{store.GrantClientCredentials}, Scopes: []string{"read"}},
		withOIDC(&store.Client{ID: "demo-app", Name: "Demo web app",
			RedirectURIs: []string{"http://127.0.0.1:8080/callback"},
			GrantTypes:   []string{store.GrantAuthorizationCode, store.GrantRefreshToken, store.GrantPassword},
			Scopes:       []string{"read", "write"}}),
		// A browser-based (or native) public client: no secret, PKCE
		// instead. Its loopback redirect URI matches on any port (RFC 8252
		// §7.3).
		withOIDC(&store.Client{ID: "demo-spa", Name: "Demo single-page app", AuthMethod: store.AuthNone,
			RedirectURIs: []string{"http://127.0.0.1:8080/callback"},
			GrantTypes:   []string{store.GrantAuthorizationCode, store.GrantRefreshToken},
			Scopes:       []string{"read", "write"}}),
		// A device without a browser (a TV, a CLI): the device
		// authorization grant (RFC 8628), public like most such apps.
		{ID: "demo-device", Name: "Demo device", AuthMethod: store.AuthNone,
			GrantTypes: []string{store.GrantDeviceCode, store.GrantRefreshToken},
			Scopes:     []string{"read", "write"}},
	}, nil
}

// scopeDescriptions explain the demo scopes on the consent page.
var scopeDescriptions = map[string]string{
	"read":           "read your data",
	"write":          "change your data",
	"openid":         "know who you are",
	"profile":        "see your name and username",
	"email":          "see your email address",
	"offline_access": "keep access while you are away",
}

// route is one line of the route table printed at start.
type route struct{ pattern, about string }

var routeTable = []route{
	{"GET /", "welcome"},
	{"POST /login", `JSON {"username","password"} -> token (the tutorial's login)`},
	{"GET /oauth/authorize", "authorization endpoint: login and consent pages (code + PKCE S256)"},
	{"POST /oauth/token", "token endpoint (client_credentials, password, refresh_token, authorization_code, device_code); a DPoP header binds the tokens"},
	{"POST /oauth/device_authorization", "device authorization endpoint (RFC 8628): device_code and user_code"},
	{"GET /device", "device verification page: enter the user code, log in, allow"},
	{"POST /oauth/revoke", "token revocation (RFC 7009)"},
	{"POST /oauth/introspect", "token introspection (RFC 7662), for demo-resource"},
	{"POST /oauth/register", "dynamic client registration (RFC 7591), open to public clients"},
	{"/oauth/register/{id}", "GET, PUT, DELETE a registration (RFC 7592) with its registration access token"},
	{"GET /.well-known/oauth-authorization-server", "authorization server metadata (RFC 8414)"},
	{"GET /.well-known/jwks.json", "signing keys of ID tokens and JWT access tokens"},
	{"GET /.well-known/openid-configuration", "OpenID Provider configuration (OpenID Connect Discovery)"},
	{"GET /oauth/userinfo", "OpenID Connect UserInfo (also POST)"},
	{"GET /oauth/logout", "OpenID Connect RP-Initiated Logout (also POST)"},
	{"GET /api/data", "protected, scope read (Bearer, or DPoP with a proof)"},
	{"GET /api/public", "the same answer as GET /api/data, unprotected (for comparison)"},
	{"POST /api/data", "protected, scope write"},
	{"GET /api/me", "protected: the token's user, client and scope"},
	{"GET /healthz", `health: 200 {"status":"ok"} while the store answers, 503 when it does not`},
}

func (a *app) routes() http.Handler {
	p := a.provider
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", welcome)
	// Every endpoint of the Provider, at the paths its metadata names:
	// /login, /oauth/authorize, /oauth/token, /oauth/revoke,
	// /oauth/introspect, /oauth/device_authorization, /device,
	// /.well-known/oauth-authorization-server, /.well-known/jwks.json, and
	// for OpenID Connect /.well-known/openid-configuration, /oauth/userinfo
	// and /oauth/logout (grant.Provider.Routes lists them).
	p.Mount(mux, grant.Pages{Authorize: a.authorize, Device: a.device})
	g := a.guard
	mux.Handle("GET /api/data", g.Require("read")(http.HandlerFunc(getData)))
	mux.HandleFunc("GET /api/public", getData) // the twin of /api/data without a token, for load tests
	mux.Handle("POST /api/data", g.Require("write")(http.HandlerFunc(postData)))
	mux.Handle("GET /api/me", g.Require()(http.HandlerFunc(me)))
	mux.Handle("GET /healthz", p.HealthHandler()) // pings the store
	return mux
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func welcome(w http.ResponseWriter, r *http.Request) {
	routes := make([]string, len(routeTable))
	for i, rt := range routeTable {
		routes[i] = rt.pattern
	}
	writeJSON(w, http.StatusOK, map[string]any{"message": "Welcome to the oauthkit example API", "routes": routes})
}

// protectedData is the tutorial's answer, byte for byte as its Flask app
// printed it.
const protectedData = `{"data": "This is protected data."}` + "\n"

func getData(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	_, _ = io.WriteString(w, protectedData)
}

func postData(w http.ResponseWriter, r *http.Request) {
	var body any
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10))
	if err := dec.Decode(&body); err != nil && !errors.Is(err, io.EOF) {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "the body must be JSON, at most 64 KiB"})
		return
	}
	tok, _ := middleware.TokenFromContext(r.Context())
	writeJSON(w, http.StatusCreated, map[string]any{"message": "Data received.", "data": body, "user": tok.Username})
}

func me(w http.ResponseWriter, r *http.Request) {
	tok, _ := middleware.TokenFromContext(r.Context())
	writeJSON(w, http.StatusOK, map[string]any{
		"user": tok.Username, "sub": tok.Subject, "client_id": tok.ClientID, "scope": joinScopes(tok.Scopes),
	})
}
