package mcpauth_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/auth"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/oauthkit/oauthkit/internal/dpop/dpoptest"
	"github.com/oauthkit/oauthkit/middleware"
	"github.com/oauthkit/oauthkit/middleware/mcpauth"
)

// tokens is a validator with a few fixed tokens; srv.URL+"/mcp" is only
// known once the server runs, so audiences name it through a pointer.
type tokens struct{ resource *string }

func (v tokens) ValidateToken(_ context.Context, raw string) (*middleware.Token, error) {
	exp := time.Now().Add(time.Hour)
	mine := []string{*v.resource}
	switch raw {
	case "alice":
		return &middleware.Token{ClientID: "app", Subject: "u-alice", Username: "alice", Scopes: []string{"read"}, ExpiresAt: exp, Audience: mine}, nil
	case "bob":
		return &middleware.Token{ClientID: "app", Subject: "u-bob", Scopes: []string{"read"}, ExpiresAt: exp, Audience: mine}, nil
	case "service":
		return &middleware.Token{ClientID: "svc", Scopes: []string{"read"}, ExpiresAt: exp, Audience: mine}, nil
	case "noread":
		return &middleware.Token{ClientID: "app", Subject: "u-alice", Scopes: []string{"write"}, ExpiresAt: exp, Audience: mine}, nil
	case "other":
		return &middleware.Token{ClientID: "app", Subject: "u-alice", Scopes: []string{"read"}, ExpiresAt: exp, Audience: []string{"https://other.example.com/mcp"}}, nil
	case "noaud":
		return &middleware.Token{ClientID: "app", Subject: "u-alice", Scopes: []string{"read"}, ExpiresAt: exp}, nil
	case "skewed": // expired by the wall clock, accepted by this validator's
		return &middleware.Token{ClientID: "app", Subject: "u-alice", Scopes: []string{"read"}, ExpiresAt: time.Now().Add(-time.Minute), Audience: mine}, nil
	case "noexp":
		return &middleware.Token{ClientID: "app", Subject: "u-alice", Scopes: []string{"read"}, Audience: mine}, nil
	case "bound": // DPoP-bound to dpopKey
		return &middleware.Token{ClientID: "app", Subject: "u-alice", Scopes: []string{"read"}, ExpiresAt: exp, Audience: mine, JKT: dpopKey.JKT}, nil
	case "broken":
		return nil, errors.New("db 10.1.2.3:5432 unreachable")
	}
	return nil, middleware.ErrInvalidToken
}

// mcpServer is an MCP server whose tool whoami answers with what
// req.Extra.TokenInfo says.
func mcpServer() *mcp.Server {
	s := mcp.NewServer(&mcp.Implementation{Name: "test", Version: "1"}, nil)
	mcp.AddTool(s, &mcp.Tool{Name: "whoami"}, func(ctx context.Context, req *mcp.CallToolRequest, _ struct{}) (*mcp.CallToolResult, any, error) {
		info := req.Extra.TokenInfo
		tok, ok := mcpauth.Token(info)
		if info == nil || !ok {
			return nil, nil, errors.New("no token")
		}
		text := fmt.Sprintf("user=%s scopes=%s client=%s aud=%s", info.UserID, strings.Join(info.Scopes, ","), tok.ClientID, tok.Audience[0])
		return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: text}}}, nil, nil
	})
	return s
}

type fixture struct {
	srv      *httptest.Server
	resource string
	logs     *bytes.Buffer
}

func newFixture(t *testing.T, opts middleware.Options) *fixture {
	t.Helper()
	f := &fixture{logs: new(bytes.Buffer)}
	mux := http.NewServeMux()
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	f.resource = f.srv.URL + "/mcp"
	opts.Resource = middleware.ProtectedResource{ID: f.resource, AuthorizationServers: []string{"https://as.example.com"}, ScopesSupported: []string{"read"}}
	opts.Logger = slog.New(slog.NewTextHandler(f.logs, nil))
	g, err := middleware.New(tokens{&f.resource}, opts)
	if err != nil {
		t.Fatal(err)
	}
	s := mcpServer()
	mux.Handle(g.MetadataPath(), g.MetadataHandler())
	mux.Handle("/mcp", mcpauth.Require(g, "read")(mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return s }, nil)))
	mux.Handle("/sdk", auth.RequireBearerToken(mcpauth.Verifier(g), nil)(mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return s }, nil)))
	return f
}

// bearer adds a fixed Authorization header to every request.
type bearer struct{ tok string }

func (b bearer) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.tok)
	return http.DefaultTransport.RoundTrip(r)
}

// call connects the SDK's client with tok and calls whoami.
func (f *fixture) call(t *testing.T, path, tok string) (string, error) {
	t.Helper()
	c := mcp.NewClient(&mcp.Implementation{Name: "test-client", Version: "1"}, nil)
	sess, err := c.Connect(t.Context(), &mcp.StreamableClientTransport{
		Endpoint: f.srv.URL + path, HTTPClient: &http.Client{Transport: bearer{tok}}, DisableStandaloneSSE: true,
	}, nil)
	if err != nil {
		return "", err
	}
	defer sess.Close()
	res, err := sess.CallTool(t.Context(), &mcp.CallToolParams{Name: "whoami"})
	if err != nil {
		return "", err
	}
	if res.IsError || len(res.Content) != 1 {
		return "", fmt.Errorf("tool error: %+v", res.Content)
	}
	return res.Content[0].(*mcp.TextContent).Text, nil
}

// TestRequireSDK: the SDK's client calls a tool through Require; the tool
// reads the token through the SDK's API (req.Extra.TokenInfo), oauthkit's
// Token beside it. A client's own token is bound to the client.
func TestRequireSDK(t *testing.T) {
	f := newFixture(t, middleware.Options{})
	for tok, want := range map[string]string{
		"alice":   "user=u-alice scopes=read client=app aud=" + f.resource,
		"service": "user=client:svc scopes=read client=svc aud=" + f.resource,
		"skewed":  "user=u-alice scopes=read client=app aud=" + f.resource, // the validator judges expiry
		"noexp":   "user=u-alice scopes=read client=app aud=" + f.resource,
	} {
		got, err := f.call(t, "/mcp", tok)
		if err != nil || got != want {
			t.Errorf("%s: %q, %v; want %q", tok, got, err, want)
		}
	}
}

// post sends one JSON-RPC message to /mcp and returns the response.
func (f *fixture) post(t *testing.T, path, tok, session, body string) *http.Response {
	t.Helper()
	req, _ := http.NewRequestWithContext(t.Context(), "POST", f.srv.URL+path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	if session != "" {
		req.Header.Set("Mcp-Session-Id", session)
		req.Header.Set("Mcp-Protocol-Version", "2025-06-18")
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { res.Body.Close() })
	return res
}

const initialize = `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}`

// TestRequireChallenges: refusals are the Guard's (RFC 6750 codes, RFC
// 9728 resource_metadata, scope), not the SDK's, and a token for another
// resource or none is refused.
func TestRequireChallenges(t *testing.T) {
	f := newFixture(t, middleware.Options{})
	rm := `resource_metadata="` + f.srv.URL + `/.well-known/oauth-protected-resource/mcp"`
	for tok, want := range map[string]struct {
		status    int
		challenge string
	}{
		"":       {401, `Bearer ` + rm + `, realm="api", scope="read"`},
		"nope":   {401, `Bearer ` + rm + `, realm="api", error="invalid_token", error_description="the access token is invalid, expired or revoked", scope="read"`},
		"other":  {401, `Bearer ` + rm + `, realm="api", error="invalid_token", error_description="the access token was not issued for this resource", scope="read"`},
		"noaud":  {401, `Bearer ` + rm + `, realm="api", error="invalid_token", error_description="the access token was not issued for this resource", scope="read"`},
		"noread": {403, `Bearer ` + rm + `, realm="api", error="insufficient_scope", error_description="the access token lacks the required scope", scope="read"`},
	} {
		res := f.post(t, "/mcp", tok, "", initialize)
		// The Bearer challenge first; the DPoP scheme offered after it
		// names the metadata too.
		got := res.Header.Values("WWW-Authenticate")
		if res.StatusCode != want.status || len(got) != 2 || got[0] != want.challenge || !strings.HasPrefix(got[1], "DPoP "+rm+", ") {
			t.Errorf("token %q: %d %q\nwant %d %q", tok, res.StatusCode, got, want.status, want.challenge)
		}
		if ct := res.Header.Get("Content-Type"); ct != "application/json" {
			t.Errorf("token %q: Content-Type %q", tok, ct)
		}
	}
	if _, err := f.call(t, "/mcp", "other"); err == nil {
		t.Error("the SDK client got through with a token for another resource")
	}
}

// TestSessionBoundToUser: a session made with one user's token cannot be
// used with another's (the transport compares TokenInfo.UserID).
func TestSessionBoundToUser(t *testing.T) {
	f := newFixture(t, middleware.Options{})
	res := f.post(t, "/mcp", "alice", "", initialize)
	sid := res.Header.Get("Mcp-Session-Id")
	if res.StatusCode != 200 || sid == "" {
		t.Fatalf("initialize: %d, session %q", res.StatusCode, sid)
	}
	const initialized = `{"jsonrpc":"2.0","method":"notifications/initialized"}`
	for tok, want := range map[string]int{"bob": 403, "service": 403, "alice": 202} {
		if res := f.post(t, "/mcp", tok, sid, initialized); res.StatusCode != want {
			b, _ := io.ReadAll(res.Body)
			t.Errorf("%s on alice's session: %d %s, want %d", tok, res.StatusCode, b, want)
		}
	}
}

var dpopKey = dpoptest.NewKey(&testing.T{}, "ES256")

// dpopTransport presents tok with the DPoP scheme and a fresh proof for
// each request.
type dpopTransport struct {
	t   *testing.T
	tok string
}

func (d dpopTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	u := *r.URL
	u.RawQuery = ""
	r.Header.Set("Authorization", "DPoP "+d.tok)
	r.Header.Set("DPoP", dpopKey.Proof(d.t, r.Method, u.String(), dpoptest.Token(d.tok)))
	return http.DefaultTransport.RoundTrip(r)
}

// TestRequireDPoP: a DPoP-bound token, presented with the DPoP scheme and
// proofs (RFC 9449), reaches the tools as the SDK's TokenInfo too, though
// the SDK's own middleware knows only "Bearer"; as a bearer token it is
// refused.
func TestRequireDPoP(t *testing.T) {
	f := newFixture(t, middleware.Options{})
	c := mcp.NewClient(&mcp.Implementation{Name: "test-client", Version: "1"}, nil)
	sess, err := c.Connect(t.Context(), &mcp.StreamableClientTransport{
		Endpoint: f.srv.URL + "/mcp", HTTPClient: &http.Client{Transport: dpopTransport{t, "bound"}}, DisableStandaloneSSE: true,
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	res, err := sess.CallTool(t.Context(), &mcp.CallToolParams{Name: "whoami"})
	if err != nil || res.IsError || !strings.HasPrefix(res.Content[0].(*mcp.TextContent).Text, "user=u-alice ") {
		t.Fatalf("DPoP: %+v, %v", res, err)
	}
	if res := f.post(t, "/mcp", "bound", "", initialize); res.StatusCode != 401 {
		t.Errorf("a bound token as a bearer token: %d", res.StatusCode)
	}
}

// TestRequireQueryToken: however the Guard received the token, the
// TokenInfo is attached (here a query parameter, which a Guard may allow;
// MCP clients never send one).
func TestRequireQueryToken(t *testing.T) {
	f := newFixture(t, middleware.Options{AllowQueryToken: true})
	req, _ := http.NewRequestWithContext(t.Context(), "POST", f.srv.URL+"/mcp?access_token=alice", strings.NewReader(initialize))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != 200 || res.Header.Get("Mcp-Session-Id") == "" {
		b, _ := io.ReadAll(res.Body)
		t.Fatalf("query token: %d %s", res.StatusCode, b)
	}
}

// TestVerifier: with the SDK's own middleware, Verifier applies the
// Guard's audience binding, and a validator failure shows the client
// nothing of its cause (logged instead).
func TestVerifier(t *testing.T) {
	f := newFixture(t, middleware.Options{})
	if got, err := f.call(t, "/sdk", "alice"); err != nil || !strings.HasPrefix(got, "user=u-alice ") {
		t.Errorf("alice: %q, %v", got, err)
	}
	for tok, want := range map[string]int{"other": 401, "noaud": 401, "nope": 401, "bound": 401, "broken": 500} {
		res := f.post(t, "/sdk", tok, "", initialize)
		b, _ := io.ReadAll(res.Body)
		if res.StatusCode != want || strings.Contains(string(b), "10.1.2.3") {
			t.Errorf("%s: %d %s, want %d", tok, res.StatusCode, b, want)
		}
	}
	if !strings.Contains(f.logs.String(), "10.1.2.3") {
		t.Errorf("the validator failure was not logged: %s", f.logs)
	}
}

func TestTokenInfo(t *testing.T) {
	tok := &middleware.Token{ClientID: "app", Subject: "u1", Scopes: []string{"read"}, ExpiresAt: time.Unix(1e9, 0)}
	info := mcpauth.TokenInfo(tok)
	if info.UserID != "u1" || info.Scopes[0] != "read" || !info.Expiration.Equal(tok.ExpiresAt) {
		t.Errorf("%+v", info)
	}
	info.Scopes[0] = "admin"
	if tok.Scopes[0] != "read" {
		t.Error("TokenInfo shares the token's scopes")
	}
	if got, ok := mcpauth.Token(info); !ok || got != tok {
		t.Errorf("Token: %v %v", got, ok)
	}
	if _, ok := mcpauth.Token(nil); ok {
		t.Error("Token(nil)")
	}
	if _, ok := mcpauth.Token(&auth.TokenInfo{Extra: map[string]any{"oauthkit.token": "forged"}}); ok {
		t.Error("Token of a TokenInfo not made here")
	}
}
