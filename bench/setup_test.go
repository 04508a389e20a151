package bench

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"flag"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/go-oauth2/oauth2/v4"
	"github.com/go-oauth2/oauth2/v4/manage"
	"github.com/go-oauth2/oauth2/v4/models"
	"github.com/go-oauth2/oauth2/v4/server"
	ostore "github.com/go-oauth2/oauth2/v4/store"
	"github.com/ory/fosite"
	"github.com/ory/fosite/compose"
	"github.com/ory/fosite/handler/openid"
	fstorage "github.com/ory/fosite/storage"

	"github.com/oauthkit/oauthkit/grant"
	"github.com/oauthkit/oauthkit/store"
	"github.com/oauthkit/oauthkit/store/memory"
)

// liveTokens is how many access tokens each library holds while the
// validation benchmarks run, issued through its own token endpoint.
var liveTokens = flag.Int("live", 10_000, "live access tokens in each library's store during BenchmarkValidate")

const (
	clientID = "svc"
	scope    = "read"
	username = "peter"
	password = "secret-password"
)

// bare is the protected handler itself; every variant of a benchmark wraps it
// and pays for the same httptest.ResponseRecorder, so that the difference
// between two variants is the cost of what they add.
var bare = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	_, _ = io.WriteString(w, `{"data": "This is protected data."}`+"\n")
})

// tokenTemplate is the token endpoint request every variant clones: the
// same method, URL, headers and remote address for all, built once, so that
// the per-request harness cost stays small and equal.
var tokenTemplate = func() *http.Request {
	r := httptest.NewRequest(http.MethodPost, "/oauth/token", nil)
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return r
}()

// formRequest builds a token endpoint request with client_secret_basic.
func formRequest(form url.Values, secret string) *http.Request {
	body := form.Encode()
	r := tokenTemplate.Clone(context.Background())
	r.Body = io.NopCloser(strings.NewReader(body))
	r.ContentLength = int64(len(body))
	r.Header.Set("Content-Length", strconv.Itoa(len(body)))
	r.SetBasicAuth(clientID, secret)
	return r
}

// tokenReply is the part of an RFC 6749 §5.1 response the benchmarks read.
type tokenReply struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
}

// post sends one token request to h and reads the tokens from the answer,
// failing the benchmark on anything but 200. All three libraries write
// compact JSON, so a string search finds the two fields; anything else is
// decoded properly.
func post(b *testing.B, h http.Handler, form url.Values, secret string) tokenReply {
	w := httptest.NewRecorder()
	h.ServeHTTP(w, formRequest(form, secret))
	if w.Code != http.StatusOK {
		b.Fatalf("token endpoint: %d %s", w.Code, w.Body)
	}
	body := w.Body.String()
	t := tokenReply{AccessToken: jsonString(body, "access_token"), RefreshToken: jsonString(body, "refresh_token")}
	if t.AccessToken == "" {
		if err := json.Unmarshal(w.Body.Bytes(), &t); err != nil || t.AccessToken == "" {
			b.Fatalf("token endpoint: no access_token (%v): %s", err, body)
		}
	}
	return t
}

// jsonString finds "key":"value" in compact JSON; token values have no
// escapes.
func jsonString(body, key string) string {
	i := strings.Index(body, `"`+key+`":"`)
	if i < 0 {
		return ""
	}
	body = body[i+len(key)+4:]
	j := strings.IndexByte(body, '"')
	if j < 0 {
		return ""
	}
	return body[:j]
}

var (
	clientCredentialsForm = url.Values{"grant_type": {"client_credentials"}, "scope": {scope}}
)

func refreshForm(rt string) url.Values {
	return url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}
}

// ---- oauthkit ----

// oauthkitSetup is oauthkit as its README sets it up: a Provider on the
// memory store, with a generated client secret (stored as SHA-256) and, for
// the refresh benchmark, one user for the password grant that seeds it.
type oauthkitSetup struct {
	p      *grant.Provider
	st     *memory.Store
	token  http.Handler
	secret string
}

func newOauthkit(b *testing.B) *oauthkitSetup {
	ctx := context.Background()
	st := memory.New()
	secret, hash, err := grant.NewClientSecret()
	if err != nil {
		b.Fatal(err)
	}
	err = st.CreateClient(ctx, &store.Client{
		ID: clientID, SecretHash: hash, AuthMethod: store.AuthSecretBasic,
		GrantTypes: []string{store.GrantClientCredentials, store.GrantRefreshToken, store.GrantPassword},
		Scopes:     []string{scope},
	})
	if err != nil {
		b.Fatal(err)
	}
	if err := st.AddUser("1", username, password); err != nil {
		b.Fatal(err)
	}
	p, err := grant.NewProvider(grant.Config{
		Issuer: "https://as.example.com", Clients: st, Tokens: st, Users: st,
		GrantTypes: []string{store.GrantClientCredentials, store.GrantRefreshToken, store.GrantPassword},
		Logger:     slog.New(slog.DiscardHandler),
	})
	if err != nil {
		b.Fatal(err)
	}
	return &oauthkitSetup{p: p, st: st, token: p.TokenHandler(), secret: secret}
}

// ---- go-oauth2/oauth2 v4.5.4 ----

// goOAuth2Setup is go-oauth2 v4.5.4 as its README sets it up: the default
// manager with its buntdb memory token store and memory client store (which
// keeps the secret in plain text), and the default server.
type goOAuth2Setup struct {
	srv    *server.Server
	m      *manage.Manager
	token  http.Handler
	secret string
}

func newGoOAuth2(b *testing.B) *goOAuth2Setup {
	m := manage.NewDefaultManager()
	m.MustTokenStorage(ostore.NewMemoryTokenStore())
	cs := ostore.NewClientStore()
	secret := rand.Text()
	if err := cs.Set(clientID, &models.Client{ID: clientID, Secret: secret, Domain: "https://client.example.com"}); err != nil {
		b.Fatal(err)
	}
	m.MapClientStorage(cs)
	srv := server.NewDefaultServer(m)
	return &goOAuth2Setup{
		srv: srv, m: m, secret: secret,
		token: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _ = srv.HandleTokenRequest(w, r) }),
	}
}

// refreshToken gets a first refresh token from the manager (go-oauth2's
// password grant needs a handler of the host's; the manager is what it
// calls).
func (g *goOAuth2Setup) refreshToken(b *testing.B) string {
	ti, err := g.m.GenerateAccessToken(context.Background(), oauth2.PasswordCredentials, &oauth2.TokenGenerateRequest{
		ClientID: clientID, ClientSecret: g.secret, UserID: username, Scope: scope,
	})
	if err != nil {
		b.Fatal(err)
	}
	return ti.GetRefresh()
}

// ---- ory/fosite ----

// fositeSetup is fosite as its example authorization server sets it up:
// compose.ComposeAllEnabled over storage.NewMemoryStore, with the default
// Config, whose client secret hasher is BCrypt at cost 12, unless hasher
// is given.
type fositeSetup struct {
	p      fosite.OAuth2Provider
	st     *fstorage.MemoryStore
	token  http.Handler
	secret string
}

func newFosite(b *testing.B, hasher fosite.Hasher) *fositeSetup {
	ctx := context.Background()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		b.Fatal(err)
	}
	globalSecret := make([]byte, 32) // fosite's HMAC strategy wants at least 32 bytes
	if _, err := rand.Read(globalSecret); err != nil {
		b.Fatal(err)
	}
	cfg := &fosite.Config{GlobalSecret: globalSecret, ClientSecretsHasher: hasher}
	st := fstorage.NewMemoryStore()
	secret := rand.Text()
	hashed, err := cfg.GetSecretsHasher(ctx).Hash(ctx, []byte(secret))
	if err != nil {
		b.Fatal(err)
	}
	st.Clients[clientID] = &fosite.DefaultClient{
		ID: clientID, Secret: hashed,
		GrantTypes:    []string{"client_credentials", "refresh_token", "password"},
		ResponseTypes: []string{"token"},
		Scopes:        []string{scope, "offline"},
	}
	st.Users[username] = fstorage.MemoryUserRelation{Username: username, Password: password}
	p := compose.ComposeAllEnabled(cfg, st, key)
	// The token endpoint of fosite's example, granting every requested
	// scope the client may have (fosite has checked that).
	token := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		ar, err := p.NewAccessRequest(ctx, r, openid.NewDefaultSession())
		if err != nil {
			p.WriteAccessError(ctx, w, ar, err)
			return
		}
		if !ar.GetGrantTypes().ExactOne("refresh_token") {
			for _, s := range ar.GetRequestedScopes() {
				ar.GrantScope(s)
			}
		}
		resp, err := p.NewAccessResponse(ctx, ar)
		if err != nil {
			p.WriteAccessError(ctx, w, ar, err)
			return
		}
		p.WriteAccessResponse(ctx, w, ar, resp)
	})
	return &fositeSetup{p: p, st: st, token: token, secret: secret}
}

// sha256Hasher is a cheaper fosite.Hasher than its default BCrypt: what
// oauthkit does for generated, high-entropy client secrets. Labelled as
// such where used; it is not fosite's default.
type sha256Hasher struct{}

func (sha256Hasher) Hash(_ context.Context, data []byte) ([]byte, error) {
	s := sha256.Sum256(data)
	return s[:], nil
}

func (sha256Hasher) Compare(_ context.Context, hash, data []byte) error {
	s := sha256.Sum256(data)
	if subtle.ConstantTimeCompare(hash, s[:]) != 1 {
		return fosite.ErrInvalidClient
	}
	return nil
}
