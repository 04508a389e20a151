package grant_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/oauthkit/oauthkit/grant"
	"github.com/oauthkit/oauthkit/middleware"
	"github.com/oauthkit/oauthkit/oauthtest"
	"github.com/oauthkit/oauthkit/store"
	"github.com/oauthkit/oauthkit/store/memory"
	"github.com/oauthkit/oauthkit/store/password"
)

// epServer is an authorization server with every endpoint of this issue
// mounted, and GET /api/data protected by scope read.
type epServer struct {
	t       *testing.T
	p       *grant.Provider
	clock   *oauthtest.Clock
	srv     *httptest.Server
	secrets map[string]string
	events  chan grant.Event
}

// Clients of the endpoint tests.
const (
	epSvc   = "svc"   // confidential, client_credentials
	epApp   = "app"   // confidential, password + refresh
	epOther = "other" // confidential, client_credentials
	epRS    = "rs"    // confidential resource server, no grants: an introspector
	epPub   = "pub"   // public, password + refresh
)

func newEPServer(t *testing.T, mutate ...func(*grant.Config)) *epServer {
	t.Helper()
	clk := oauthtest.NewClock(time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC))
	st := memory.New(memory.WithClock(clk.Now), memory.WithPasswordParams(password.Params{Memory: 1024, Time: 1, Threads: 1}))
	e := &epServer{t: t, clock: clk, secrets: map[string]string{}, events: make(chan grant.Event, 256)}
	ctx := context.Background()
	if err := st.AddUser("1", "user1", "password1"); err != nil {
		t.Fatal(err)
	}
	for _, c := range []*store.Client{
		{ID: epSvc, AuthMethod: store.AuthSecretBasic, GrantTypes: []string{store.GrantClientCredentials}, Scopes: []string{"read", "write"}},
		{ID: epOther, AuthMethod: store.AuthSecretPost, GrantTypes: []string{store.GrantClientCredentials}, Scopes: []string{"read"}},
		{ID: epApp, AuthMethod: store.AuthSecretBasic, GrantTypes: []string{store.GrantPassword, store.GrantRefreshToken}, Scopes: []string{"read", "write"}},
		{ID: epRS, AuthMethod: store.AuthSecretBasic},
		{ID: epPub, AuthMethod: store.AuthNone, GrantTypes: []string{store.GrantPassword, store.GrantRefreshToken}, Scopes: []string{"read"}},
	} {
		if !c.Public() {
			secret, h, err := grant.NewClientSecret()
			if err != nil {
				t.Fatal(err)
			}
			c.SecretHash, e.secrets[c.ID] = h, secret
		}
		if err := st.CreateClient(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	mux := http.NewServeMux()
	e.srv = httptest.NewServer(mux)
	t.Cleanup(e.srv.Close)
	cfg := grant.Config{
		Issuer: e.srv.URL, Clients: st, Tokens: st, Users: st,
		GrantTypes:    []string{store.GrantClientCredentials, store.GrantPassword, store.GrantRefreshToken},
		Introspectors: []string{epRS},
		Audience:      []string{"https://api.example.com"},
		Now:           clk.Now,
		Logger:        slog.New(slog.NewTextHandler(io.Discard, nil)),
		OnEvent:       func(_ context.Context, ev grant.Event) { e.events <- ev },
	}
	for _, m := range mutate {
		m(&cfg)
	}
	p, err := grant.NewProvider(cfg)
	if err != nil {
		t.Fatal(err)
	}
	e.p = p
	p.Mount(mux, grant.Pages{})
	mux.Handle("GET /api/data", middleware.RequireOAuth(p, "read")(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, `{"data": "This is protected data."}`)
	})))
	return e
}

// clientToken gets a client_credentials token with x/oauth2.
func (e *epServer) clientToken(id string, scopes ...string) *oauth2.Token {
	e.t.Helper()
	style := oauth2.AuthStyleInHeader
	if id == epOther {
		style = oauth2.AuthStyleInParams
	}
	cc := clientcredentials.Config{
		ClientID: id, ClientSecret: e.secrets[id], TokenURL: e.srv.URL + e.p.Endpoints().Token,
		Scopes: scopes, AuthStyle: style,
	}
	tok, err := cc.Token(context.Background())
	if err != nil {
		e.t.Fatalf("client_credentials for %s: %v", id, err)
	}
	return tok
}

// userToken gets an access and refresh token for user1 with x/oauth2's
// password grant.
func (e *epServer) userToken(id string) *oauth2.Token {
	e.t.Helper()
	style := oauth2.AuthStyleInHeader
	if id == epPub {
		style = oauth2.AuthStyleInParams
	}
	c := oauth2.Config{ClientID: id, ClientSecret: e.secrets[id], Endpoint: oauth2.Endpoint{TokenURL: e.srv.URL + e.p.Endpoints().Token, AuthStyle: style}}
	tok, err := c.PasswordCredentialsToken(context.Background(), "user1", "password1")
	if err != nil {
		e.t.Fatalf("password grant for %s: %v", id, err)
	}
	if tok.RefreshToken == "" {
		e.t.Fatal("no refresh token")
	}
	return tok
}

// epResponse is a decoded JSON answer.
type epResponse struct {
	status int
	header http.Header
	body   map[string]any
}

// post sends a form to path, authenticating as client (Basic when the
// client is registered so, in the body otherwise; not at all when client
// is empty).
func (e *epServer) post(path, client string, form url.Values) epResponse {
	e.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	req, err := http.NewRequest(http.MethodPost, e.srv.URL+path, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	switch client {
	case "":
	case epOther, epPub:
		form.Set("client_id", client)
		if s := e.secrets[client]; s != "" {
			form.Set("client_secret", s)
		}
	default:
		req.SetBasicAuth(url.QueryEscape(client), url.QueryEscape(e.secrets[client]))
	}
	req.Body = io.NopCloser(strings.NewReader(form.Encode()))
	req.ContentLength = int64(len(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return e.send(req)
}

func (e *epServer) send(req *http.Request) epResponse {
	e.t.Helper()
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	out := epResponse{status: res.StatusCode, header: res.Header}
	data, _ := io.ReadAll(res.Body)
	if len(data) > 0 && json.Unmarshal(data, &out.body) != nil {
		out.body = map[string]any{"raw": string(data)}
	}
	return out
}

func (e *epServer) revoke(client, token, hint string) epResponse {
	e.t.Helper()
	form := url.Values{"token": {token}}
	if hint != "" {
		form.Set("token_type_hint", hint)
	}
	return e.post(e.p.Endpoints().Revocation, client, form)
}

func (e *epServer) introspect(client, token string) epResponse {
	e.t.Helper()
	return e.post(e.p.Endpoints().Introspection, client, url.Values{"token": {token}})
}

// api calls GET /api/data with token and returns the status.
func (e *epServer) api(token string) int {
	e.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, e.srv.URL+"/api/data", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	return e.send(req).status
}

func (e *epServer) sawRevoked() bool {
	for {
		select {
		case ev := <-e.events:
			if ev.Kind == grant.EventRevoked {
				return true
			}
		default:
			return false
		}
	}
}

func wantNoStore(t *testing.T, r epResponse) {
	t.Helper()
	if cc := r.header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("Cache-Control = %q, want no-store", cc)
	}
}

func newEPMemory() *memory.Store { return memory.New() }
