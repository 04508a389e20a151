package sharedtest

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/oauthkit/oauthkit/grant"
	"github.com/oauthkit/oauthkit/store"
	"github.com/oauthkit/oauthkit/store/storetest"
)

// AssertionReplay checks that a private_key_jwt client assertion is used
// once across two Providers, each on its own handle (a and b) to one shared
// database (RFC 7523 §3 item 7, in the store's store.ReplayCache): used at
// one instance, it is refused at the other; sent to both at once, twenty
// times, it gets exactly one token; a new assertion passes at either.
func AssertionReplay(t *testing.T, a, b storetest.Store) {
	if _, ok := a.(store.ReplayCache); !ok {
		t.Fatal("the store does not share one-time values (store.ReplayCache)")
	}
	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	set, _ := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: key.Public(), KeyID: "k1", Use: "sig"}}})
	err = a.CreateClient(t.Context(), &store.Client{ID: "keyed", AuthMethod: store.AuthPrivateKeyJWT, JWKS: set,
		GrantTypes: []string{store.GrantClientCredentials}, Scopes: []string{"read"}, CreatedAt: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	const issuer = "https://as.example.com"
	var hs []http.Handler
	for _, st := range []storetest.Store{a, b} {
		p, err := grant.NewProvider(grant.Config{Issuer: issuer, Clients: st, Tokens: st, Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			t.Fatal(err)
		}
		hs = append(hs, p.TokenHandler())
	}
	assertion := func() string {
		now := time.Now()
		claims, _ := json.Marshal(map[string]any{"iss": "keyed", "sub": "keyed", "aud": issuer,
			"iat": now.Unix(), "exp": now.Add(time.Minute).Unix(), "jti": rand.Text()})
		s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.EdDSA, Key: key}, (&jose.SignerOptions{}).WithHeader("kid", "k1"))
		if err != nil {
			t.Fatal(err)
		}
		obj, err := s.Sign(claims)
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := obj.CompactSerialize()
		return raw
	}
	token := func(h http.Handler, a string, addr string) int {
		form := url.Values{"grant_type": {"client_credentials"}, "client_assertion_type": {grant.AssertionTypeJWTBearer}, "client_assertion": {a}}
		r := httptest.NewRequest("POST", "/oauth/token", strings.NewReader(form.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		r.RemoteAddr = addr + ":40000"
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w.Code
	}
	first := assertion()
	if s := token(hs[0], first, "198.51.100.1"); s != 200 {
		t.Fatalf("instance 1, first use: %d", s)
	}
	if s := token(hs[1], first, "198.51.100.1"); s != http.StatusUnauthorized {
		t.Fatalf("instance 2, the assertion instance 1 took: %d, want 401", s)
	}
	both := assertion()
	var wg sync.WaitGroup
	var ok atomic.Int64
	for i := range 20 {
		wg.Go(func() {
			// each from its own address, so that no throttle interferes
			if token(hs[i%2], both, "203.0.113."+strconv.Itoa(i+1)) == 200 {
				ok.Add(1)
			}
		})
	}
	wg.Wait()
	if got := ok.Load(); got != 1 {
		t.Fatalf("one assertion sent 20 times to two instances at once: %d tokens, want 1", got)
	}
	for i, h := range hs {
		if s := token(h, assertion(), "198.51.100.2"); s != 200 {
			t.Fatalf("instance %d, a new assertion: %d", i+1, s)
		}
	}
}
