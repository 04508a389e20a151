package grant

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/oauthkit/oauthkit/middleware"
	"github.com/oauthkit/oauthkit/store"
	"github.com/oauthkit/oauthkit/store/memory"
)

// The OpenID Connect benchmarks, each with its baseline in the same run:
//
//	go test -run '^$' -bench 'IDToken|CodeExchange|UserInfo' -benchmem ./grant
//
//   - BenchmarkIDTokenSign: an ID token per algorithm, against encoding its
//     claims alone (the part that is not the signature).
//   - BenchmarkCodeExchange: the token endpoint redeeming a code, for a
//     plain OAuth request and for an OpenID request per algorithm.
//   - BenchmarkUserInfo: the UserInfo endpoint, against the same bare
//     handler behind middleware.RequireOAuth (the token lookup and scope
//     check alone) and without protection.

var benchKeys = sync.OnceValues(func() ([]SigningKey, error) {
	var keys []SigningKey
	for _, alg := range []string{AlgRS256, AlgES256, AlgEdDSA} {
		k, err := GenerateSigningKey(alg)
		if err != nil {
			return nil, err
		}
		keys = append(keys, k)
	}
	return keys, nil
})

// benchOIDCProvider is an OpenID Provider on the memory store with one
// confidential client per ID token algorithm (rs, es, ed), plus the
// secret they share.
func benchOIDCProvider(b *testing.B) (*Provider, *memory.Store, string) {
	keys, err := benchKeys()
	if err != nil {
		b.Fatal(err)
	}
	st := memory.New()
	secret, hash, err := NewClientSecret()
	if err != nil {
		b.Fatal(err)
	}
	for id, alg := range map[string]string{"rs": AlgRS256, "es": AlgES256, "ed": AlgEdDSA} {
		err := st.CreateClient(context.Background(), &store.Client{
			ID: id, AuthMethod: store.AuthSecretBasic, SecretHash: hash, IDTokenSignedResponseAlg: alg,
			RedirectURIs: []string{"https://rp.example/cb"}, GrantTypes: []string{store.GrantAuthorizationCode},
			Scopes: []string{"openid", "profile", "email", "read"},
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	p, err := NewProvider(Config{
		Issuer: "https://op.example.com", Clients: st, Tokens: st, SigningKeys: keys,
		Logger: slog.New(slog.DiscardHandler),
		OIDC: OIDC{Enabled: true, Claims: func(context.Context, *store.User) (*UserClaims, error) {
			return &UserClaims{Name: "User One", PreferredUsername: "user1", Email: "user1@example.com", EmailVerified: true}, nil
		}},
	})
	if err != nil {
		b.Fatal(err)
	}
	return p, st, secret
}

func BenchmarkIDTokenSign(b *testing.B) {
	p, st, _ := benchOIDCProvider(b)
	g := store.Token{Subject: "1", Scopes: []string{"openid"}, AuthTime: time.Unix(1_700_000_000, 0)}
	iat := time.Unix(1_700_000_100, 0)
	b.Run("baseline=claims-json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := json.Marshal(idTokenClaims{Iss: p.cfg.Issuer, Sub: g.Subject, Aud: "rs", Exp: iat.Unix() + 3600, Iat: iat.Unix(), AuthTime: g.AuthTime.Unix(), Nonce: "n-0S6_WzA2Mj"}); err != nil {
				b.Fatal(err)
			}
		}
	})
	for _, tc := range []struct{ name, client string }{{"EdDSA", "ed"}, {"ES256", "es"}, {"RS256", "rs"}} {
		c, err := st.Client(context.Background(), tc.client)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := p.signIDToken(c, g, iat, "n-0S6_WzA2Mj"); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkCodeExchange(b *testing.B) {
	p, st, secret := benchOIDCProvider(b)
	h := p.TokenHandler()
	ctx := context.Background()
	const verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
	const challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
	for _, tc := range []struct{ name, client, scope string }{
		{"baseline=oauth", "rs", "read"}, {"openid-EdDSA", "ed", "openid"}, {"openid-ES256", "es", "openid"}, {"openid-RS256", "rs", "openid"},
	} {
		c, err := st.Client(ctx, tc.client)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				b.StopTimer()
				req := &authRequest{client: c, redirectURI: "https://rp.example/cb", sentURI: "https://rp.example/cb",
					scopes: []string{tc.scope}, challenge: challenge, oidc: &oidcRequest{nonce: "n"}, authTime: time.Now()}
				code, err := p.newCode(ctx, req, &store.User{ID: "1", Username: "user1"})
				if err != nil {
					b.Fatal(err)
				}
				form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {"https://rp.example/cb"}, "code_verifier": {verifier}}
				r := httptest.NewRequest(http.MethodPost, "/oauth/token", strings.NewReader(form.Encode()))
				r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				r.SetBasicAuth(tc.client, secret)
				w := httptest.NewRecorder()
				b.StartTimer()
				h.ServeHTTP(w, r)
				if w.Code != http.StatusOK || (tc.scope == "openid") != strings.Contains(w.Body.String(), `"id_token"`) {
					b.Fatalf("%d %s", w.Code, w.Body)
				}
			}
		})
	}
}

func BenchmarkUserInfo(b *testing.B) {
	p, st, _ := benchOIDCProvider(b)
	raw, hash, err := newSecret(PrefixAccessToken)
	if err != nil {
		b.Fatal(err)
	}
	now := time.Now()
	err = st.CreateToken(context.Background(), &store.Token{
		Hash: hash, Kind: store.KindAccess, ClientID: "rs", Subject: "1", Username: "user1",
		Scopes: []string{"openid", "profile", "email"}, IssuedAt: now, ExpiresAt: now.Add(time.Hour),
	})
	if err != nil {
		b.Fatal(err)
	}
	bare := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`{"sub":"1","name":"User One","preferred_username":"user1","email":"user1@example.com","email_verified":true}`))
	})
	req := httptest.NewRequest(http.MethodGet, "/oauth/userinfo", nil)
	req.Header.Set("Authorization", "Bearer "+raw)
	for _, tc := range []struct {
		name string
		h    http.Handler
	}{
		{"baseline=bare", bare},
		{"baseline=RequireOAuth", middleware.RequireOAuth(p, "openid")(bare)},
		{"userinfo", p.UserInfoHandler()},
	} {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				w := httptest.NewRecorder()
				tc.h.ServeHTTP(w, req)
				if w.Code != http.StatusOK {
					b.Fatalf("%d %s", w.Code, w.Body)
				}
			}
		})
	}
}
