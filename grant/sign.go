package grant

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/cryptosigner"
)

// Every JWS this package makes goes through go-jose, here: a signer is one
// SigningKey as a go-jose OpaqueSigner, and sign turns claims into a
// compact JWS with typ in its protected header. The next JWTs (OpenID
// Connect ID tokens, typ "JWT") are signed the same way:
// p.keys.Load().signer(AlgRS256).sign("JWT", claims).

// typAccessToken is the typ of JWT access tokens (RFC 9068 §2.1).
const typAccessToken = "at+jwt"

// signer is a checked SigningKey.
type signer struct {
	alg jose.SignatureAlgorithm
	// jwk is the public key as published in the JWKS: kid, alg, use sig.
	jwk jose.JSONWebKey
	// key signs for go-jose; its Public is jwk, so that go-jose puts the
	// kid in the protected header.
	key jose.OpaqueSigner
	// prefix is how every access token of this key begins: its protected
	// header, base64url, and the dot. It is taken from a token signed when
	// the key is loaded, and sign refuses an access token that does not
	// begin with it, so that looksLikeJWT always knows this key's tokens.
	prefix string
}

func newSigner(k SigningKey) (*signer, error) {
	if k.ID == "" || strings.ContainsAny(k.ID, "\"\\") || len(k.ID) > 128 {
		return nil, errors.New("grant: a signing key needs an ID of up to 128 characters, without quotes or backslashes")
	}
	s := &signer{}
	switch key := k.Key.(type) {
	case ed25519.PrivateKey:
		if len(key) != ed25519.PrivateKeySize {
			return nil, errors.New("grant: malformed Ed25519 key")
		}
		s.alg = jose.EdDSA
	case *ecdsa.PrivateKey:
		if key.Curve != elliptic.P256() {
			return nil, errors.New("grant: ECDSA signing keys must be on P-256 (ES256)")
		}
		s.alg = jose.ES256
	case *rsa.PrivateKey:
		if key.N.BitLen() < 2048 {
			return nil, errors.New("grant: RSA signing keys must have at least 2048 bits")
		}
		s.alg = jose.RS256
	default:
		return nil, fmt.Errorf("grant: unsupported signing key type %T", k.Key)
	}
	s.jwk = jose.JSONWebKey{Key: k.Key.Public(), KeyID: k.ID, Algorithm: string(s.alg), Use: "sig"}
	if _, err := s.jwk.MarshalJSON(); err != nil {
		return nil, fmt.Errorf("grant: signing key %q: %w", k.ID, err)
	}
	s.key = opaqueKey{cryptosigner.Opaque(deterministic{k.Key}), &s.jwk}
	probe, err := s.compact(typAccessToken, []byte("{}"))
	if err != nil {
		return nil, fmt.Errorf("grant: signing key %q: %w", k.ID, err)
	}
	s.prefix = probe[:strings.IndexByte(probe, '.')+1]
	return s, nil
}

// sign returns claims, as JSON, signed by s as a compact JWS whose
// protected header is alg, kid and typ. The same claims give the same
// token: every algorithm here signs deterministically (see deterministic).
func (s *signer) sign(typ string, claims any) (string, error) {
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", fmt.Errorf("grant: encoding JWT claims: %w", err)
	}
	raw, err := s.compact(typ, payload)
	if err != nil {
		return "", err
	}
	if typ == typAccessToken && !strings.HasPrefix(raw, s.prefix) {
		return "", errors.New("grant: the JWS header of an access token changed")
	}
	return raw, nil
}

// compact signs payload with go-jose.
func (s *signer) compact(typ string, payload []byte) (string, error) {
	js, err := jose.NewSigner(jose.SigningKey{Algorithm: s.alg, Key: s.key}, (&jose.SignerOptions{}).WithType(jose.ContentType(typ)))
	if err != nil {
		return "", fmt.Errorf("grant: JWS signer: %w", err)
	}
	obj, err := js.Sign(payload)
	if err != nil {
		return "", fmt.Errorf("grant: signing a JWS: %w", err)
	}
	return obj.CompactSerialize()
}

// opaqueKey is go-jose's OpaqueSigner for a crypto.Signer, with the public
// key that carries the kid.
type opaqueKey struct {
	jose.OpaqueSigner
	pub *jose.JSONWebKey
}

func (k opaqueKey) Public() *jose.JSONWebKey { return k.pub }

// deterministic signs without a random source. Ed25519 and RSASSA-PKCS1-v1_5
// signatures are deterministic anyway; crypto/ecdsa given none signs per
// RFC 6979. So the same claims under the same key give the same JWT, which
// an idempotent retry that signs a token again relies on.
type deterministic struct{ crypto.Signer }

func (d deterministic) Sign(_ io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	return d.Signer.Sign(nil, digest, opts)
}
