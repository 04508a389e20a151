package jwtverify

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"maps"

	jose "github.com/go-jose/go-jose/v4"
)

// Key is a public signature key with the one algorithm it is used with.
type Key struct {
	Alg    string
	Public crypto.PublicKey // ed25519.PublicKey, *ecdsa.PublicKey on P-256 or *rsa.PublicKey
}

// Equal reports whether k and o are the same key for the same algorithm.
func (k Key) Equal(o Key) bool {
	e, ok := k.Public.(interface{ Equal(crypto.PublicKey) bool })
	return k.Alg == o.Alg && ok && e.Equal(o.Public)
}

// Set is the usable keys of a JWK set, by kid ("" for the one key without
// a kid, if any).
type Set map[string]Key

// Lookup returns the key to verify a token of algorithm alg with: the key
// of kid; for a token without kid, the set's one key for alg, if it has
// exactly one. The key's algorithm may still differ from alg: Verify
// refuses that.
func (s Set) Lookup(kid, alg string) (Key, bool) {
	if kid != "" {
		k, ok := s[kid]
		return k, ok
	}
	var found Key
	n := 0
	for _, k := range s {
		if k.Alg == alg {
			found, n = k, n+1
		}
	}
	return found, n == 1
}

// Equal reports whether s and o hold the same keys under the same kids.
func (s Set) Equal(o Set) bool { return maps.EqualFunc(s, o, Key.Equal) }

// privateMembers are the JWK members that carry private or symmetric key
// material (RFC 7518 §6.2.2, §6.3.2, §6.4.1; RFC 8037 §2).
type privateMembers struct {
	D  json.RawMessage `json:"d"`
	P  json.RawMessage `json:"p"`
	Q  json.RawMessage `json:"q"`
	DP json.RawMessage `json:"dp"`
	DQ json.RawMessage `json:"dq"`
	QI json.RawMessage `json:"qi"`
	K  json.RawMessage `json:"k"`
}

func (m privateMembers) any() bool {
	return m.D != nil || m.P != nil || m.Q != nil || m.DP != nil || m.DQ != nil || m.QI != nil || m.K != nil
}

// ErrKeySet is returned by ParseSet for data that is not a JWK set, or a
// set that names one kid twice.
var ErrKeySet = errors.New("jwtverify: not a usable JWK set")

// ParseSet reads a JWK set with go-jose, keeping the public signature keys
// it can use and skipping the others: keys with private or symmetric
// material (never parsed), encryption keys, unknown key types, curves
// other than P-256, RSA keys under 2048 bits, and keys whose alg is not
// one their type is used with here. A set may hold no usable key.
func ParseSet(data []byte) (Set, error) {
	var set struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(data, &set); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrKeySet, err)
	}
	out := make(Set, len(set.Keys))
	for _, raw := range set.Keys {
		var priv privateMembers
		if json.Unmarshal(raw, &priv) != nil || priv.any() {
			continue
		}
		var j jose.JSONWebKey
		if j.UnmarshalJSON(raw) != nil {
			continue
		}
		k, ok := KeyOf(&j)
		if !ok {
			continue
		}
		if _, dup := out[j.KeyID]; dup {
			return nil, fmt.Errorf("%w: kid %q appears twice", ErrKeySet, j.KeyID)
		}
		out[j.KeyID] = k
	}
	return out, nil
}

// KeyOf pairs a public signature key that go-jose parsed with its
// algorithm: Ed25519 with EdDSA, P-256 with ES256, RSA (at least 2048 bits,
// an odd exponent of at least 3) with RS256, or PS256 when the JWK's alg
// says so. It reports false for private keys, encryption keys (use other
// than sig), other key types and curves, and a JWK whose alg is not its
// key's.
func KeyOf(j *jose.JSONWebKey) (Key, bool) {
	if !j.IsPublic() || j.Use != "" && j.Use != "sig" {
		return Key{}, false
	}
	var k Key
	switch pub := j.Key.(type) {
	case ed25519.PublicKey:
		k = Key{EdDSA, pub}
	case *ecdsa.PublicKey:
		if pub.Curve != elliptic.P256() {
			return Key{}, false
		}
		k = Key{ES256, pub}
	case *rsa.PublicKey:
		if pub.N.BitLen() < 2048 || pub.E < 3 || pub.E%2 != 1 {
			return Key{}, false
		}
		k = Key{RS256, pub}
		if j.Algorithm == PS256 {
			k.Alg = PS256
		}
	default:
		return Key{}, false
	}
	if j.Algorithm != "" && j.Algorithm != k.Alg {
		return Key{}, false
	}
	return k, true
}
