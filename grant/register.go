package grant

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/oauthkit/oauthkit/internal/cors"
	"github.com/oauthkit/oauthkit/internal/logsample"
	"github.com/oauthkit/oauthkit/internal/throttle"
	"github.com/oauthkit/oauthkit/store"
)

// Dynamic client registration (RFC 7591) and its management (RFC 7592).
//
// POST to the registration endpoint (Endpoints.Registration) with a JSON
// object of client metadata registers a client: the server picks its ID
// (never an https URL, which would name a client ID metadata document), and
// for a confidential client generates its secret (256 bits, as
// NewClientSecret); it answers 201 with the client information and a
// registration access token (256 bits, PrefixRegistrationToken) for the
// client configuration endpoint, registration endpoint + "/" + client_id.
// There, with that token as a Bearer token, GET reads the registration, PUT
// replaces it and DELETE removes it and revokes the client's tokens. Every
// read and update answers with a new registration access token, which
// replaces the one presented (the store keeps only a hash, so the old one
// cannot be given back): a client keeps the latest.
//
// Every field is checked: by the rules of store.Client.Validate (redirect
// URIs https, http only on a loopback IP literal, or a private-use scheme
// with a '.' for native apps; no fragment, no userinfo; URLs, names, keys),
// by the bounds of register_metadata.go, and by Config.Registration: the
// authentication methods, grant types and scopes offered, the RedirectURI
// and Policy hooks. Registered clients are never first-party (they always
// see the consent page) unless Policy says so.
//
// Registrations are limited per client address (Registration.Limit, with
// the Provider's attempt counter, internal/throttle), and
// each answer carries Cache-Control: no-store. Any origin may call the
// endpoints from a browser (CORS without credentials): they hold no
// cookies, and the registration token authenticates management.

// PrefixRegistrationToken starts every RFC 7592 registration access token.
const PrefixRegistrationToken = "okrg_"

// maxRegistrationBody bounds a registration or update request.
const maxRegistrationBody = 64 << 10

// Registration configures dynamic client registration (RFC 7591) and the
// client configuration endpoint (RFC 7592). The zero value is off: the
// endpoints are served, and registration_endpoint published, only when
// Open or InitialAccessToken is set. Config.Clients must then be a
// store.ClientRegistry.
type Registration struct {
	// Open lets anyone register, without an initial access token. Default
	// false.
	Open bool
	// InitialAccessToken, if set, decides whether the Bearer token of a
	// registration request (an initial access token the host handed out,
	// RFC 7591 §3) allows it. A request whose token it refuses gets 401
	// invalid_token, open or not; without a token, 401 unless Open.
	// Default nil.
	InitialAccessToken func(ctx context.Context, token string) bool
	// AuthMethods are the token_endpoint_auth_method values a registration
	// may ask for: none, client_secret_basic, client_secret_post,
	// private_key_jwt (with the client's jwks or jwks_uri). Default none,
	// client_secret_basic and client_secret_post. A registration that names
	// none asks for client_secret_basic (RFC 7591 §2).
	AuthMethods []string
	// GrantTypes are the grant types a registration may ask for, among
	// those the provider serves (Config.GrantTypes). Default
	// authorization_code and refresh_token: registered clients act for
	// users, who consent.
	GrantTypes []string
	// Scopes are the scopes a registration may ask for; one that asks for
	// none gets all of them. Default Config.ScopesSupported.
	Scopes []string
	// RedirectURI, if set, is asked about each redirect URI that passes
	// the built-in rules: false refuses the registration with
	// invalid_redirect_uri. Default: every such URI.
	RedirectURI func(ctx context.Context, uri string) bool
	// Policy, if set, sees every registration about to be stored, new or
	// updated, and may change its Client or refuse it: an *Error or a
	// *store.ValidationError is sent as it is (RFC 7591 §3.2.2 codes), any
	// other error is a server_error. It alone can approve a software
	// statement: without Policy, one is refused with
	// unapproved_software_statement. Default nil.
	Policy func(ctx context.Context, r *RegistrationRequest) error
	// Limit bounds registration requests per client address
	// (Config.ClientAddr; an IPv6 /64 counts as one), counted by
	// Config.Throttle.Counter, so that instances sharing a PostgreSQL or
	// Redis store share the limit. Default 20 at once, then one every 3
	// minutes (20 an hour).
	Limit store.Limit
}

// RegistrationRequest is a registration about to be stored, for
// Registration.Policy.
type RegistrationRequest struct {
	// Client is what will be stored; Policy may change it. Its ID,
	// SecretHash and RegistrationTokenHash are the server's.
	Client *store.Client
	// Created is true for a new registration (RFC 7591), false for an
	// update (RFC 7592).
	Created bool
	// SoftwareStatement is the request's software_statement (RFC 7591
	// §2.3), a JWT that Policy may verify; "" without one.
	SoftwareStatement string
	// InitialAccessToken is the Bearer token of a registration request,
	// accepted by Registration.InitialAccessToken; "" without one.
	InitialAccessToken string
	// Metadata holds every member of the request as sent, for metadata
	// this package does not read.
	Metadata map[string]json.RawMessage
}

// on reports whether registration is served.
func (r *Registration) on() bool { return r.Open || r.InitialAccessToken != nil }

func (c *Config) checkRegistration() error {
	r := &c.Registration
	if !r.on() {
		return nil
	}
	if _, ok := c.Clients.(store.ClientRegistry); !ok {
		return errors.New("grant: Config.Registration needs a Config.Clients that is a store.ClientRegistry")
	}
	if r.AuthMethods == nil {
		r.AuthMethods = []string{store.AuthNone, store.AuthSecretBasic, store.AuthSecretPost}
	}
	for _, m := range r.AuthMethods {
		if m != store.AuthNone && m != store.AuthSecretBasic && m != store.AuthSecretPost && m != store.AuthPrivateKeyJWT {
			return errors.New("grant: Config.Registration.AuthMethods: " + quoteName(m) + " is not offered (none, client_secret_basic, client_secret_post, private_key_jwt)")
		}
	}
	if r.GrantTypes == nil {
		r.GrantTypes = []string{store.GrantAuthorizationCode, store.GrantRefreshToken}
	}
	r.GrantTypes = slices.DeleteFunc(slices.Clone(r.GrantTypes), func(g string) bool { return !slices.Contains(c.GrantTypes, g) })
	if r.Scopes == nil {
		r.Scopes = c.ScopesSupported
	}
	if r.Limit == (store.Limit{}) {
		r.Limit = store.Limit{Burst: 20, Every: 3 * time.Minute}
	}
	if r.Limit.Burst < 1 || r.Limit.Every <= 0 {
		return errors.New("grant: Config.Registration.Limit needs Burst ≥ 1 and a positive Every")
	}
	return nil
}

// registrar serves the registration and client configuration endpoints.
type registrar struct {
	p   *Provider
	reg store.ClientRegistry
}

// RegistrationHandler returns the registration endpoint (RFC 7591) and the
// client configuration endpoint (RFC 7592) in one handler, to mount at
// Endpoints().Registration and beneath it (Provider.Routes does). It
// answers 404 when Config.Registration is off.
func (p *Provider) RegistrationHandler() http.Handler {
	rg := &registrar{p: p}
	if p.cfg.Registration.on() {
		rg.reg = p.clients.(store.ClientRegistry) // checked by NewProvider; guarded (store_guard.go)
	}
	pol := &cors.Policy{
		Public:  true,
		Methods: []string{http.MethodPost, http.MethodGet, http.MethodPut, http.MethodDelete},
		Headers: []string{"Authorization", "Content-Type"},
		Expose:  []string{"WWW-Authenticate", "Retry-After"},
	}
	return pol.Wrap(rg)
}

func (rg *registrar) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if rg.reg == nil {
		http.NotFound(w, r)
		return
	}
	base := rg.p.Endpoints().Registration
	path := r.URL.EscapedPath()
	if path == base {
		rg.register(w, r)
		return
	}
	id, err := url.PathUnescape(strings.TrimPrefix(path, base+"/"))
	if !strings.HasPrefix(path, base+"/") || err != nil || id == "" || strings.Contains(id, "/") {
		http.NotFound(w, r)
		return
	}
	rg.manage(w, r, id) // register_manage.go
}

// register serves a registration request (RFC 7591 §3).
func (rg *registrar) register(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	p := rg.p
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		writeError(w, newError(http.StatusMethodNotAllowed, CodeInvalidRequest, "the registration endpoint accepts POST only"))
		return
	}
	addr := p.cfg.ClientAddr(r)
	if e := rg.allowed(ctx, addr); e != nil {
		rg.refuse(ctx, w, addr, e)
		return
	}
	iat, e := rg.initialAccessToken(r)
	if e != nil {
		rg.refuse(ctx, w, addr, e)
		return
	}
	m, e := readMetadata(w, r)
	if e != nil {
		rg.refuse(ctx, w, addr, e)
		return
	}
	c, e := rg.build(ctx, m)
	if e != nil {
		rg.refuse(ctx, w, addr, e)
		return
	}
	c.ID, c.CreatedAt = uuid.NewString(), p.cfg.Now()
	var secret string
	if usesSecret(c) {
		var err error
		if secret, c.SecretHash, err = NewClientSecret(); err != nil {
			rg.fail(ctx, w, err)
			return
		}
	}
	regToken, h, err := newSecret(PrefixRegistrationToken)
	if err != nil {
		rg.fail(ctx, w, err)
		return
	}
	c.RegistrationTokenHash = h
	if e := rg.decide(ctx, c, m, iat, true); e != nil {
		rg.refuse(ctx, w, addr, e)
		return
	}
	if err := rg.reg.CreateClient(ctx, c); err != nil {
		if e, ok := asRegistrationError(err); ok {
			rg.refuse(ctx, w, addr, e)
			return
		}
		rg.fail(ctx, w, err)
		return
	}
	p.cfg.Logger.InfoContext(ctx, "grant: client registered", "client_id", c.ID, "auth_method", c.AuthMethod, "addr", logsample.Clip(addr))
	writeJSON(w, http.StatusCreated, p.information(c, secret, regToken))
}

// allowed takes one registration from addr's allowance, or says why not.
func (rg *registrar) allowed(ctx context.Context, addr string) *Error {
	p := rg.p
	key := throttle.Key("registration", throttle.AddrGroup(addr))
	wait, err := throttle.Take(ctx, p.cfg.Throttle.Counter, key, p.cfg.Registration.Limit, p.cfg.Now())
	e := p.waitError(ctx, wait, err) // throttle.go
	if e != nil && e.Code == CodeSlowDown {
		e = errSlowDown(wait)
		e.Description = "too many registrations from this address; retry later"
	}
	return e
}

// initialAccessToken checks the request's Bearer token against
// Registration.InitialAccessToken, returning it.
func (rg *registrar) initialAccessToken(r *http.Request) (string, *Error) {
	cfg := &rg.p.cfg.Registration
	tok, present, ok := bearerToken(r)
	switch {
	case !present && cfg.Open:
		return "", nil
	case !present:
		return "", errNoToken()
	case !ok || cfg.InitialAccessToken == nil || !cfg.InitialAccessToken(r.Context(), tok):
		return "", errBadToken("the initial access token is not valid")
	}
	return tok, nil
}

// bearerToken reads an RFC 6750 §2.1 Authorization header: present says
// there is one, ok that it is one Bearer token.
func bearerToken(r *http.Request) (tok string, present, ok bool) {
	h := r.Header.Values("Authorization")
	if len(h) == 0 {
		return "", false, false
	}
	if len(h) > 1 || !hasScheme(h[0], "bearer") {
		return "", true, false
	}
	tok = strings.TrimSpace(h[0][len("bearer "):])
	return tok, true, tok != "" && !strings.ContainsAny(tok, " \t")
}

// errNoToken is RFC 6750 §3.1's answer to a request that needs a token and
// has none: 401 with a bare challenge.
func errNoToken() *Error {
	e := newError(http.StatusUnauthorized, CodeInvalidRequest, "this endpoint needs a Bearer token")
	e.challenge = "Bearer"
	return e
}

// errBadToken is RFC 6750 §3.1's invalid_token.
func errBadToken(desc string) *Error {
	e := newError(http.StatusUnauthorized, "invalid_token", desc)
	e.challenge = `Bearer error="invalid_token"`
	return e
}

// readMetadata reads a JSON request body of client metadata, bounded.
func readMetadata(w http.ResponseWriter, r *http.Request) (*clientMetadata, *Error) {
	if r.URL.RawQuery != "" {
		return nil, errRequest("parameters must be sent in the JSON body, not the URL")
	}
	if !isMediaType(r.Header.Get("Content-Type"), "application/json") {
		return nil, newError(http.StatusUnsupportedMediaType, CodeInvalidRequest, "the body must be application/json")
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxRegistrationBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, newError(http.StatusRequestEntityTooLarge, CodeInvalidRequest, "the request body is too large")
		}
		return nil, errRequest("the request body could not be read")
	}
	return parseClientMetadata(body)
}

// build turns registration metadata into the client to store, checking it
// against Config.Registration; ID and secrets are the caller's.
func (rg *registrar) build(ctx context.Context, m *clientMetadata) (*store.Client, *Error) {
	cfg := &rg.p.cfg.Registration
	c, e := m.client(metadataRules{
		authMethods: cfg.AuthMethods, defaultAuth: store.AuthSecretBasic,
		grantTypes: cfg.GrantTypes, scopes: cfg.Scopes,
	})
	if e != nil {
		return nil, e
	}
	if cfg.RedirectURI != nil {
		for _, u := range c.RedirectURIs {
			if !cfg.RedirectURI(ctx, u) {
				return nil, errRedirectURI("the redirect URI " + quoteName(u) + " is not allowed here")
			}
		}
	}
	return c, nil
}

// decide runs the checks that need the whole client: the software
// statement, store.Client.Validate, Registration.Policy, and Validate again
// on what Policy made of it.
func (rg *registrar) decide(ctx context.Context, c *store.Client, m *clientMetadata, iat string, created bool) *Error {
	cfg := &rg.p.cfg.Registration
	if m.SoftwareStatement != "" && !compactJWS(m.SoftwareStatement) {
		return newError(http.StatusBadRequest, CodeInvalidSoftwareStatement, "software_statement is not a JWT (RFC 7591 §2.3)")
	}
	if err := c.Validate(); err != nil {
		e, _ := asRegistrationError(err)
		return e
	}
	if cfg.Policy == nil {
		if m.SoftwareStatement != "" {
			return newError(http.StatusBadRequest, CodeUnapprovedSoftwareStatement, "this server approves no software statement")
		}
		return nil
	}
	id, sh, rth := c.ID, c.SecretHash, c.RegistrationTokenHash
	err := cfg.Policy(ctx, &RegistrationRequest{Client: c, Created: created, SoftwareStatement: m.SoftwareStatement, InitialAccessToken: iat, Metadata: m.all})
	if err != nil {
		if e, ok := asError(err); ok {
			return e
		}
		if e, ok := asRegistrationError(err); ok {
			return e
		}
		rg.p.cfg.Logger.ErrorContext(ctx, "grant: Registration.Policy failed", "err", err)
		return errServer
	}
	c.ID, c.SecretHash, c.RegistrationTokenHash = id, sh, rth
	if err := c.Validate(); err != nil {
		e, _ := asRegistrationError(err)
		return e
	}
	return nil
}

// compactJWS reports whether s has the shape of a JWS compact
// serialization: three base64url parts, the first a JSON object.
func compactJWS(s string) bool {
	parts := strings.Split(s, ".")
	if len(parts) != 3 || parts[0] == "" || parts[1] == "" {
		return false
	}
	for _, p := range parts {
		if _, err := base64.RawURLEncoding.DecodeString(p); err != nil {
			return false
		}
	}
	hdr, _ := base64.RawURLEncoding.DecodeString(parts[0])
	var h map[string]any
	return json.Unmarshal(hdr, &h) == nil && h["alg"] != nil
}

// usesSecret reports whether c authenticates with a client secret.
func usesSecret(c *store.Client) bool {
	return c.AuthMethod == store.AuthSecretBasic || c.AuthMethod == store.AuthSecretPost
}

// registrationClientURI is the client configuration endpoint of client id.
func (p *Provider) registrationClientURI(id string) string {
	return originOf(p.cfg.Issuer) + p.Endpoints().Registration + "/" + url.PathEscape(id)
}

// refuse answers with e and logs it.
func (rg *registrar) refuse(ctx context.Context, w http.ResponseWriter, addr string, e *Error) {
	rg.p.logRefusal(ctx, "grant: registration request refused", e, "addr", addr) // sampled, addr clipped (log.go)
	writeError(w, e)
}

// fail reports an internal error with server_error.
func (rg *registrar) fail(ctx context.Context, w http.ResponseWriter, err error) {
	rg.p.cfg.Logger.ErrorContext(ctx, "grant: registration failed", "err", err)
	writeError(w, errServer)
}
