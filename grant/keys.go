package grant

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"errors"
	"fmt"
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

// keySet is the signing keys in force, in the order given: the first is
// the current key, and signs unless a caller asks for another algorithm
// (then the first key of that algorithm signs). All are published.
type keySet struct {
	signers []*signer // sign.go
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

// signer returns the key that signs with alg: the first key of that
// algorithm, or the current key when alg is empty; nil if the set holds
// no key for alg.
func (ks *keySet) signer(alg string) *signer {
	for _, s := range ks.signers {
		if alg == "" || string(s.alg) == alg {
			return s
		}
	}
	return nil
}

// sign signs claims with the current key as a compact JWS whose header
// has typ (see signer.sign).
func (ks *keySet) sign(typ string, claims any) (string, error) {
	return ks.signer("").sign(typ, claims)
}

// SetSigningKeys replaces the signing keys of a Provider issuing JWT access
// tokens or OpenID Connect ID tokens: the first signs access tokens from
// now on, the first of each algorithm signs the ID tokens of that
// algorithm, and all are published. To rotate without invalidating live
// tokens, publish the next key first (list it second), wait for resource
// servers' and relying parties' JWKS caches to expire, then make it first,
// and drop the old key only once the tokens it signed have expired. A token
// whose key is no longer listed is refused, also by ValidateToken. With
// OpenID Connect the set must keep an RS256 key.
func (p *Provider) SetSigningKeys(keys ...SigningKey) error {
	if !p.usesKeys() {
		return errors.New("grant: SetSigningKeys needs AccessTokenFormat FormatJWT or Config.OIDC")
	}
	ks, err := newKeySet(keys)
	if err != nil {
		return err
	}
	if p.cfg.OIDC.Enabled {
		if err := ks.checkOIDC(); err != nil {
			return err
		}
	}
	p.keys.Store(ks)
	return nil
}

// usesKeys reports whether the Provider signs anything: JWT access tokens
// or ID tokens.
func (p *Provider) usesKeys() bool {
	return p.cfg.AccessTokenFormat == FormatJWT || p.cfg.OIDC.Enabled
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
