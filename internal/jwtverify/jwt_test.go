package jwtverify

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"errors"
	"strings"
	"testing"

	jose "github.com/go-jose/go-jose/v4"
)

func b64(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

// fixedKeys are deterministic keys, so that fuzz seeds signed with them
// verify.
func fixedKeys(tb testing.TB) (ed25519.PrivateKey, *ecdsa.PrivateKey) {
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

func signWith(tb testing.TB, alg jose.SignatureAlgorithm, key crypto.Signer, extra map[jose.HeaderKey]any, payload string) string {
	tb.Helper()
	opts := &jose.SignerOptions{}
	for k, v := range extra {
		opts = opts.WithHeader(k, v)
	}
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

// signRaw signs header and payload, as given, with an Ed25519 key: for
// tokens no JOSE library would make.
func signRaw(key ed25519.PrivateKey, header, payload string) string {
	input := b64(header) + "." + b64(payload)
	return input + "." + base64.RawURLEncoding.EncodeToString(ed25519.Sign(key, []byte(input)))
}

func TestParseRefuses(t *testing.T) {
	ed, _ := fixedKeys(t)
	good := signRaw(ed, `{"alg":"EdDSA","kid":"k"}`, `{"sub":"x"}`)
	if _, err := Parse(good, Algorithms); err != nil {
		t.Fatalf("a good token: %v", err)
	}
	for name, c := range map[string]struct {
		raw     string
		allowed []string
		want    error
	}{
		"alg none":           {b64(`{"alg":"none"}`) + "." + b64(`{}`) + ".", Algorithms, ErrAlgorithm},
		"alg HS256":          {signRaw(ed, `{"alg":"HS256"}`, `{}`), Algorithms, ErrAlgorithm},
		"alg not allowed":    {good, []string{ES256}, ErrAlgorithm},
		"crit":               {signRaw(ed, `{"alg":"EdDSA","crit":["exp"],"exp":1}`, `{}`), Algorithms, ErrCritical},
		"b64":                {signRaw(ed, `{"alg":"EdDSA","b64":false}`, `{}`), Algorithms, ErrCritical},
		"padding":            {good + "=", Algorithms, ErrMalformed},
		"line break":         {strings.Replace(good, ".", ".\n", 1), Algorithms, ErrMalformed},
		"two parts":          {good[:strings.LastIndexByte(good, '.')], Algorithms, ErrMalformed},
		"four parts":         {good + ".x", Algorithms, ErrMalformed},
		"standard base64":    {strings.ReplaceAll(strings.ReplaceAll(good, "-", "+"), "_", "/") + "+", Algorithms, ErrMalformed},
		"too long":           {signRaw(ed, `{"alg":"EdDSA"}`, `{"x":"`+strings.Repeat("a", MaxTokenBytes)+`"}`), Algorithms, ErrMalformed},
		"header not JSON":    {b64(`{alg`) + "." + b64(`{}`) + "." + b64("sig"), Algorithms, ErrMalformed},
		"JSON serialization": {`{"payload":"e30","protected":"` + b64(`{"alg":"EdDSA"}`) + `","signature":"AA"}`, Algorithms, ErrMalformed},
	} {
		if _, err := Parse(c.raw, c.allowed); !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", name, err, c.want)
		}
	}
}

// A stray bit in the last character of a part gives a second spelling of
// the same token: refused.
func TestParseStrayBits(t *testing.T) {
	ed, _ := fixedKeys(t)
	good := signRaw(ed, `{"alg":"EdDSA"}`, `{"sub":"x"}`)
	sig := good[strings.LastIndexByte(good, '.')+1:]
	last := sig[len(sig)-1]
	alphabet := "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	i := strings.IndexByte(alphabet, last)
	stray := good[:len(good)-1] + string(alphabet[i^1])
	if _, err := Parse(stray, Algorithms); !errors.Is(err, ErrMalformed) {
		t.Fatalf("stray bits: %v", err)
	}
}

func TestVerify(t *testing.T) {
	ed, ec := fixedKeys(t)
	_, other, _ := ed25519.GenerateKey(rand.Reader)
	rk, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	var claims struct {
		Sub string `json:"sub"`
	}
	tok, err := Parse(signWith(t, jose.EdDSA, ed, map[jose.HeaderKey]any{"kid": "k", "typ": "JWT"}, `{"sub":"alice"}`), Algorithms)
	if err != nil {
		t.Fatal(err)
	}
	if tok.Alg != EdDSA || tok.KeyID != "k" || tok.Type != "JWT" {
		t.Fatalf("header: %+v", tok)
	}
	if err := tok.Verify(Key{EdDSA, ed.Public()}, &claims); err != nil || claims.Sub != "alice" {
		t.Fatalf("good key: %v %+v", err, claims)
	}
	if err := tok.Verify(Key{EdDSA, other.Public()}, &claims); !errors.Is(err, ErrSignature) {
		t.Errorf("other key: %v", err)
	}
	if err := tok.Verify(Key{ES256, ec.Public()}, &claims); !errors.Is(err, ErrKeyAlg) {
		t.Errorf("a key for another algorithm: %v", err)
	}
	if err := tok.Verify(Key{Alg: EdDSA}, &claims); !errors.Is(err, ErrKeyAlg) {
		t.Errorf("no key: %v", err)
	}
	// Claims: case-sensitive member names, no duplicates.
	for _, payload := range []string{`{"sub":"a","sub":"b"}`, `[1]`, `{"sub":1}`} {
		tok, err := Parse(signRaw(ed, `{"alg":"EdDSA"}`, payload), Algorithms)
		if err != nil {
			t.Fatal(err)
		}
		if err := tok.Verify(Key{EdDSA, ed.Public()}, &claims); !errors.Is(err, ErrClaims) {
			t.Errorf("payload %s: %v", payload, err)
		}
	}
	tok, _ = Parse(signRaw(ed, `{"alg":"EdDSA"}`, `{"SUB":"bob"}`), Algorithms)
	claims.Sub = ""
	if err := tok.Verify(Key{EdDSA, ed.Public()}, &claims); err != nil || claims.Sub != "" {
		t.Errorf("SUB read as sub: %q %v", claims.Sub, err)
	}
	// PS256 and RS256 each need a key for that algorithm.
	ps, err := Parse(signWith(t, jose.PS256, rk, nil, `{"sub":"p"}`), Algorithms)
	if err != nil {
		t.Fatal(err)
	}
	if err := ps.Verify(Key{PS256, rk.Public()}, &claims); err != nil {
		t.Errorf("PS256: %v", err)
	}
	if err := ps.Verify(Key{RS256, rk.Public()}, &claims); !errors.Is(err, ErrKeyAlg) {
		t.Errorf("PS256 token with an RS256 key: %v", err)
	}
	// An embedded key is never used: the header's jwk is the signer's own.
	jwk := jose.JSONWebKey{Key: other.Public()}
	emb, err := Parse(signWith(t, jose.EdDSA, other, map[jose.HeaderKey]any{"jwk": jwk}, `{"sub":"mallory"}`), Algorithms)
	if err != nil {
		t.Fatal(err)
	}
	if emb.Header.JSONWebKey == nil {
		t.Fatal("the embedded jwk is not in Header")
	}
	if err := emb.Verify(Key{EdDSA, ed.Public()}, &claims); !errors.Is(err, ErrSignature) {
		t.Errorf("embedded key: %v", err)
	}
}

func TestTypeIs(t *testing.T) {
	for typ, want := range map[string]bool{
		"at+jwt": true, "AT+JWT": true, "application/at+jwt": true, "Application/At+Jwt": true,
		"": false, "application/": false, "jwt": false, "at+jwt ": false, "xapplication/at+jwt": false, "application/application/at+jwt": false,
	} {
		if got := TypeIs(typ, "at+jwt"); got != want {
			t.Errorf("TypeIs(%q, at+jwt) = %v", typ, got)
		}
	}
}
