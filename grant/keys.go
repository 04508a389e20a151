package grant

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
)

// TokenFormat says what access tokens look like.
type TokenFormat string

// Access token formats.
const (
	// FormatOpaque tokens are "okat_" and 256 random bits: only the
	// authorization server can read them (resource servers apart from it use
	// introspection).
	FormatOpaque TokenFormat = "opaque"
	// FormatJWT tokens are RFC 9068 JWTs signed with Config.SigningKeys:
	// resource servers can check them with the published JWKS alone.
	FormatJWT TokenFormat = "jwt"
)

// JWS algorithms a SigningKey may use.
const (
	AlgEdDSA = "EdDSA" // Ed25519 (RFC 8037); the default
	AlgES256 = "ES256" // ECDSA P-256 with SHA-256
	AlgRS256 = "RS256" // RSASSA-PKCS1-v1_5 with SHA-256, keys of at least 2048 bits
)

// SigningKey is a private key that signs JWT access tokens.
type SigningKey struct {
	// ID is the key's kid: unique among the keys ever published.
	ID string
	// Key is an ed25519.PrivateKey, an *ecdsa.PrivateKey on P-256, or an
	// *rsa.PrivateKey of at least 2048 bits; the algorithm follows from it.
	Key crypto.Signer
}

// GenerateSigningKey returns a new key for alg (AlgEdDSA, AlgES256 or
// AlgRS256) with a random kid.
func GenerateSigningKey(alg string) (SigningKey, error) {
	var (
		k   crypto.Signer
		err error
	)
	switch alg {
	case AlgEdDSA:
		_, k, err = ed25519.GenerateKey(rand.Reader)
	case AlgES256:
		k, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case AlgRS256:
		k, err = rsa.GenerateKey(rand.Reader, 2048)
	default:
		return SigningKey{}, fmt.Errorf("grant: unsupported signing algorithm %q", alg)
	}
	if err != nil {
		return SigningKey{}, fmt.Errorf("grant: generating a key: %w", err)
	}
	var id [12]byte
	if _, err := rand.Read(id[:]); err != nil {
		return SigningKey{}, err
	}
	return SigningKey{ID: base64.RawURLEncoding.EncodeToString(id[:]), Key: k}, nil
}

// signer is a checked SigningKey, with the encoded JWS header its tokens
// start with.
type signer struct {
	kid    string
	alg    string
	key    crypto.Signer
	prefix string // base64url(header) + "."
	jwk    jwk
}

// keySet is the signing keys in force: the first signs.
type keySet struct {
	signers []*signer
}

func newKeySet(keys []SigningKey) (*keySet, error) {
	if len(keys) == 0 {
		return nil, errors.New("grant: JWT access tokens need at least one signing key")
	}
	ks := &keySet{}
	seen := map[string]bool{}
	for _, k := range keys {
		s, err := newSigner(k)
		if err != nil {
			return nil, err
		}
		if seen[k.ID] {
			return nil, fmt.Errorf("grant: signing key ID %q is used twice", k.ID)
		}
		seen[k.ID] = true
		ks.signers = append(ks.signers, s)
	}
	return ks, nil
}

func newSigner(k SigningKey) (*signer, error) {
	if k.ID == "" || strings.ContainsAny(k.ID, "\"\\") || len(k.ID) > 128 {
		return nil, errors.New("grant: a signing key needs an ID of up to 128 characters, without quotes or backslashes")
	}
	s := &signer{kid: k.ID, key: k.Key}
	switch key := k.Key.(type) {
	case ed25519.PrivateKey:
		if len(key) != ed25519.PrivateKeySize {
			return nil, errors.New("grant: malformed Ed25519 key")
		}
		s.alg = AlgEdDSA
		s.jwk = jwk{Kty: "OKP", Crv: "Ed25519", X: b64(key.Public().(ed25519.PublicKey))}
	case *ecdsa.PrivateKey:
		if key.Curve != elliptic.P256() {
			return nil, errors.New("grant: ECDSA signing keys must be on P-256 (ES256)")
		}
		s.alg = AlgES256
		pub, err := key.PublicKey.Bytes() // 0x04 || X || Y
		if err != nil {
			return nil, fmt.Errorf("grant: ECDSA key: %w", err)
		}
		s.jwk = jwk{Kty: "EC", Crv: "P-256", X: b64(pub[1:33]), Y: b64(pub[33:])}
	case *rsa.PrivateKey:
		if key.N.BitLen() < 2048 {
			return nil, errors.New("grant: RSA signing keys must have at least 2048 bits")
		}
		s.alg = AlgRS256
		s.jwk = jwk{Kty: "RSA", N: b64(key.N.Bytes()), E: b64(bigEndian(key.E))}
	default:
		return nil, fmt.Errorf("grant: unsupported signing key type %T", k.Key)
	}
	s.jwk.Kid, s.jwk.Alg, s.jwk.Use = s.kid, s.alg, "sig"
	hdr, err := json.Marshal(struct {
		Alg string `json:"alg"`
		Kid string `json:"kid"`
		Typ string `json:"typ"`
	}{s.alg, s.kid, "at+jwt"})
	if err != nil {
		return nil, err
	}
	s.prefix = b64(hdr) + "."
	return s, nil
}

// current is the key that signs.
func (ks *keySet) current() *signer { return ks.signers[0] }

// SetSigningKeys replaces the signing keys of a Provider issuing JWT access
// tokens: the first signs from now on, and all are published. To rotate
// without invalidating live tokens, publish the next key first (list it
// second), wait for resource servers' JWKS caches to expire, then make it
// first, and drop the old key only once the tokens it signed have expired.
// A token whose key is no longer listed is refused, also by ValidateToken.
func (p *Provider) SetSigningKeys(keys ...SigningKey) error {
	if p.cfg.AccessTokenFormat != FormatJWT {
		return errors.New("grant: SetSigningKeys needs AccessTokenFormat FormatJWT")
	}
	ks, err := newKeySet(keys)
	if err != nil {
		return err
	}
	p.keys.Store(ks)
	return nil
}

// setTokenDefaults checks the access token format settings.
func (c *Config) setTokenDefaults() error {
	c.Endpoints.setDefaults()
	switch c.AccessTokenFormat {
	case "":
		c.AccessTokenFormat = FormatOpaque
	case FormatOpaque:
	case FormatJWT:
		if len(c.Audience) == 0 {
			return errors.New("grant: JWT access tokens need Config.Audience (RFC 9068 §2.2)")
		}
		if _, err := newKeySet(c.SigningKeys); err != nil {
			return err
		}
	default:
		return fmt.Errorf("grant: unknown AccessTokenFormat %q", c.AccessTokenFormat)
	}
	return nil
}

// keyStore holds the keys in force; a field of Provider.
type keyStore = atomic.Pointer[keySet]

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func bigEndian(e int) []byte {
	var out []byte
	for ; e > 0; e >>= 8 {
		out = append([]byte{byte(e)}, out...)
	}
	return out
}
