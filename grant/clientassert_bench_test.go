package grant_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/oauthkit/oauthkit/grant"
	"github.com/oauthkit/oauthkit/store"
	"github.com/oauthkit/oauthkit/store/memory"
)

// BenchmarkIssuePrivateKeyJWT compares, in one run, a client_credentials
// token for a client_secret_basic client (a SHA-256 and a constant-time
// compare) with the same for private_key_jwt clients of each algorithm
// (parse, one signature verification with a cached key, the claim checks
// and a replay-cache write), through the token endpoint on the memory
// store:
//
//	go test -run '^$' -bench IssuePrivateKeyJWT -benchmem ./grant
//
// The client's signing is outside the timer.
func BenchmarkIssuePrivateKeyJWT(b *testing.B) {
	st := memory.New()
	secret, hash, err := grant.NewClientSecret()
	if err != nil {
		b.Fatal(err)
	}
	var keys []*keyClient
	regs := []*store.Client{}
	for _, alg := range []jose.SignatureAlgorithm{jose.EdDSA, jose.ES256, jose.RS256, jose.PS256} {
		k := newKeyClient(b, "kc-"+string(alg), alg, "k1")
		keys = append(keys, k)
		regs = append(regs, k.registration(b))
	}
	regs = append(regs, &store.Client{ID: "svc", SecretHash: hash, AuthMethod: store.AuthSecretBasic,
		GrantTypes: []string{store.GrantClientCredentials}, Scopes: []string{"read"}})
	for _, c := range regs {
		if err := st.CreateClient(context.Background(), c); err != nil {
			b.Fatal(err)
		}
	}
	p, err := grant.NewProvider(grant.Config{Issuer: "https://as.example.com", Clients: st, Tokens: st, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	h := p.TokenHandler()
	serve := func(b *testing.B, r *http.Request) {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != http.StatusOK {
			b.Fatalf("status %d: %s", w.Code, w.Body)
		}
	}
	b.Run("client_secret_basic", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			r := tokenRequest(secret)
			r.Body = io.NopCloser(strings.NewReader("grant_type=client_credentials"))
			serve(b, r)
		}
	})
	for _, k := range keys {
		b.Run("private_key_jwt-"+string(k.alg), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				b.StopTimer()
				form := assertionForm(k.sign(b, k.claims(p.Issuer(), time.Now()), nil), nil).Encode()
				b.StartTimer()
				r := httptest.NewRequest("POST", "/oauth/token", strings.NewReader(form))
				r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				serve(b, r)
			}
		})
	}
}
