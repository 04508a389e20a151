package jwtverify

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"testing"

	jose "github.com/go-jose/go-jose/v4"
)

func setJSON(tb testing.TB, keys ...jose.JSONWebKey) []byte {
	tb.Helper()
	b, err := json.Marshal(jose.JSONWebKeySet{Keys: keys})
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

func TestParseSet(t *testing.T) {
	ed, ec := fixedKeys(t)
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	rk, _ := rsa.GenerateKey(rand.Reader, 2048)
	small, _ := rsa.GenerateKey(rand.Reader, 1024)
	data := setJSON(t,
		jose.JSONWebKey{Key: ed.Public(), KeyID: "ed", Algorithm: EdDSA, Use: "sig"},
		jose.JSONWebKey{Key: ec.Public(), KeyID: "ec"},
		jose.JSONWebKey{Key: rk.Public(), KeyID: "rs"},
		jose.JSONWebKey{Key: rk.Public(), KeyID: "ps", Algorithm: PS256},
		jose.JSONWebKey{Key: ed, KeyID: "private"},
		jose.JSONWebKey{Key: []byte("0123456789abcdef0123456789abcdef"), KeyID: "oct"},
		jose.JSONWebKey{Key: ec.Public(), KeyID: "enc", Use: "enc"},
		jose.JSONWebKey{Key: ec.Public(), KeyID: "wrong-alg", Algorithm: RS256},
		jose.JSONWebKey{Key: p384.Public(), KeyID: "p384"},
		jose.JSONWebKey{Key: small.Public(), KeyID: "small"},
	)
	s, err := ParseSet(data)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"ed": EdDSA, "ec": ES256, "rs": RS256, "ps": PS256}
	if len(s) != len(want) {
		t.Errorf("kept %d keys, want %d: %v", len(s), len(want), s)
	}
	for kid, alg := range want {
		if s[kid].Alg != alg {
			t.Errorf("kid %s: alg %q, want %s", kid, s[kid].Alg, alg)
		}
	}
	// A public part beside private members is still not taken.
	if s, err := ParseSet([]byte(`{"keys":[{"kty":"OKP","crv":"Ed25519","x":"` + b64(string(ed.Public().(ed25519.PublicKey))) + `","p":"AA"}]}`)); err != nil || len(s) != 0 {
		t.Errorf("a key with p: %v %v", s, err)
	}
	for name, bad := range map[string]string{
		"not JSON": `{`, "array": `[]`, "keys not an array": `{"keys":{}}`,
		"duplicate kid": string(setJSON(t, jose.JSONWebKey{Key: ed.Public(), KeyID: "a"}, jose.JSONWebKey{Key: ec.Public(), KeyID: "a"})),
	} {
		if _, err := ParseSet([]byte(bad)); !errors.Is(err, ErrKeySet) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestSetLookup(t *testing.T) {
	ed, ec := fixedKeys(t)
	s := Set{"a": {EdDSA, ed.Public()}, "b": {ES256, ec.Public()}}
	if k, ok := s.Lookup("a", ES256); !ok || k.Alg != EdDSA {
		t.Errorf("by kid: %v %v", k, ok)
	}
	if _, ok := s.Lookup("c", EdDSA); ok {
		t.Error("unknown kid found")
	}
	if k, ok := s.Lookup("", ES256); !ok || k.Alg != ES256 {
		t.Errorf("no kid, one key of the alg: %v %v", k, ok)
	}
	s["c"] = Key{ES256, ec.Public()}
	if _, ok := s.Lookup("", ES256); ok {
		t.Error("no kid, two keys of the alg: found one")
	}
	if !s.Equal(Set{"a": {EdDSA, ed.Public()}, "b": {ES256, ec.Public()}, "c": {ES256, ec.Public()}}) || s.Equal(Set{"a": {EdDSA, ed.Public()}}) {
		t.Error("Equal")
	}
}
