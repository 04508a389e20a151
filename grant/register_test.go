package grant_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"golang.org/x/oauth2"

	"github.com/oauthkit/oauthkit/grant"
	"github.com/oauthkit/oauthkit/store"
	"github.com/oauthkit/oauthkit/store/sqlite"
)

// openRegistration turns on open registration, with every address counted
// apart (X-Test-Addr) so that one test's requests do not share a limit.
func openRegistration(c *grant.Config) {
	c.Registration.Open = true
	c.ScopesSupported = []string{"read", "write"}
	c.ClientAddr = func(r *http.Request) string { return r.Header.Get("X-Test-Addr") }
	c.Registration.Limit = store.Limit{Burst: 1000, Every: time.Millisecond}
}

// regResponse is an answer of the registration or client configuration
// endpoint.
type regResponse struct {
	status int
	header http.Header
	body   map[string]any
	raw    string
}

func (r regResponse) str(k string) string { s, _ := r.body[k].(string); return s }

// register sends a registration request (RFC 7591 §3.1) with body, which
// may be a string (sent as it is) or a value (sent as JSON).
func (e *azEnv) register(body any, edit ...func(*http.Request)) regResponse {
	e.t.Helper()
	return e.regDo(http.MethodPost, e.srv.URL+"/oauth/register", "", body, edit...)
}

func (e *azEnv) regDo(method, u, token string, body any, edit ...func(*http.Request)) regResponse {
	e.t.Helper()
	var rd *bytes.Reader
	switch b := body.(type) {
	case nil:
		rd = bytes.NewReader(nil)
	case string:
		rd = bytes.NewReader([]byte(b))
	default:
		j, err := json.Marshal(b)
		if err != nil {
			e.t.Fatal(err)
		}
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, u, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	req.Header.Set("X-Test-Addr", "192.0.2.1")
	for _, ed := range edit {
		ed(req)
	}
	p := e.do(http.DefaultClient, req)
	r := regResponse{status: p.status, header: p.header, raw: p.body}
	if strings.HasPrefix(p.header.Get("Content-Type"), "application/json") {
		if err := json.Unmarshal([]byte(p.body), &r.body); err != nil {
			e.t.Fatalf("%s %s: %d, not JSON: %q", method, u, p.status, p.body)
		}
	}
	return r
}

// publicApp is the registration an MCP client sends.
func publicApp() map[string]any {
	return map[string]any{
		"client_name":                "Agent CLI",
		"redirect_uris":              []string{"http://127.0.0.1:33418/callback"},
		"token_endpoint_auth_method": "none",
		"grant_types":                []string{"authorization_code", "refresh_token"},
		"response_types":             []string{"code"},
		"application_type":           "native", // unknown metadata is ignored (RFC 7591 §2)
		"tos_uri":                    "https://agent.example/tos",
	}
}

func wantRegError(t *testing.T, what string, r regResponse, status int, code string) {
	t.Helper()
	if r.status != status || r.str("error") != code {
		t.Errorf("%s: %d %s, want %d %s", what, r.status, r.raw, status, code)
	}
	if r.header.Get("Cache-Control") != "no-store" {
		t.Errorf("%s: Cache-Control %q", what, r.header.Get("Cache-Control"))
	}
}

// TestRegisterPublicClient: an open registration of a public client (RFC
// 7591 §3.2.1) answers 201 with the client's ID, a registration access
// token and client configuration URI (RFC 7592 §3), the registered
// metadata with defaults filled in, and no secret; the client then runs the
// authorization code flow.
func TestRegisterPublicClient(t *testing.T) {
	e := newAZEnv(t, grant.AuthorizeOptions{}, openRegistration)
	r := e.register(publicApp())
	if r.status != http.StatusCreated {
		t.Fatalf("registration: %d %s", r.status, r.raw)
	}
	id := r.str("client_id")
	want := map[string]any{
		"client_name": "Agent CLI", "token_endpoint_auth_method": "none", "scope": "read write",
		"redirect_uris": []any{"http://127.0.0.1:33418/callback"}, "grant_types": []any{"authorization_code", "refresh_token"},
		"response_types": []any{"code"}, "registration_client_uri": e.srv.URL + "/oauth/register/" + id,
		"client_id_issued_at": float64(e.clk.Now().Unix()),
	}
	for k, v := range want {
		if !equalJSON(r.body[k], v) {
			t.Errorf("%s = %v, want %v", k, r.body[k], v)
		}
	}
	for _, k := range []string{"client_secret", "application_type", "tos_uri"} {
		if _, ok := r.body[k]; ok {
			t.Errorf("%s in the answer: %v", k, r.body[k])
		}
	}
	if id == "" || strings.HasPrefix(id, "https:") || !strings.HasPrefix(r.str("registration_access_token"), grant.PrefixRegistrationToken) {
		t.Fatalf("client_id %q, registration_access_token %q", id, r.str("registration_access_token"))
	}
	if r.header.Get("Cache-Control") != "no-store" || !strings.HasPrefix(r.header.Get("Content-Type"), "application/json") {
		t.Errorf("headers %v", r.header)
	}
	c, err := e.st.Client(context.Background(), id)
	if err != nil || !c.Public() || c.FirstParty || c.Name != "Agent CLI" {
		t.Fatalf("stored client %+v, %v", c, err)
	}
	cfg := e.oauth2Config(id, "http://127.0.0.1:40000/callback", "read")
	code, verifier := e.code(cfg)
	tok, err := cfg.Exchange(context.Background(), code, oauth2.VerifierOption(verifier))
	if err != nil || e.apiData(tok.AccessToken) != http.StatusOK {
		t.Fatalf("the registered client's code flow: %v", err)
	}
}

// TestRegisterConfidentialClient: the server generates the secret of a
// confidential registration (256 bits, the client secret prefix), returns
// it once with client_secret_expires_at 0, and keeps only its hash; the
// secret authenticates at the token endpoint.
func TestRegisterConfidentialClient(t *testing.T) {
	e := newAZEnv(t, grant.AuthorizeOptions{}, openRegistration, func(c *grant.Config) {
		c.Registration.GrantTypes = []string{store.GrantClientCredentials}
	})
	r := e.register(map[string]any{"client_name": "Backend", "grant_types": []string{"client_credentials"}, "scope": "read", "client_secret": "mine"})
	if r.status != http.StatusCreated {
		t.Fatalf("registration: %d %s", r.status, r.raw)
	}
	secret := r.str("client_secret")
	if !strings.HasPrefix(secret, grant.PrefixClientSecret) || len(secret) != len(grant.PrefixClientSecret)+43 || secret == "mine" {
		t.Fatalf("client_secret %q", secret)
	}
	if r.body["client_secret_expires_at"] != float64(0) || r.str("token_endpoint_auth_method") != store.AuthSecretBasic || r.body["response_types"] != nil {
		t.Errorf("answer %v", r.body)
	}
	e.secrets[r.str("client_id")] = secret
	if status, body := e.tokenJSON(r.str("client_id"), url.Values{"grant_type": {"client_credentials"}}); status != 200 || body["scope"] != "read" {
		t.Fatalf("client_credentials with the generated secret: %d %v", status, body)
	}
}

// TestRegisterErrors: every RFC 7591 §3.2.2 error, and the refusals of
// requests that are not registrations at all.
func TestRegisterErrors(t *testing.T) {
	e := newAZEnv(t, grant.AuthorizeOptions{}, openRegistration)
	with := func(k string, v any) map[string]any {
		m := publicApp()
		if v == nil {
			delete(m, k)
		} else {
			m[k] = v
		}
		return m
	}
	jws := "eyJhbGciOiJSUzI1NiJ9.eyJzb2Z0d2FyZV9pZCI6IngifQ.c2ln"
	many := make([]string, 21)
	for i := range many {
		many[i] = fmt.Sprintf("https://app.example/cb%d", i)
	}
	for _, c := range []struct {
		name string
		body any
		code string
	}{
		{"no redirect_uris for authorization_code", with("redirect_uris", nil), store.CodeInvalidRedirectURI},
		{"http on a host name", with("redirect_uris", []string{"http://app.example/cb"}), store.CodeInvalidRedirectURI},
		{"localhost by name", with("redirect_uris", []string{"http://localhost:3000/cb"}), store.CodeInvalidRedirectURI},
		{"fragment", with("redirect_uris", []string{"https://app.example/cb#x"}), store.CodeInvalidRedirectURI},
		{"relative", with("redirect_uris", []string{"/cb"}), store.CodeInvalidRedirectURI},
		{"private-use scheme without a dot", with("redirect_uris", []string{"myapp:/cb"}), store.CodeInvalidRedirectURI},
		{"too many redirect URIs", with("redirect_uris", many), store.CodeInvalidRedirectURI},
		{"a very long redirect URI", with("redirect_uris", []string{"https://app.example/" + strings.Repeat("a", 4096)}), store.CodeInvalidRedirectURI},
		{"redirect_uris not strings", with("redirect_uris", []int{1}), store.CodeInvalidRedirectURI},
		{"unknown auth method", with("token_endpoint_auth_method", "client_secret_jwt"), store.CodeInvalidClientMetadata},
		{"private_key_jwt", with("token_endpoint_auth_method", "private_key_jwt"), store.CodeInvalidClientMetadata},
		{"implicit grant", with("grant_types", []string{"implicit"}), store.CodeInvalidClientMetadata},
		{"password grant not allowed", with("grant_types", []string{"authorization_code", "password"}), store.CodeInvalidClientMetadata},
		{"client_credentials not allowed", with("grant_types", []string{"client_credentials"}), store.CodeInvalidClientMetadata},
		{"token response type", with("response_types", []string{"code", "token"}), store.CodeInvalidClientMetadata},
		{"code without authorization_code", map[string]any{"grant_types": []string{"refresh_token"}, "response_types": []string{"code"}, "token_endpoint_auth_method": "none"}, store.CodeInvalidClientMetadata},
		{"authorization_code without code", with("response_types", []string{}), store.CodeInvalidClientMetadata},
		{"scope not offered", with("scope", "read admin"), store.CodeInvalidClientMetadata},
		{"malformed scope", with("scope", `read "x"`), store.CodeInvalidClientMetadata},
		{"control character in client_name", with("client_name", "Agent\u0007"), store.CodeInvalidClientMetadata},
		{"client_uri not http", with("client_uri", "javascript:alert(1)"), store.CodeInvalidClientMetadata},
		{"logo_uri relative", with("logo_uri", "/logo.png"), store.CodeInvalidClientMetadata},
		{"empty contact", with("contacts", []string{""}), store.CodeInvalidClientMetadata},
		{"jwks and jwks_uri", with("jwks", map[string]any{"keys": []any{map[string]any{"kty": "OKP"}}}), store.CodeInvalidClientMetadata},
		{"client_name too long", with("client_name", strings.Repeat("n", 300)), store.CodeInvalidClientMetadata},
		{"not JSON", "{", store.CodeInvalidClientMetadata},
		{"not an object", `["redirect_uris"]`, store.CodeInvalidClientMetadata},
		{"two objects", `{}{}`, store.CodeInvalidClientMetadata},
		{"malformed software statement", with("software_statement", "not-a-jwt"), grant.CodeInvalidSoftwareStatement},
		{"software statement nobody approves", with("software_statement", jws), grant.CodeUnapprovedSoftwareStatement},
	} {
		body := c.body
		if c.name == "jwks and jwks_uri" {
			body.(map[string]any)["jwks_uri"] = "https://app.example/jwks"
		}
		wantRegError(t, c.name, e.register(body), http.StatusBadRequest, c.code)
	}
	if n, _ := e.st.Clients(context.Background()); len(n) != 6 {
		t.Errorf("%d clients stored after refused registrations, want the 6 of the fixture", len(n))
	}
	wantRegError(t, "form body", e.register("redirect_uris=x", func(r *http.Request) {
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}), http.StatusUnsupportedMediaType, grant.CodeInvalidRequest)
	wantRegError(t, "huge body", e.register(`{"client_name":"`+strings.Repeat("x", 1<<20)+`"}`), http.StatusRequestEntityTooLarge, grant.CodeInvalidRequest)
	if r := e.regDo(http.MethodGet, e.srv.URL+"/oauth/register", "", nil); r.status != http.StatusMethodNotAllowed || r.header.Get("Allow") != "POST" {
		t.Errorf("GET on the registration endpoint: %d %v", r.status, r.header)
	}
	if r := e.regDo(http.MethodPost, e.srv.URL+"/oauth/register?redirect_uris=x", "", publicApp()); r.status != http.StatusBadRequest {
		t.Errorf("query string: %d", r.status)
	}
}

// TestRegisterInitialAccessToken: without Open, a registration needs an
// initial access token that Registration.InitialAccessToken accepts (RFC
// 7591 §3; RFC 6750 §3 challenges); with Open too, a token is optional but
// a bad one is still refused.
func TestRegisterInitialAccessToken(t *testing.T) {
	iat := func(_ context.Context, tok string) bool { return tok == "let-me-in" }
	for _, open := range []bool{false, true} {
		t.Run(fmt.Sprint("open=", open), func(t *testing.T) {
			e := newAZEnv(t, grant.AuthorizeOptions{}, openRegistration, func(c *grant.Config) {
				c.Registration.Open, c.Registration.InitialAccessToken = open, iat
			})
			bearer := func(tok string) func(*http.Request) {
				return func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+tok) }
			}
			r := e.register(publicApp())
			if open && r.status != http.StatusCreated || !open && (r.status != http.StatusUnauthorized || r.header.Get("WWW-Authenticate") != "Bearer") {
				t.Errorf("no token: %d %v %s", r.status, r.header, r.raw)
			}
			r = e.register(publicApp(), bearer("guess"))
			if r.status != http.StatusUnauthorized || r.str("error") != "invalid_token" || !strings.Contains(r.header.Get("WWW-Authenticate"), `error="invalid_token"`) {
				t.Errorf("wrong token: %d %v %s", r.status, r.header, r.raw)
			}
			r = e.register(publicApp(), func(r *http.Request) { r.Header.Set("Authorization", "Basic bGV0LW1lLWlu") })
			if r.status != http.StatusUnauthorized {
				t.Errorf("Basic instead of Bearer: %d %s", r.status, r.raw)
			}
			if r := e.register(publicApp(), bearer("let-me-in")); r.status != http.StatusCreated {
				t.Errorf("right token: %d %s", r.status, r.raw)
			}
		})
	}
	st := newMemoryForConfig()
	if _, err := grant.NewProvider(grant.Config{Issuer: "https://as.example", Clients: clientsOnly{st}, Tokens: st,
		Registration: grant.Registration{Open: true}}); err == nil {
		t.Error("registration on a ClientStore that cannot create clients was accepted")
	}
}

type clientsOnly struct{ store.ClientStore }

// TestRegisterPolicy: Registration.Policy sees the request and may change
// the client or refuse it with its own error; it approves software
// statements.
func TestRegisterPolicy(t *testing.T) {
	var seen *grant.RegistrationRequest
	e := newAZEnv(t, grant.AuthorizeOptions{}, openRegistration, func(c *grant.Config) {
		c.Registration.Policy = func(_ context.Context, r *grant.RegistrationRequest) error {
			seen = r
			if r.Client.Name == "Evil" {
				return &grant.Error{Code: "invalid_client_metadata", Description: "no evil", Status: http.StatusBadRequest}
			}
			if r.Client.Name == "Broken" {
				return errors.New("database on fire")
			}
			r.Client.Scopes = []string{"read"} // registered clients may read only
			return nil
		}
		c.Registration.RedirectURI = func(_ context.Context, u string) bool { return !strings.Contains(u, "blocked") }
	})
	m := publicApp()
	m["software_statement"] = "eyJhbGciOiJSUzI1NiJ9.eyJzb2Z0d2FyZV9pZCI6IngifQ.c2ln"
	r := e.register(m)
	if r.status != http.StatusCreated || r.str("scope") != "read" {
		t.Fatalf("policy-approved registration: %d %s", r.status, r.raw)
	}
	if seen == nil || !seen.Created || seen.SoftwareStatement != m["software_statement"] || string(seen.Metadata["tos_uri"]) != `"https://agent.example/tos"` {
		t.Errorf("policy saw %+v", seen)
	}
	m = publicApp()
	m["client_name"] = "Evil"
	wantRegError(t, "refused by the policy", e.register(m), http.StatusBadRequest, "invalid_client_metadata")
	m["client_name"] = "Broken"
	wantRegError(t, "policy failing", e.register(m), http.StatusInternalServerError, "server_error")
	m = publicApp()
	m["redirect_uris"] = []string{"https://blocked.example/cb"}
	wantRegError(t, "redirect URI refused by the hook", e.register(m), http.StatusBadRequest, store.CodeInvalidRedirectURI)
}

// TestRegistrationSecretsHashedAtRest: the registration access token and
// the generated client secret are kept only as SHA-256 hashes: neither
// appears anywhere in the store, read back through its API or as the bytes
// of its database file.
func TestRegistrationSecretsHashedAtRest(t *testing.T) {
	dir := t.TempDir()
	db, err := sqlite.Open(context.Background(), filepath.Join(dir, "oauth.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	e := newAZEnv(t, grant.AuthorizeOptions{}, openRegistration, func(c *grant.Config) {
		c.Clients = db
		c.Registration.AuthMethods = []string{store.AuthSecretPost}
	})
	m := publicApp()
	m["token_endpoint_auth_method"] = store.AuthSecretPost
	r := e.register(m)
	if r.status != http.StatusCreated {
		t.Fatalf("registration: %d %s", r.status, r.raw)
	}
	tok, secret := r.str("registration_access_token"), r.str("client_secret")
	c, err := db.Client(context.Background(), r.str("client_id"))
	if err != nil {
		t.Fatal(err)
	}
	if c.RegistrationTokenHash != store.HashSecret(tok) || c.SecretHash != store.HashSecret(secret) {
		t.Fatalf("stored hashes do not match the token and secret")
	}
	meta, _ := c.MarshalMetadata()
	dump := fmt.Sprintf("%#v %s", *c, meta)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"oauth.db", "oauth.db-wal"} {
		b, err := os.ReadFile(filepath.Join(dir, f))
		if err == nil {
			dump += string(b)
		}
	}
	for name, v := range map[string]string{"registration access token": tok, "client secret": secret} {
		if v == "" || strings.Contains(dump, v) || strings.Contains(dump, strings.TrimPrefix(v, v[:5])) {
			t.Errorf("the %s is stored in the clear", name)
		}
	}
	if !strings.Contains(dump, store.HashSecret(tok).String()) {
		t.Error("the registration token's hash is not in the store")
	}
}

// TestRegisterRateLimited: registrations from one address are limited
// (Registration.Limit), others are not, and the limit refills.
func TestRegisterRateLimited(t *testing.T) {
	e := newAZEnv(t, grant.AuthorizeOptions{}, openRegistration, func(c *grant.Config) {
		c.Registration.Limit = store.Limit{Burst: 3, Every: time.Minute}
	})
	from := func(addr string) func(*http.Request) {
		return func(r *http.Request) { r.Header.Set("X-Test-Addr", addr) }
	}
	for i := range 3 {
		if r := e.register(publicApp(), from("198.51.100.7")); r.status != http.StatusCreated {
			t.Fatalf("registration %d: %d %s", i+1, r.status, r.raw)
		}
	}
	r := e.register(publicApp(), from("198.51.100.7"))
	wantRegError(t, "past the limit", r, http.StatusTooManyRequests, grant.CodeSlowDown)
	if r.header.Get("Retry-After") != "60" {
		t.Errorf("Retry-After %q", r.header.Get("Retry-After"))
	}
	if r := e.register(publicApp(), from("198.51.100.8")); r.status != http.StatusCreated {
		t.Errorf("another address: %d", r.status)
	}
	e.clk.Advance(time.Minute)
	if r := e.register(publicApp(), from("198.51.100.7")); r.status != http.StatusCreated {
		t.Errorf("after the wait: %d %s", r.status, r.raw)
	}
	if n, _ := e.st.Clients(context.Background()); len(n) != 6+5 {
		t.Errorf("%d clients stored", len(n))
	}
}

// TestRegistrationManagement is RFC 7592: the client configuration endpoint
// reads, updates and deletes a registration with its registration access
// token, which every read and update replaces; without it, with another
// client's, or for a client not registered dynamically: 401.
func TestRegistrationManagement(t *testing.T) {
	e := newAZEnv(t, grant.AuthorizeOptions{}, openRegistration)
	a, b := e.register(publicApp()), e.register(publicApp())
	uri, tok := a.str("registration_client_uri"), a.str("registration_access_token")
	for name, c := range map[string]struct{ uri, tok string }{
		"no token":              {uri, ""},
		"wrong token":           {uri, grant.PrefixRegistrationToken + strings.Repeat("A", 43)},
		"another client's":      {uri, b.str("registration_access_token")},
		"pre-registered client": {e.srv.URL + "/oauth/register/" + azSPA, tok},
		"unknown client":        {e.srv.URL + "/oauth/register/nobody", tok},
	} {
		for _, m := range []string{http.MethodGet, http.MethodPut, http.MethodDelete} {
			r := e.regDo(m, c.uri, c.tok, map[string]any{"client_id": a.str("client_id")})
			if r.status != http.StatusUnauthorized || !strings.HasPrefix(r.header.Get("WWW-Authenticate"), "Bearer") {
				t.Errorf("%s %s: %d %v", m, name, r.status, r.header)
			}
		}
	}
	r := e.regDo(http.MethodGet, uri, tok, nil)
	if r.status != http.StatusOK || r.str("client_id") != a.str("client_id") || r.str("registration_client_uri") != uri || r.str("client_name") != "Agent CLI" {
		t.Fatalf("read: %d %s", r.status, r.raw)
	}
	next := r.str("registration_access_token")
	if next == "" || next == tok {
		t.Fatal("a read did not replace the registration access token")
	}
	if r := e.regDo(http.MethodGet, uri, tok, nil); r.status != http.StatusUnauthorized {
		t.Errorf("the replaced token still works: %d", r.status)
	}
	tok = next
	upd := publicApp()
	upd["client_id"] = a.str("client_id")
	upd["redirect_uris"] = []string{"https://agent.example/cb"}
	upd["client_name"] = "Agent CLI 2"
	delete(upd, "grant_types") // omitted fields take their defaults (RFC 7592 §2.2)
	for name, bad := range map[string]struct {
		k    string
		v    any
		code string
	}{
		"client_id differs":      {"client_id", b.str("client_id"), store.CodeInvalidClientMetadata},
		"client_id missing":      {"client_id", nil, store.CodeInvalidClientMetadata},
		"client_secret differs":  {"client_secret", "okcs_mine", store.CodeInvalidClientMetadata},
		"bad redirect URI":       {"redirect_uris", []string{"http://agent.example/cb"}, store.CodeInvalidRedirectURI},
		"grant type not allowed": {"grant_types", []string{"password"}, store.CodeInvalidClientMetadata},
	} {
		m := map[string]any{}
		for k, v := range upd {
			m[k] = v
		}
		if bad.v == nil {
			delete(m, bad.k)
		} else {
			m[bad.k] = bad.v
		}
		wantRegError(t, "update, "+name, e.regDo(http.MethodPut, uri, tok, m), http.StatusBadRequest, bad.code)
	}
	r = e.regDo(http.MethodPut, uri, tok, upd)
	if r.status != http.StatusOK || r.str("client_name") != "Agent CLI 2" || !equalJSON(r.body["grant_types"], []any{"authorization_code"}) {
		t.Fatalf("update: %d %s", r.status, r.raw)
	}
	tok = r.str("registration_access_token")
	c, _ := e.st.Client(context.Background(), a.str("client_id"))
	if c == nil || c.Name != "Agent CLI 2" || len(c.RedirectURIs) != 1 || c.RedirectURIs[0] != "https://agent.example/cb" {
		t.Fatalf("stored after update: %+v", c)
	}
	// The client's tokens go with it.
	cfg := e.oauth2Config(a.str("client_id"), "https://agent.example/cb", "read")
	code, verifier := e.code(cfg)
	access, err := cfg.Exchange(context.Background(), code, oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatal(err)
	}
	if r := e.regDo(http.MethodDelete, uri, tok, nil); r.status != http.StatusNoContent || r.raw != "" {
		t.Fatalf("delete: %d %s", r.status, r.raw)
	}
	if _, err := e.st.Client(context.Background(), a.str("client_id")); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("deleted client still stored: %v", err)
	}
	if s := e.apiData(access.AccessToken); s != http.StatusUnauthorized {
		t.Errorf("the deleted client's access token: %d", s)
	}
	if r := e.regDo(http.MethodGet, uri, tok, nil); r.status != http.StatusUnauthorized {
		t.Errorf("read after delete: %d", r.status)
	}
	if r := e.regDo(http.MethodGet, b.str("registration_client_uri"), b.str("registration_access_token"), nil); r.status != http.StatusOK {
		t.Errorf("the other client after a delete: %d", r.status)
	}
	if r := e.regDo(http.MethodPost, uri, tok, nil); r.status != http.StatusMethodNotAllowed {
		t.Errorf("POST on the configuration endpoint: %d", r.status)
	}
}

// TestRegistrationMetadata: registration_endpoint is published when
// registration is on, and only then.
func TestRegistrationMetadata(t *testing.T) {
	for _, on := range []bool{false, true} {
		e := newAZEnv(t, grant.AuthorizeOptions{}, func(c *grant.Config) { c.Registration.Open = on })
		var md map[string]any
		getJSON(t, e.p.MetadataURL(), &md)
		if got, want := md["registration_endpoint"], e.srv.URL+"/oauth/register"; on && got != want || !on && got != nil {
			t.Errorf("on=%v: registration_endpoint %v", on, got)
		}
		if r := e.register(publicApp()); !on && r.status != http.StatusNotFound {
			t.Errorf("registration off: %d", r.status)
		}
	}
}

// TestRegisterPrivateKeyJWT: with private_key_jwt offered, a registration
// with its public keys gets no secret, and authenticates with assertions;
// without keys it is refused.
func TestRegisterPrivateKeyJWT(t *testing.T) {
	e := newAZEnv(t, grant.AuthorizeOptions{}, openRegistration, func(c *grant.Config) {
		c.Registration.AuthMethods = []string{store.AuthNone, store.AuthPrivateKeyJWT}
		c.Registration.GrantTypes = []string{store.GrantClientCredentials}
	})
	k := newKeyClient(t, "", jose.ES256, "k1")
	r := e.register(map[string]any{"token_endpoint_auth_method": "private_key_jwt", "grant_types": []string{"client_credentials"},
		"scope": "read", "jwks": json.RawMessage(jwks(t, k))})
	if r.status != http.StatusCreated || r.body["client_secret"] != nil || r.body["client_secret_expires_at"] != nil {
		t.Fatalf("registration: %d %s", r.status, r.raw)
	}
	k.id = r.str("client_id")
	status, body := e.tokenJSON("", assertionForm(k.sign(t, k.claims(e.p.Issuer(), e.clk.Now()), nil), nil))
	if status != 200 || body["scope"] != "read" {
		t.Fatalf("client_credentials with an assertion: %d %v", status, body)
	}
	wantRegError(t, "private_key_jwt without keys", e.register(map[string]any{"token_endpoint_auth_method": "private_key_jwt",
		"grant_types": []string{"client_credentials"}}), http.StatusBadRequest, store.CodeInvalidClientMetadata)
}
