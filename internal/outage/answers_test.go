package outage

import (
	"crypto/sha256"
	"encoding/base64"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/oauthkit/oauthkit/grant"
	"github.com/oauthkit/oauthkit/store"
	"github.com/oauthkit/oauthkit/store/memory"
)

// TestAnswers: with PostgreSQL refusing connections, each endpoint gives
// its clear answer at once: the token, revocation and introspection
// endpoints 503 temporarily_unavailable with Retry-After: 1 (JSON),
// RequireOAuth 503 with Retry-After and no challenge (the client keeps its
// token), the health check 503, and the authorization endpoint an error
// page (503) while the client cannot be looked up, or, once the client and
// redirect URI are known good, a redirect with
// error=temporarily_unavailable (RFC 6749 §4.1.2.1).
func TestAnswers(t *testing.T) {
	st, proxy := postgresBackend(t)
	r := newRig(t, st, proxy, grant.StoreLimits{Timeout: storeTimeout})
	ctx := t.Context()
	tok := r.issue(ctx)
	if tok.status != 200 {
		t.Fatalf("token before the outage: %d %v", tok.status, tok.body)
	}
	access := tok.str("access_token")
	if _, err := grant.RegisterClient(ctx, st, appClient()); err != nil {
		t.Fatal(err)
	}
	az := authorizeServer(t, st, st)
	clients := memory.New()
	if _, err := grant.RegisterClient(ctx, clients, appClient()); err != nil {
		t.Fatal(err)
	}
	az2 := authorizeServer(t, clients, st)
	proxy.Refuse()
	defer proxy.Pass()

	for name, a := range map[string]answer{
		"token":      r.issue(ctx),
		"revoke":     r.form(ctx, "/revoke", url.Values{"token": {access}}),
		"introspect": r.form(ctx, "/introspect", url.Values{"token": {access}}),
	} {
		if a.status != 503 || a.retryAfter != "1" || a.str("error") != grant.CodeTemporarilyUnavailable {
			t.Errorf("%s: %d Retry-After %q %v, want 503, 1, temporarily_unavailable", name, a.status, a.retryAfter, a.body)
		}
		if a.took > budget+margin {
			t.Errorf("%s answered after %v", name, a.took)
		}
	}
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, r.srv.URL+"/api", nil)
	req.Header.Set("Authorization", "Bearer "+access)
	resp, err := r.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 503 || resp.Header.Get("Retry-After") != "1" || resp.Header.Get("WWW-Authenticate") != "" {
		t.Errorf("RequireOAuth: %d Retry-After %q WWW-Authenticate %q, want 503, 1, none", resp.StatusCode, resp.Header.Get("Retry-After"), resp.Header.Get("WWW-Authenticate"))
	}
	if a := r.do(mustGet(t, r.srv.URL+"/healthz")); a.status != 503 {
		t.Errorf("health check: %d, want 503", a.status)
	}

	// The authorization endpoint, with the clients in the store that is
	// down: no client, no redirect.
	a := r.do(mustGet(t, az.authorizeURL()))
	if a.status != 503 {
		t.Errorf("authorization request, client store down: %d, want a 503 page", a.status)
	}
	// Clients in memory, tokens in the store that is down: the code
	// cannot be stored, the client is told by redirect.
	resp, err = az2.client.Get(az2.authorizeURL())
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	loc, _ := url.Parse(resp.Header.Get("Location"))
	q := loc.Query()
	if resp.StatusCode != http.StatusFound || !strings.HasPrefix(loc.String(), "https://app.example/cb?") ||
		q.Get("error") != grant.CodeTemporarilyUnavailable || q.Get("state") != "s1" || q.Get("code") != "" {
		t.Errorf("authorization request, token store down: %d Location %q, want a redirect with error=temporarily_unavailable and the state", resp.StatusCode, loc)
	}
}

func mustGet(t *testing.T, u string) *http.Request {
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	return req
}

// authServer is a Provider's authorization endpoint for the first-party
// client "app", whose user is always signed in.
type authServer struct {
	url    string
	client *http.Client
}

// authorizeServer serves the authorization endpoint of a Provider on
// clients (where "app" is registered) and tokens.
func authorizeServer(t *testing.T, clients store.ClientStore, tokens store.TokenStore) *authServer {
	t.Helper()
	p, err := grant.NewProvider(grant.Config{
		Issuer: "https://as.example", Clients: clients, Tokens: tokens,
		Store: grant.StoreLimits{Timeout: storeTimeout}, Logger: discard,
	})
	if err != nil {
		t.Fatal(err)
	}
	h, err := p.AuthorizeHandler(grant.AuthorizeOptions{Authenticate: func(http.ResponseWriter, *http.Request) (*store.User, bool) {
		return &store.User{ID: "1", Username: "user1"}, true
	}})
	if err != nil {
		t.Fatal(err)
	}
	srv := newServer(t, h)
	return &authServer{srv.URL, &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// appClient is a confidential first-party client of the code grant.
func appClient() *store.Client {
	return &store.Client{
		ID: "app", FirstParty: true, RedirectURIs: []string{"https://app.example/cb"},
		GrantTypes: []string{store.GrantAuthorizationCode, store.GrantRefreshToken}, Scopes: []string{"read"},
	}
}

// verifier is the PKCE verifier of every code in these tests.
const verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk.0123456789"

func challenge() string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

func (a *authServer) authorizeURL() string {
	return a.url + "?" + url.Values{
		"response_type": {"code"}, "client_id": {"app"}, "redirect_uri": {"https://app.example/cb"},
		"scope": {"read"}, "state": {"s1"}, "code_challenge": {challenge()}, "code_challenge_method": {"S256"},
	}.Encode()
}
