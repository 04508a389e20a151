// Package dpoptest makes DPoP proofs (RFC 9449) for tests: a client's key
// and its proofs, valid by default, with options that break one rule at a
// time. It signs with go-jose, the project's one JOSE library.
package dpoptest

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// Key is a client's DPoP key pair.
type Key struct {
	Alg     jose.SignatureAlgorithm
	Private crypto.Signer
	JWK     jose.JSONWebKey // the public key, as a proof's jwk header carries it
	JKT     string          // its RFC 7638 SHA-256 thumbprint, base64url
}

// NewKey returns a fresh key for alg: ES256, ES384, EdDSA, RS256 or PS256
// (RSA keys have 2048 bits).
func NewKey(t testing.TB, alg string) *Key {
	t.Helper()
	var (
		priv crypto.Signer
		err  error
	)
	switch jose.SignatureAlgorithm(alg) {
	case jose.ES256:
		priv, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case jose.ES384:
		priv, err = ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	case jose.EdDSA:
		_, priv, err = ed25519.GenerateKey(rand.Reader)
	case jose.RS256, jose.PS256:
		priv, err = rsa.GenerateKey(rand.Reader, 2048)
	default:
		t.Fatalf("dpoptest: unsupported alg %q", alg)
	}
	if err != nil {
		t.Fatal(err)
	}
	k := &Key{Alg: jose.SignatureAlgorithm(alg), Private: priv, JWK: jose.JSONWebKey{Key: priv.Public()}}
	tp, err := k.JWK.Thumbprint(crypto.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	k.JKT = base64.RawURLEncoding.EncodeToString(tp)
	return k
}

// ATH returns the ath claim for access token at: base64url(SHA-256(at)).
func ATH(at string) string {
	sum := sha256.Sum256([]byte(at))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// proof is what Proof signs, options applied.
type proof struct {
	header map[string]any
	claims map[string]any
	signer *Key
}

// Option changes a proof before it is signed.
type Option func(*proof)

// Token adds the ath of access token at (RFC 9449 §7).
func Token(at string) Option { return Claim("ath", ATH(at)) }

// Nonce adds a server-provided nonce.
func Nonce(n string) Option { return Claim("nonce", n) }

// IssuedAt sets iat.
func IssuedAt(t time.Time) Option { return Claim("iat", t.Unix()) }

// JTI sets jti.
func JTI(jti string) Option { return Claim("jti", jti) }

// Claim sets claim name to v; a nil v removes the claim.
func Claim(name string, v any) Option {
	return func(p *proof) {
		if v == nil {
			delete(p.claims, name)
		} else {
			p.claims[name] = v
		}
	}
}

// Header sets protected header parameter name (other than alg) to v; a nil
// v removes it.
func Header(name string, v any) Option {
	return func(p *proof) {
		if v == nil {
			delete(p.header, name)
		} else {
			p.header[name] = v
		}
	}
}

// SignedBy signs the proof with other's private key, keeping this key's
// jwk in the header.
func SignedBy(other *Key) Option { return func(p *proof) { p.signer = other } }

// Proof returns a DPoP proof by k for a request with method htm to htu,
// issued now with a random jti, changed by opts.
func (k *Key) Proof(t testing.TB, htm, htu string, opts ...Option) string {
	t.Helper()
	jti := make([]byte, 16)
	_, _ = rand.Read(jti)
	p := &proof{
		header: map[string]any{"typ": "dpop+jwt", "jwk": k.JWK},
		claims: map[string]any{"jti": base64.RawURLEncoding.EncodeToString(jti), "htm": htm, "htu": htu, "iat": time.Now().Unix()},
		signer: k,
	}
	for _, o := range opts {
		o(p)
	}
	extra := make(map[jose.HeaderKey]any, len(p.header))
	for name, v := range p.header {
		extra[jose.HeaderKey(name)] = v
	}
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: p.signer.Alg, Key: p.signer.Private}, &jose.SignerOptions{ExtraHeaders: extra})
	if err != nil {
		t.Fatal(err)
	}
	payload, err := json.Marshal(p.claims)
	if err != nil {
		t.Fatal(err)
	}
	jws, err := s.Sign(payload)
	if err != nil {
		t.Fatal(err)
	}
	out, err := jws.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return out
}
