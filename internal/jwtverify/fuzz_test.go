package jwtverify

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"errors"
	"slices"
	"testing"

	jose "github.com/go-jose/go-jose/v4"
)

// FuzzParse feeds arbitrary tokens to Parse and Verify: they never panic,
// refuse with the package's errors, and accept only canonical tokens of an
// allowed algorithm, verified with a key for it.
func FuzzParse(f *testing.F) {
	ed, ec := fixedKeys(f)
	keys := []Key{{EdDSA, ed.Public()}, {ES256, ec.Public()}}
	f.Add(signWith(f, jose.EdDSA, ed, map[jose.HeaderKey]any{"kid": "k", "typ": "JWT"}, `{"sub":"x","aud":"a"}`))
	f.Add(signWith(f, jose.ES256, ec, nil, `{"sub":"x"}`))
	f.Add(signRaw(ed, `{"alg":"EdDSA","crit":["b64"],"b64":false}`, `{}`))
	f.Add("a.b.c")
	f.Add("..")
	f.Add("eyJhbGciOiJub25lIn0.e30.")
	allowed := []string{EdDSA, ES256, RS256}
	known := []error{ErrMalformed, ErrAlgorithm, ErrCritical, ErrKeyAlg, ErrSignature, ErrClaims}
	isKnown := func(err error) bool {
		return slices.ContainsFunc(known, func(e error) bool { return errors.Is(err, e) })
	}
	f.Fuzz(func(t *testing.T, raw string) {
		j, err := Parse(raw, allowed)
		if err != nil {
			if !isKnown(err) {
				t.Fatalf("refused with %v", err)
			}
			return
		}
		if !Canonical(raw) || !slices.Contains(allowed, j.Alg) || len(raw) > MaxTokenBytes {
			t.Fatalf("accepted %q with alg %q", raw, j.Alg)
		}
		var claims map[string]any
		for _, k := range keys {
			if err := j.Verify(k, &claims); err != nil && !isKnown(err) {
				t.Fatalf("verify: %v", err)
			} else if err == nil && k.Alg != j.Alg {
				t.Fatalf("verified an %s token with an %s key", j.Alg, k.Alg)
			}
		}
		if err := j.Verify(Key{Alg: j.Alg}, &claims); err == nil {
			t.Fatal("verified without a key")
		}
		_ = j.UnverifiedClaims(&claims)
	})
}

// FuzzParseSet feeds arbitrary key sets to ParseSet: it never panics, and
// keeps only public signature keys paired with their algorithm.
func FuzzParseSet(f *testing.F) {
	ed, ec := fixedKeys(f)
	f.Add(string(setJSON(f, jose.JSONWebKey{Key: ed.Public(), KeyID: "ed", Algorithm: "EdDSA", Use: "sig"},
		jose.JSONWebKey{Key: ec.Public(), KeyID: "ec", Algorithm: "ES256", Use: "sig"})))
	f.Add(string(setJSON(f, jose.JSONWebKey{Key: ed, KeyID: "private"}, jose.JSONWebKey{Key: []byte("0123456789abcdef0123456789abcdef"), KeyID: "oct"})))
	f.Add(`{"keys":[{"kty":"RSA","kid":"r","n":"sXch","e":"AQAB","alg":"PS256"},{"kty":"EC","crv":"P-384","x":"","y":""},{"kty":"OKP","crv":"X25519","x":"AA"}]}`)
	f.Add(`{"keys":[{"kty":"EC","kid":"a","use":"enc"}],"x":1}`)
	f.Add(`{}`)
	f.Add(`[]`)
	f.Fuzz(func(t *testing.T, data string) {
		s, err := ParseSet([]byte(data))
		if err != nil {
			if !errors.Is(err, ErrKeySet) {
				t.Fatalf("refused with %v", err)
			}
			return
		}
		for kid, k := range s {
			switch key := k.Public.(type) {
			case ed25519.PublicKey:
				if k.Alg != EdDSA || len(key) != ed25519.PublicKeySize {
					t.Fatalf("kid %q: %s key %x", kid, k.Alg, key)
				}
			case *ecdsa.PublicKey:
				if k.Alg != ES256 || key.Curve != elliptic.P256() {
					t.Fatalf("kid %q: %s key on %v", kid, k.Alg, key.Curve)
				}
			case *rsa.PublicKey:
				if k.Alg != RS256 && k.Alg != PS256 || key.N.BitLen() < 2048 {
					t.Fatalf("kid %q: %s key of %d bits", kid, k.Alg, key.N.BitLen())
				}
			default:
				t.Fatalf("kid %q: key %T", kid, k.Public)
			}
		}
	})
}
