package grant

import (
	"crypto/ed25519"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/oauthkit/oauthkit/store"
)

// FuzzClientAssertion throws arbitrary client assertions, client IDs and
// assertion types at the token endpoint for a private_key_jwt client: it
// must answer every one with a JSON error or a token, never a panic or a
// 500, and accept nothing but an assertion signed with the client's key.
func FuzzClientAssertion(f *testing.F) {
	seed := make([]byte, ed25519.SeedSize)
	for i := range seed {
		seed[i] = byte(i + 7)
	}
	key := ed25519.NewKeyFromSeed(seed)
	set, _ := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: key.Public(), KeyID: "k1"}}})
	fx := newFixture(f, func(c *Config) {
		c.Throttle.PerAccount = store.Limit{Burst: 1 << 30, Every: time.Nanosecond}
		c.Throttle.PerAddress = c.Throttle.PerAccount
	})
	if err := fx.st.CreateClient(f.Context(), &store.Client{ID: "kc", AuthMethod: store.AuthPrivateKeyJWT, JWKS: set, GrantTypes: []string{store.GrantClientCredentials}}); err != nil {
		f.Fatal(err)
	}
	now := fx.clock.Now()
	sign := func(claims string) string {
		s, _ := jose.NewSigner(jose.SigningKey{Algorithm: jose.EdDSA, Key: key}, (&jose.SignerOptions{}).WithHeader("kid", "k1"))
		obj, _ := s.Sign([]byte(claims))
		raw, _ := obj.CompactSerialize()
		return raw
	}
	claims := func(jti string) string {
		b, _ := json.Marshal(map[string]any{"iss": "kc", "sub": "kc", "aud": fx.p.Issuer(), "exp": now.Add(time.Minute).Unix(), "jti": jti})
		return string(b)
	}
	f.Add(sign(claims("seed-1")), "kc", AssertionTypeJWTBearer)
	f.Add(sign(claims("seed-2")), "", AssertionTypeJWTBearer)
	f.Add(sign(`{"iss":"kc","sub":"kc","aud":["`+fx.p.Issuer()+`","x"],"exp":1e10,"jti":"j"}`), "kc", AssertionTypeJWTBearer)
	f.Add(sign(`{"iss":"kc","sub":"kc","aud":"`+fx.p.Issuer()+`","exp":"x","nbf":null,"iat":-1e300,"jti":"j"}`), "", AssertionTypeJWTBearer)
	f.Add("eyJhbGciOiJub25lIn0.eyJpc3MiOiJrYyJ9.", "kc", AssertionTypeJWTBearer)
	f.Add("a.b.c", "kc", "urn:x")
	f.Add("", "", AssertionTypeJWTBearer)
	h := fx.p.TokenHandler()
	f.Fuzz(func(t *testing.T, assertion, clientID, typ string) {
		form := url.Values{"grant_type": {"client_credentials"}, "client_assertion": {assertion}, "client_assertion_type": {typ}, "client_id": {clientID}}
		r := httptest.NewRequest("POST", "/oauth/token", strings.NewReader(form.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		switch {
		case w.Code >= 500:
			t.Fatalf("status %d: %s", w.Code, w.Body)
		case w.Code == http.StatusOK:
			s, _ := jose.ParseSignedCompact(assertion, []jose.SignatureAlgorithm{jose.EdDSA})
			if s == nil {
				t.Fatalf("accepted %q, which go-jose does not parse", assertion)
			}
			if _, err := s.Verify(key.Public()); err != nil {
				t.Fatalf("accepted %q, not signed with the client's key", assertion)
			}
		case !strings.Contains(w.Body.String(), `"error":"`):
			t.Fatalf("status %d without an error code: %s", w.Code, w.Body)
		}
	})
}

// TestAssertionSyntaxBeforeStore: an assertion whose iss is not a
// client_id (control characters, NUL, invalid UTF-8, too long), or that is
// not a compact JWS at all, is refused before any store is asked about it.
func TestAssertionSyntaxBeforeStore(t *testing.T) {
	clients := &countingClients{}
	f := newFixture(t, func(c *Config) { clients.ClientStore, c.Clients = c.Clients, clients })
	clients.n.Store(0) // NewProvider looked up the login client
	_, key, _ := ed25519.GenerateKey(nil)
	for _, iss := range []string{"kc\x00", "k\nc", "caf\xe9", strings.Repeat("k", maxClientIDBytes+1), ""} {
		payload, _ := json.Marshal(map[string]any{"iss": iss, "sub": iss, "aud": f.p.Issuer(), "exp": f.clock.Now().Add(time.Minute).Unix(), "jti": "j"})
		s, _ := jose.NewSigner(jose.SigningKey{Algorithm: jose.EdDSA, Key: key}, nil)
		obj, _ := s.Sign(payload)
		raw, _ := obj.CompactSerialize()
		for _, a := range []string{raw, "not-a-jws", raw + "="} {
			r := f.post("/oauth/token", url.Values{"grant_type": {"client_credentials"}, "client_assertion_type": {AssertionTypeJWTBearer}, "client_assertion": {a}}, "", "")
			if r.status != 401 && r.status != 429 {
				t.Errorf("iss %q: %d %s", iss, r.status, r.raw)
			}
		}
	}
	if n := clients.n.Load(); n != 0 {
		t.Errorf("the client store was asked %d times about malformed assertions", n)
	}
}
