// Package oauthtest helps services test their RequireOAuth-protected
// handlers: a real grant.Provider on memory stores, and tokens minted in one
// line for any user, client and scopes, without a running server.
//
//	srv := oauthtest.New(t)
//	h := middleware.RequireOAuth(srv.Validator(), "read")(myHandler)
//	req.Header.Set("Authorization", "Bearer "+srv.Token(t, oauthtest.User("1", "user1"), "read"))
//
// Tokens are issued through the Provider's own token endpoint, so they are
// exactly what production issues: they expire (see [Server.Advance]), can
// be revoked, and come in JWT form with [WithJWT].
package oauthtest

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/oauthkit/oauthkit/grant"
	"github.com/oauthkit/oauthkit/middleware"
	"github.com/oauthkit/oauthkit/store"
	"github.com/oauthkit/oauthkit/store/memory"
)

// Issuer is the issuer of every test Server.
const Issuer = "http://127.0.0.1/oauthtest"

// Audience is the aud of the test Server's tokens.
const Audience = "http://127.0.0.1/api"

// ClientID is the client that user tokens are issued to.
const ClientID = "oauthtest"

// Subject is whom a token is for: a user ([User]) or a client acting on its
// own behalf ([Client]).
type Subject struct {
	id, username string
	client       bool
}

// User is a token subject: the user with the given ID and login name, on
// whose behalf the client ClientID holds the token.
func User(id, username string) Subject { return Subject{id: id, username: username} }

// Client is a token subject: a client_credentials token of client id, with
// no user.
func Client(id string) Subject { return Subject{id: id, client: true} }

// Option configures a Server.
type Option func(*grant.Config)

// WithJWT makes the Server issue RFC 9068 JWT access tokens (EdDSA) instead
// of opaque ones.
func WithJWT() Option {
	return func(c *grant.Config) {
		k, err := grant.GenerateSigningKey(grant.AlgEdDSA)
		if err == nil {
			c.AccessTokenFormat, c.SigningKeys = grant.FormatJWT, []grant.SigningKey{k}
		}
	}
}

// WithConfig lets a test change any other setting of the Provider.
func WithConfig(f func(*grant.Config)) Option { return Option(f) }

// Server is a Provider on memory stores, with a clock the test moves.
type Server struct {
	// Provider is the authorization server; its handlers can be mounted
	// on an httptest.Server for end-to-end tests.
	Provider *grant.Provider
	// Store keeps the clients and tokens.
	Store *memory.Store

	mintMu   sync.Mutex // one token request at a time: each re-registers its client
	clock    *Clock
	users    *users
	password string
	token    http.Handler
}

// New returns a Server whose clock starts at the current time.
func New(t testing.TB, opts ...Option) *Server {
	t.Helper()
	s := &Server{clock: NewClock(time.Now().Truncate(time.Second)), users: &users{m: map[string]store.User{}}}
	s.password = random(t)
	s.users.password = s.password
	s.Store = memory.New(memory.WithClock(s.Now))
	cfg := grant.Config{
		Issuer: Issuer, Clients: s.Store, Tokens: s.Store, Users: s.users,
		GrantTypes: []string{store.GrantClientCredentials, store.GrantPassword, store.GrantRefreshToken},
		Audience:   []string{Audience},
		Now:        s.Now,
		Logger:     slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	for _, o := range opts {
		o(&cfg)
	}
	p, err := grant.NewProvider(cfg)
	if err != nil {
		t.Fatalf("oauthtest: %v", err)
	}
	s.Provider, s.token = p, p.TokenHandler()
	return s
}

// Now is the Server's clock.
func (s *Server) Now() time.Time { return s.clock.Now() }

// Advance moves the Server's clock forward by d, so that tokens expire
// without the test sleeping.
func (s *Server) Advance(d time.Duration) { s.clock.Advance(d) }

// Validator returns the middleware.Validator for the Server's tokens, to
// pass to middleware.RequireOAuth.
func (s *Server) Validator() middleware.Validator { return s.Provider }

// Token returns a new access token for sub granted exactly scopes (none
// when scopes is empty). It fails the test if the Provider refuses.
func (s *Server) Token(t testing.TB, sub Subject, scopes ...string) string {
	t.Helper()
	return s.mint(t, sub, scopes)["access_token"].(string)
}

// TokenPair is Token, also returning the refresh token (user tokens only).
func (s *Server) TokenPair(t testing.TB, sub Subject, scopes ...string) (access, refresh string) {
	t.Helper()
	out := s.mint(t, sub, scopes)
	refresh, _ = out["refresh_token"].(string)
	return out["access_token"].(string), refresh
}

// Revoke revokes every token of the grant that token belongs to, as the
// revocation endpoint does for a refresh token; for a lone access token,
// that token alone.
func (s *Server) Revoke(t testing.TB, token string) {
	t.Helper()
	tok, err := s.Store.Token(context.Background(), store.HashSecret(token))
	if err != nil {
		return
	}
	if tok.Family != "" {
		err = s.Store.RevokeFamily(context.Background(), tok.Family)
	} else {
		err = s.Store.RevokeToken(context.Background(), tok.Hash)
	}
	if err != nil {
		t.Fatalf("oauthtest: revoke: %v", err)
	}
}

func (s *Server) mint(t testing.TB, sub Subject, scopes []string) map[string]any {
	t.Helper()
	// the client is registered afresh with exactly the scopes asked for
	s.mintMu.Lock()
	defer s.mintMu.Unlock()
	clientID := ClientID
	form := url.Values{"scope": {strings.Join(scopes, " ")}}
	grants := []string{store.GrantPassword, store.GrantRefreshToken}
	if sub.client {
		clientID, grants = sub.id, []string{store.GrantClientCredentials}
		form.Set("grant_type", store.GrantClientCredentials)
	} else {
		s.users.add(sub.id, sub.username)
		form.Set("grant_type", store.GrantPassword)
		form.Set("username", sub.username)
		form.Set("password", s.password)
	}
	secret := random(t)
	ctx := context.Background()
	if err := s.Store.DeleteClient(ctx, clientID); err != nil {
		t.Fatalf("oauthtest: %v", err)
	}
	err := s.Store.CreateClient(ctx, &store.Client{
		ID: clientID, SecretHash: store.HashSecret(secret), AuthMethod: store.AuthSecretBasic,
		GrantTypes: grants, Scopes: scopes, CreatedAt: s.Now(),
	})
	if err != nil {
		t.Fatalf("oauthtest: %v", err)
	}
	req := httptest.NewRequest(http.MethodPost, "/oauth/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(clientID), url.QueryEscape(secret))
	rec := httptest.NewRecorder()
	s.token.ServeHTTP(rec, req)
	var out map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil || rec.Code != http.StatusOK {
		t.Fatalf("oauthtest: token request refused: %d %s", rec.Code, rec.Body)
	}
	return out
}

func random(t testing.TB) string {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// users is a UserStore of test users sharing one random password, so
// that no password hashing slows the tests.
type users struct {
	mu       sync.Mutex
	m        map[string]store.User
	password string
}

func (u *users) add(id, username string) {
	u.mu.Lock()
	u.m[username] = store.User{ID: id, Username: username}
	u.mu.Unlock()
}

func (u *users) Authenticate(_ context.Context, username, password string) (*store.User, error) {
	u.mu.Lock()
	usr, ok := u.m[username]
	u.mu.Unlock()
	if !ok || subtle.ConstantTimeCompare([]byte(password), []byte(u.password)) != 1 {
		return nil, store.ErrInvalidCredentials
	}
	return &usr, nil
}
