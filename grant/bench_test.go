package grant_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/go-oauth2/oauth2/v4"
	"github.com/go-oauth2/oauth2/v4/manage"
	"github.com/go-oauth2/oauth2/v4/models"
	"github.com/go-oauth2/oauth2/v4/server"
	ostore "github.com/go-oauth2/oauth2/v4/store"

	"github.com/oauthkit/oauthkit/grant"
	"github.com/oauthkit/oauthkit/middleware"
	"github.com/oauthkit/oauthkit/store"
	"github.com/oauthkit/oauthkit/store/memory"
)

// The benchmarks here compare, in one run, oauthkit's request path against
// a bare handler and against go-oauth2 v4.5.4 used directly:
//
//	go test -run '^$' -bench . -benchmem ./grant
//
// Every variant pays for the same httptest.ResponseRecorder, so the
// difference between two variants is the cost of what they add.

const liveTokens = 100_000

var bare = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	w.Write([]byte(`{"data": "This is protected data."}`))
})

func serveLoop(b *testing.B, h http.Handler, r *http.Request) {
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != http.StatusOK {
			b.Fatalf("status %d: %s", w.Code, w.Body)
		}
	}
}

// benchProvider is a Provider on the memory store with one confidential
// client_credentials client.
func benchProvider(b *testing.B) (*grant.Provider, string) {
	st := memory.New()
	secret, hash, err := grant.NewClientSecret()
	if err != nil {
		b.Fatal(err)
	}
	err = st.CreateClient(context.Background(), &store.Client{
		ID: "svc", SecretHash: hash, AuthMethod: store.AuthSecretBasic,
		GrantTypes: []string{store.GrantClientCredentials}, Scopes: []string{"read"},
	})
	if err != nil {
		b.Fatal(err)
	}
	p, err := grant.NewProvider(grant.Config{
		Issuer: "https://as.example.com", Clients: st, Tokens: st,
		Logger: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		b.Fatal(err)
	}
	return p, secret
}

func tokenRequest(secret string) *http.Request {
	r := httptest.NewRequest("POST", "/oauth/token", nil)
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.SetBasicAuth("svc", secret)
	return r
}

// issue gets one client_credentials token through the token endpoint.
func issue(b *testing.B, h http.Handler, secret string) string {
	r := tokenRequest(secret)
	r.Body = io.NopCloser(strings.NewReader("grant_type=client_credentials"))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	body := w.Body.String()
	i := strings.Index(body, `"access_token":"`)
	if w.Code != 200 || i < 0 {
		b.Fatalf("issue: %d %s", w.Code, body)
	}
	body = body[i+len(`"access_token":"`):]
	return body[:strings.IndexByte(body, '"')]
}

// goOAuth2 is go-oauth2 v4.5.4 as its README sets it up: default manager,
// buntdb memory token store, memory client store.
func goOAuth2(b *testing.B) (*server.Server, *manage.Manager) {
	m := manage.NewDefaultManager()
	m.MustTokenStorage(ostore.NewMemoryTokenStore())
	cs := ostore.NewClientStore()
	if err := cs.Set("svc", &models.Client{ID: "svc", Secret: "svc-secret", Domain: "https://client.example.com"}); err != nil {
		b.Fatal(err)
	}
	m.MapClientStorage(cs)
	return server.NewDefaultServer(m), m
}

func BenchmarkValidate(b *testing.B) {
	b.Run("bare", func(b *testing.B) {
		serveLoop(b, bare, httptest.NewRequest("GET", "/api/data", nil))
	})
	b.Run("oauthkit-RequireOAuth", func(b *testing.B) {
		p, secret := benchProvider(b)
		th := p.TokenHandler()
		var tok string
		for range liveTokens {
			tok = issue(b, th, secret)
		}
		r := httptest.NewRequest("GET", "/api/data", nil)
		r.Header.Set("Authorization", "Bearer "+tok)
		runtime.GC()
		serveLoop(b, middleware.RequireOAuth(p, "read")(bare), r)
	})
	b.Run("go-oauth2-ValidationBearerToken", func(b *testing.B) {
		srv, m := goOAuth2(b)
		var tok string
		for range liveTokens {
			ti, err := m.GenerateAccessToken(context.Background(), oauth2.ClientCredentials, &oauth2.TokenGenerateRequest{ClientID: "svc", ClientSecret: "svc-secret", Scope: "read"})
			if err != nil {
				b.Fatal(err)
			}
			tok = ti.GetAccess()
		}
		runtime.GC()
		h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if _, err := srv.ValidationBearerToken(r); err != nil {
				http.Error(w, err.Error(), http.StatusUnauthorized)
				return
			}
			bare(w, r)
		})
		r := httptest.NewRequest("GET", "/api/data", nil)
		r.Header.Set("Authorization", "Bearer "+tok)
		serveLoop(b, h, r)
	})
}

func BenchmarkIssueClientCredentials(b *testing.B) {
	body := "grant_type=client_credentials"
	run := func(b *testing.B, h http.Handler, mk func() *http.Request) {
		b.ReportAllocs()
		for b.Loop() {
			r := mk()
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if w.Code != http.StatusOK {
				b.Fatalf("status %d: %s", w.Code, w.Body)
			}
		}
	}
	b.Run("oauthkit-TokenHandler", func(b *testing.B) {
		p, secret := benchProvider(b)
		h := p.TokenHandler()
		run(b, h, func() *http.Request {
			r := tokenRequest(secret)
			r.Body = io.NopCloser(strings.NewReader(body))
			return r
		})
	})
	b.Run("go-oauth2-HandleTokenRequest", func(b *testing.B) {
		srv, _ := goOAuth2(b)
		h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _ = srv.HandleTokenRequest(w, r) })
		form := url.Values{"grant_type": {"client_credentials"}, "scope": {"read"}}.Encode()
		run(b, h, func() *http.Request {
			r := httptest.NewRequest("POST", "/oauth/token", strings.NewReader(form))
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			r.Header.Set("Content-Length", strconv.Itoa(len(form)))
			r.SetBasicAuth("svc", "svc-secret")
			return r
		})
	})
}

func BenchmarkValidateToken(b *testing.B) {
	p, secret := benchProvider(b)
	th := p.TokenHandler()
	var tok string
	for range liveTokens {
		tok = issue(b, th, secret)
	}
	runtime.GC()
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := p.ValidateToken(ctx, tok); err != nil {
			b.Fatal(err)
		}
	}
}
