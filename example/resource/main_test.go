package main

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2/clientcredentials"

	"golang.org/x/oauth2"

	"github.com/oauthkit/oauthkit/grant"
	"github.com/oauthkit/oauthkit/oauthtest"
	"github.com/oauthkit/oauthkit/store"
	"github.com/oauthkit/oauthkit/store/memory"
)

const aud = "oauthkit-example-api"

// authServer is an authorization server on httptest, as the example runs
// it, with a client "app" (client_credentials, scope read) and the resource
// server's client "rs".
type authServer struct {
	srv     *httptest.Server
	p       *grant.Provider
	secrets map[string]string
}

func newAuthServer(t *testing.T, clk *oauthtest.Clock, format grant.TokenFormat) *authServer {
	t.Helper()
	st := memory.New(memory.WithClock(clk.Now))
	a := &authServer{secrets: map[string]string{}}
	for _, c := range []*store.Client{
		{ID: "app", AuthMethod: store.AuthSecretBasic, GrantTypes: []string{store.GrantClientCredentials}, Scopes: []string{"read"}},
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
		Issuer: a.srv.URL, Clients: st, Tokens: st, Audience: []string{aud}, Introspectors: []string{"rs"},
		AccessTokenTTL: 10 * time.Minute, Now: clk.Now, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	if format == grant.FormatJWT {
		k, err := grant.GenerateSigningKey(grant.AlgEdDSA)
		if err != nil {
			t.Fatal(err)
		}
		cfg.AccessTokenFormat, cfg.SigningKeys = grant.FormatJWT, []grant.SigningKey{k}
	}
	p, err := grant.NewProvider(cfg)
	if err != nil {
		t.Fatal(err)
	}
	a.p = p
	ep := p.Endpoints()
	mux.Handle(ep.Token, p.TokenHandler())
	mux.Handle(ep.Revocation, p.RevokeHandler())
	mux.Handle(ep.Introspection, p.IntrospectHandler())
	mux.Handle(ep.JWKS, p.JWKSHandler())
	return a
}

func (a *authServer) token(t *testing.T) string {
	t.Helper()
	cc := clientcredentials.Config{ClientID: "app", ClientSecret: a.secrets["app"], TokenURL: a.srv.URL + "/oauth/token",
		Scopes: []string{"read"}, AuthStyle: oauth2.AuthStyleInHeader}
	tok, err := cc.Token(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return tok.AccessToken
}

func (a *authServer) revoke(t *testing.T, token string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, a.srv.URL+"/oauth/revoke", strings.NewReader(url.Values{"token": {token}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth("app", a.secrets["app"])
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("revoke: %d", res.StatusCode)
	}
}

func get(t *testing.T, h http.Handler, token string) int {
	t.Helper()
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodGet, "/api/data", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	h.ServeHTTP(rec, req)
	return rec.Code
}

func TestJWKSModeAcceptsThenRefusesAfterExpiry(t *testing.T) {
	asClock := oauthtest.NewClock(time.Now().Truncate(time.Second))
	rsClock := oauthtest.NewClock(asClock.Now())
	as := newAuthServer(t, asClock, grant.FormatJWT)
	h, err := newServer(config{Mode: "jwks", Issuer: as.srv.URL, Audience: aud, Now: rsClock.Now})
	if err != nil {
		t.Fatal(err)
	}
	tok := as.token(t)
	if got := get(t, h, tok); got != http.StatusOK {
		t.Fatalf("fresh token: %d", got)
	}
	rsClock.Advance(10*time.Minute + time.Minute) // past exp and the 30s skew
	if got := get(t, h, tok); got != http.StatusUnauthorized {
		t.Fatalf("expired token: %d, want 401", got)
	}
}

func TestIntrospectModeRefusesAfterRevocation(t *testing.T) {
	asClock := oauthtest.NewClock(time.Now().Truncate(time.Second))
	rsClock := oauthtest.NewClock(asClock.Now())
	as := newAuthServer(t, asClock, grant.FormatOpaque)
	h, err := newServer(config{Mode: "introspect", Issuer: as.srv.URL, Audience: aud, ClientID: "rs",
		ClientSecret: as.secrets["rs"], CacheTTL: 30 * time.Second, Now: rsClock.Now})
	if err != nil {
		t.Fatal(err)
	}
	tok := as.token(t)
	if got := get(t, h, tok); got != http.StatusOK {
		t.Fatalf("fresh token: %d", got)
	}
	as.revoke(t, tok)
	rsClock.Advance(31 * time.Second) // the cached answer has lapsed
	if got := get(t, h, tok); got != http.StatusUnauthorized {
		t.Fatalf("revoked token: %d, want 401", got)
	}
	// the wrong client secret is a server-side failure (the token could
	// not be checked: 503), not the token's (401)
	h, _ = newServer(config{Mode: "introspect", Issuer: as.srv.URL, Audience: aud, ClientID: "rs", ClientSecret: "wrong"})
	if got := get(t, h, as.token(t)); got != http.StatusServiceUnavailable {
		t.Errorf("with bad credentials: %d, want 503", got)
	}
}

func TestConfigErrors(t *testing.T) {
	for _, c := range []config{{Mode: "x"}, {Mode: "introspect", Issuer: "http://127.0.0.1:1"}, {Mode: "jwks", Issuer: "http://example.com"}} {
		if _, err := newServer(c); err == nil {
			t.Errorf("%+v accepted", c)
		}
	}
}
