package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/oauthkit/oauthkit/grant"
	"github.com/oauthkit/oauthkit/store"
	"github.com/oauthkit/oauthkit/store/memory"
)

// authServer is an authorization server on httptest, with a
// client_credentials client "app" (scopes read and write) and the MCP
// server's introspection client "rs".
type authServer struct {
	srv     *httptest.Server
	p       *grant.Provider
	secrets map[string]string
}

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func newAuthServer(t *testing.T, format grant.TokenFormat, tune func(*grant.Config)) *authServer {
	t.Helper()
	st := memory.New()
	a := &authServer{secrets: map[string]string{}}
	for _, c := range []*store.Client{
		{ID: "app", AuthMethod: store.AuthSecretBasic, GrantTypes: []string{store.GrantClientCredentials}, Scopes: []string{"read", "write"}},
		{ID: "rs", AuthMethod: store.AuthSecretBasic},
	} {
		secret, h, err := grant.NewClientSecret()
		if err != nil {
			t.Fatal(err)
		}
		c.SecretHash, a.secrets[c.ID] = h, secret
		if err := st.CreateClient(context.Background(), c); err != nil {
			t.Fatal(err)
		}
	}
	mux := http.NewServeMux()
	a.srv = httptest.NewServer(mux)
	t.Cleanup(a.srv.Close)
	cfg := grant.Config{
		Issuer: a.srv.URL, Clients: st, Tokens: st, Introspectors: []string{"rs"},
		AccessTokenTTL: 10 * time.Minute, Logger: quiet,
	}
	if format == grant.FormatJWT {
		k, err := grant.GenerateSigningKey(grant.AlgEdDSA)
		if err != nil {
			t.Fatal(err)
		}
		cfg.AccessTokenFormat, cfg.SigningKeys = grant.FormatJWT, []grant.SigningKey{k}
	}
	if tune != nil {
		tune(&cfg)
	}
	p, err := grant.NewProvider(cfg)
	if err != nil {
		t.Fatal(err)
	}
	a.p = p
	p.Mount(mux, grant.Pages{})
	return a
}

// token gets a client_credentials token for scopes, with extra token
// request parameters (such as resource).
func (a *authServer) token(t *testing.T, scopes []string, params map[string][]string) string {
	t.Helper()
	cc := clientcredentials.Config{ClientID: "app", ClientSecret: a.secrets["app"], TokenURL: a.srv.URL + "/oauth/token",
		Scopes: scopes, AuthStyle: oauth2.AuthStyleInHeader, EndpointParams: params}
	tok, err := cc.Token(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return tok.AccessToken
}

// env is an authorization server and the example's MCP server, on
// loopback ports. The MCP server's port is taken first, so that the
// authorization server can be told its resource identifier (its /mcp URL).
type env struct {
	as             *authServer
	base, resource string // the MCP server's origin and resource identifier
}

func formatOf(mode string) grant.TokenFormat {
	if mode == "jwks" {
		return grant.FormatJWT
	}
	return grant.FormatOpaque
}

func newEnv(t *testing.T, mode string, tune func(c *grant.Config, resource string)) *env {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	e := &env{base: "http://" + l.Addr().String()}
	e.resource = e.base + "/mcp"
	e.as = newAuthServer(t, formatOf(mode), func(c *grant.Config) { tune(c, e.resource) })
	h, err := newServer(config{Mode: mode, Issuer: e.as.srv.URL, Resource: e.resource, ClientID: "rs", ClientSecret: e.as.secrets["rs"], Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: h}
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { _ = srv.Close() })
	return e
}

// post sends an MCP initialize request with tok (none if empty).
func post(t *testing.T, url, tok string) *http.Response {
	t.Helper()
	body := `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}`
	req, _ := http.NewRequestWithContext(t.Context(), "POST", url, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	return res
}

// bearer adds a fixed Authorization header.
type bearer string

func (b bearer) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+string(b))
	return http.DefaultTransport.RoundTrip(r)
}

// callGetData calls the tool with the official Go SDK's client and tok.
func callGetData(t *testing.T, endpoint, tok string) (string, error) {
	t.Helper()
	c := mcp.NewClient(&mcp.Implementation{Name: "test", Version: "1"}, nil)
	sess, err := c.Connect(t.Context(), &mcp.StreamableClientTransport{
		Endpoint: endpoint, HTTPClient: &http.Client{Transport: bearer(tok)}, DisableStandaloneSSE: true,
	}, nil)
	if err != nil {
		return "", err
	}
	defer sess.Close()
	res, err := sess.CallTool(t.Context(), &mcp.CallToolParams{Name: "get_data"})
	if err != nil {
		return "", err
	}
	if len(res.Content) != 1 {
		return "", nil
	}
	text, _ := res.Content[0].(*mcp.TextContent)
	return text.Text, nil
}

// TestContract is the example's contract, in both modes: the 401 without
// a token, the metadata document, get_data with a token for this server,
// and the 403 step-up challenge for a token without read.
func TestContract(t *testing.T) {
	for _, mode := range []string{"jwks", "introspect"} {
		t.Run(mode, func(t *testing.T) {
			// Tokens asked for no resource carry Config.Audience: here, this server.
			e := newEnv(t, mode, func(c *grant.Config, resource string) { c.Audience = []string{resource} })
			rm := `resource_metadata="` + e.base + `/.well-known/oauth-protected-resource/mcp"`

			res := post(t, e.resource, "")
			if got := res.Header.Get("WWW-Authenticate"); res.StatusCode != 401 || got != `Bearer `+rm+`, realm="mcp", scope="read"` {
				t.Errorf("no token: %d %q", res.StatusCode, got)
			}

			res, err := http.Get(e.base + "/.well-known/oauth-protected-resource/mcp")
			if err != nil {
				t.Fatal(err)
			}
			var doc map[string]any
			err = json.NewDecoder(res.Body).Decode(&doc)
			res.Body.Close()
			if err != nil || res.StatusCode != 200 {
				t.Fatalf("metadata: %d %v", res.StatusCode, err)
			}
			for k, want := range map[string]string{
				"resource": `"` + e.resource + `"`, "authorization_servers": `["` + e.as.srv.URL + `"]`,
				"scopes_supported": `["read"]`, "bearer_methods_supported": `["header"]`,
			} {
				if got, _ := json.Marshal(doc[k]); string(got) != want {
					t.Errorf("metadata %s: %s, want %s", k, got, want)
				}
			}

			text, err := callGetData(t, e.resource, e.as.token(t, []string{"read"}, nil))
			if err != nil || text != "This is protected data." {
				t.Errorf("get_data: %q, %v", text, err)
			}

			res = post(t, e.resource, e.as.token(t, []string{"write"}, nil))
			want := `Bearer ` + rm + `, realm="mcp", error="insufficient_scope", error_description="the access token lacks the required scope", scope="read"`
			if got := res.Header.Get("WWW-Authenticate"); res.StatusCode != 403 || got != want {
				t.Errorf("without read: %d %q", res.StatusCode, got)
			}
		})
	}
}

func TestConfigErrors(t *testing.T) {
	for _, c := range []config{
		{Mode: "x", Issuer: "http://127.0.0.1:1", Resource: "http://127.0.0.1:2/mcp"},
		{Mode: "introspect", Issuer: "http://127.0.0.1:1", Resource: "http://127.0.0.1:2/mcp"}, // no secret
		{Mode: "jwks", Issuer: "http://example.com", Resource: "http://127.0.0.1:2/mcp"},
		{Mode: "jwks", Issuer: "http://127.0.0.1:1", Resource: "http://example.com/mcp"},
		{Mode: "jwks", Issuer: "http://127.0.0.1:1", Resource: "http://127.0.0.1:2/mcp#x"},
	} {
		if _, err := newServer(c); err == nil {
			t.Errorf("%+v accepted", c)
		}
	}
}
