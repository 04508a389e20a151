package grant

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"

	jose "github.com/go-jose/go-jose/v4"
)

func testKeySet(t *testing.T, algs ...string) (*keySet, []SigningKey) {
	t.Helper()
	var keys []SigningKey
	for _, alg := range algs {
		k, err := GenerateSigningKey(alg)
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, k)
	}
	ks, err := newKeySet(keys)
	if err != nil {
		t.Fatal(err)
	}
	return ks, keys
}

// verifyWith checks raw's signature with go-jose against s's published key
// and returns its header.
func verifyWith(t *testing.T, s *signer, raw string) jose.Header {
	t.Helper()
	jws, err := jose.ParseSignedCompact(raw, []jose.SignatureAlgorithm{s.alg})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := jws.Verify(s.jwk.Key); err != nil {
		t.Fatalf("signature: %v", err)
	}
	return jws.Signatures[0].Protected
}

// An idempotent retry signs the same claims again and must get the same
// token: every algorithm signs deterministically (ECDSA per RFC 6979).
func TestSignDeterministic(t *testing.T) {
	for _, alg := range []string{AlgEdDSA, AlgES256, AlgRS256} {
		t.Run(alg, func(t *testing.T) {
			ks, _ := testKeySet(t, alg)
			cl := jwtClaims{Jti: "j1", Iss: "https://as.example.com", Sub: "1", Aud: "api", Exp: 2000, Iat: 1000, ClientID: "app"}
			a, err := ks.sign(typAccessToken, cl)
			if err != nil {
				t.Fatal(err)
			}
			b, err := ks.sign(typAccessToken, cl)
			if err != nil {
				t.Fatal(err)
			}
			if a != b {
				t.Errorf("the same claims signed twice differ:\n%s\n%s", a, b)
			}
			cl.Jti = "j2"
			if c, _ := ks.sign(typAccessToken, cl); c == a {
				t.Error("other claims gave the same token")
			}
			verifyWith(t, ks.signer(""), a)
		})
	}
}

// The protected header of a key's access tokens is the same bytes for every
// token, and those of the hand-written signer that came before go-jose, so
// that looksLikeJWT still knows tokens issued before an upgrade.
func TestSignHeaderPrefix(t *testing.T) {
	for _, alg := range []string{AlgEdDSA, AlgES256, AlgRS256} {
		ks, keys := testKeySet(t, alg)
		s := ks.signer("")
		want := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"`+alg+`","kid":"`+keys[0].ID+`","typ":"at+jwt"}`)) + "."
		if s.prefix != want {
			t.Errorf("%s: prefix %q, want %q", alg, s.prefix, want)
		}
		for i := range 3 {
			raw, err := ks.sign(typAccessToken, map[string]any{"jti": strings.Repeat("x", i)})
			if err != nil || !strings.HasPrefix(raw, s.prefix) {
				t.Errorf("%s: token %q (%v) does not begin with %q", alg, raw, err, s.prefix)
			}
		}
	}
}

// A key set may hold keys of several algorithms: the current (first) key
// signs by default, the first key of an algorithm signs for it. This is
// the lookup the next JWTs (ID tokens: typ JWT, RS256 by default) use.
func TestKeySetSignerByAlgorithm(t *testing.T) {
	ks, keys := testKeySet(t, AlgEdDSA, AlgRS256, AlgES256, AlgRS256)
	for alg, kid := range map[string]string{"": keys[0].ID, AlgEdDSA: keys[0].ID, AlgRS256: keys[1].ID, AlgES256: keys[2].ID} {
		s := ks.signer(alg)
		if s == nil || s.jwk.KeyID != kid {
			t.Fatalf("signer(%q) = %+v, want kid %s", alg, s, kid)
		}
		raw, err := s.sign("JWT", map[string]string{"sub": "1"})
		if err != nil {
			t.Fatal(err)
		}
		h := verifyWith(t, s, raw)
		if h.KeyID != kid || h.ExtraHeaders[jose.HeaderType] != "JWT" || h.Algorithm != string(s.alg) {
			t.Errorf("signer(%q): header %+v", alg, h)
		}
	}
	if s := ks.signer("HS256"); s != nil {
		t.Errorf("signer(HS256) = %v", s.jwk.KeyID)
	}
	raw, err := ks.sign("JWT", map[string]string{"sub": "1"})
	if err != nil || !strings.HasPrefix(raw, "ey") || strings.HasPrefix(raw, ks.signer("").prefix) {
		t.Errorf("typ JWT token %q (%v) shares the access tokens' header", raw, err)
	}
}

// The JWKS holds public parts only, each with kid, alg and use sig.
func TestJWKSPublicOnly(t *testing.T) {
	ks, keys := testKeySet(t, AlgEdDSA, AlgES256, AlgRS256)
	for i, s := range ks.signers {
		b, err := json.Marshal(s.jwk)
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatal(err)
		}
		for _, private := range []string{"d", "p", "q", "dp", "dq", "qi", "k"} {
			if _, ok := m[private]; ok {
				t.Errorf("%s: published JWK has %q: %s", s.alg, private, b)
			}
		}
		if m["kid"] != keys[i].ID || m["alg"] != string(s.alg) || m["use"] != "sig" {
			t.Errorf("%s: JWK %s", s.alg, b)
		}
		if !s.jwk.IsPublic() {
			t.Errorf("%s: the JWK holds a private key", s.alg)
		}
	}
}
