package middleware

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"errors"
	"slices"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/oauthkit/oauthkit/internal/jwtverify"
)

// fuzzKeys are fixed keys, so that the seeds signed with them verify and
// the fuzzer's mutations of good tokens reach the claim checks.
func fuzzKeys(tb testing.TB) (crypto.Signer, crypto.Signer) {
	tb.Helper()
	seed := make([]byte, ed25519.SeedSize)
	for i := range seed {
		seed[i] = byte(i + 1)
	}
	d := make([]byte, 32)
	d[31] = 7
	ec, err := ecdsa.ParseRawPrivateKey(elliptic.P256(), d)
	if err != nil {
		tb.Fatal(err)
	}
	return ed25519.NewKeyFromSeed(seed), ec
}

func fuzzSign(tb testing.TB, alg jose.SignatureAlgorithm, key crypto.Signer, typ string, payload string) string {
	tb.Helper()
	opts := (&jose.SignerOptions{}).WithHeader("kid", string(alg)).WithType(jose.ContentType(typ))
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: key}, opts)
	if err != nil {
		tb.Fatal(err)
	}
	obj, err := s.Sign([]byte(payload))
	if err != nil {
		tb.Fatal(err)
	}
	raw, err := obj.CompactSerialize()
	if err != nil {
		tb.Fatal(err)
	}
	return raw
}

// FuzzParseJWT feeds arbitrary tokens to the JWT parser, the signature
// check and the claim checks: they must never panic, refuse with
// ErrInvalidToken, and whatever they accept must be well-formed.
func FuzzParseJWT(f *testing.F) {
	ed, ec := fuzzKeys(f)
	keys := []jwtverify.Key{{Alg: algEdDSA, Public: ed.Public()}, {Alg: algES256, Public: ec.Public()}}
	const claims = `{"iss":"https://as","sub":"1","aud":["api"],"exp":2000,"iat":900,"jti":"x","client_id":"app","scope":"a b"}`
	f.Add(fuzzSign(f, jose.EdDSA, ed, "at+jwt", claims))
	f.Add(fuzzSign(f, jose.ES256, ec, "application/at+jwt", claims))
	f.Add(fuzzSign(f, jose.EdDSA, ed, "at+jwt", `{"iss":"https://as","sub":"client:app","aud":"api","exp":2000,"iat":900,"jti":"x","client_id":"app"}`))
	f.Add(fuzzSign(f, jose.EdDSA, ed, "JWT", claims))
	f.Add("eyJhbGciOiJFZERTQSIsImtpZCI6ImsxIiwidHlwIjoiYXQrand0In0.eyJpc3MiOiJodHRwczovL2FzIiwic3ViIjoiMSIsImF1ZCI6WyJhcGkiXSwiZXhwIjoyMDAwMDAwMDAwLCJpYXQiOjEsImp0aSI6IngiLCJjbGllbnRfaWQiOiJhcHAifQ.c2ln")
	f.Add("a.b.c")
	f.Add("..")
	f.Add("eyJhbGciOiJub25lIn0.e30.")
	all := []string{algEdDSA, algES256, algRS256}
	now := time.Unix(1000, 0)
	f.Fuzz(func(t *testing.T, raw string) {
		j, err := parseJWT(raw, all)
		if err != nil {
			if !errors.Is(err, ErrInvalidToken) {
				t.Fatalf("refused with %v, not ErrInvalidToken", err)
			}
			return
		}
		if !jwtverify.Canonical(raw) || !slices.Contains(all, j.Alg) {
			t.Fatalf("accepted %q: alg %q", raw, j.Alg)
		}
		wellFormed := func(c *atClaims) {
			tok, err := c.check("https://as", newAudience("api"), now, time.Minute)
			if err != nil {
				if !errors.Is(err, ErrInvalidToken) {
					t.Fatalf("claims refused with %v", err)
				}
				return
			}
			if tok.ClientID == "" || tok.ID == "" || !now.Before(tok.ExpiresAt.Add(time.Minute)) ||
				tok.Issuer != "https://as" || !slices.Contains(tok.Audience, "api") || tok.Subject == ClientSubjectPrefix+tok.ClientID {
				t.Fatalf("accepted claims without required values: %+v", tok)
			}
		}
		for _, k := range keys {
			if err := j.verify(k); err == nil {
				wellFormed(&j.claims)
			} else if !errors.Is(err, ErrInvalidToken) {
				t.Fatalf("verify: %v", err)
			}
		}
		if err := j.verify(jwtverify.Key{Alg: j.Alg}); err == nil {
			t.Fatal("verified without a key")
		}
		// the claim checks also see what the fuzzer makes of the payload
		var c atClaims
		if j.UnverifiedClaims(&c) == nil {
			wellFormed(&c)
		}
	})
}
