package middleware

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/big"
	"slices"
	"strings"
	"time"
)

// JWS algorithms a JWKSValidator can check.
const (
	algEdDSA = "EdDSA"
	algES256 = "ES256"
	algRS256 = "RS256"
)

// publicKey is one usable key of a key set, with the one algorithm it is
// for (RFC 8725 §3.1: a key is used with a single algorithm).
type publicKey struct {
	alg string
	key crypto.PublicKey // ed25519.PublicKey, *ecdsa.PublicKey or *rsa.PublicKey
}

func (k publicKey) equal(o publicKey) bool {
	e, ok := k.key.(interface{ Equal(crypto.PublicKey) bool })
	return k.alg == o.alg && ok && e.Equal(o.key)
}

// rawJWK is a JSON Web Key as published (RFC 7517, 7518, 8037).
type rawJWK struct {
	Kty string `json:"kty"`
	Kid string `json:"kid"`
	Use string `json:"use"`
	Alg string `json:"alg"`
	Crv string `json:"crv"`
	X   string `json:"x"`
	Y   string `json:"y"`
	N   string `json:"n"`
	E   string `json:"e"`
}

// parseJWKS reads a key set, keeping the signature keys it can use and
// skipping the others (encryption keys, other curves, short RSA keys).
func parseJWKS(data []byte) (map[string]publicKey, error) {
	var set struct {
		Keys []rawJWK `json:"keys"`
	}
	if err := json.Unmarshal(data, &set); err != nil {
		return nil, fmt.Errorf("not a JWK set: %v", err)
	}
	out := make(map[string]publicKey, len(set.Keys))
	for _, j := range set.Keys {
		if j.Use != "" && j.Use != "sig" {
			continue
		}
		k, err := j.publicKey()
		if err != nil {
			continue
		}
		if j.Alg != "" && j.Alg != k.alg {
			continue
		}
		if _, dup := out[j.Kid]; dup {
			return nil, fmt.Errorf("kid %q appears twice", j.Kid)
		}
		out[j.Kid] = k
	}
	return out, nil
}

func (j rawJWK) publicKey() (publicKey, error) {
	switch {
	case j.Kty == "OKP" && j.Crv == "Ed25519":
		x, err := b64decode(j.X)
		if err != nil || len(x) != ed25519.PublicKeySize {
			return publicKey{}, errors.New("bad Ed25519 key")
		}
		return publicKey{algEdDSA, ed25519.PublicKey(x)}, nil
	case j.Kty == "EC" && j.Crv == "P-256":
		x, err1 := b64decode(j.X)
		y, err2 := b64decode(j.Y)
		if err1 != nil || err2 != nil || len(x) != 32 || len(y) != 32 {
			return publicKey{}, errors.New("bad P-256 key")
		}
		pub, err := ecdsa.ParseUncompressedPublicKey(ellipticP256(), slices.Concat([]byte{4}, x, y))
		if err != nil {
			return publicKey{}, err
		}
		return publicKey{algES256, pub}, nil
	case j.Kty == "RSA":
		n, err1 := b64decode(j.N)
		e, err2 := b64decode(j.E)
		if err1 != nil || err2 != nil || len(e) == 0 || len(e) > 4 {
			return publicKey{}, errors.New("bad RSA key")
		}
		pub := &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(new(big.Int).SetBytes(e).Int64())}
		if pub.N.BitLen() < 2048 || pub.E < 3 || pub.E%2 == 0 {
			return publicKey{}, errors.New("RSA key too short or malformed")
		}
		return publicKey{algRS256, pub}, nil
	}
	return publicKey{}, errors.New("unsupported key type")
}

// parsedJWT is a compact JWS split and decoded, not yet verified.
type parsedJWT struct {
	alg, kid string
	input    string // header.payload, what the signature covers
	sig      []byte
	claims   atClaims
}

// maxJWTBytes bounds the tokens parsed.
const maxJWTBytes = 8 << 10

// invalid wraps ErrInvalidToken with a reason, for logs.
func invalid(reason string) error { return fmt.Errorf("%w: %s", ErrInvalidToken, reason) }

// parseJWT decodes a compact JWS whose header passes RFC 8725 and RFC 9068
// §4 checks: an allowed alg, typ at+jwt, no crit.
func parseJWT(raw string, allowed []string) (*parsedJWT, error) {
	if len(raw) > maxJWTBytes || strings.Count(raw, ".") != 2 {
		return nil, invalid("not a compact JWS")
	}
	h64, rest, _ := strings.Cut(raw, ".")
	p64, s64, _ := strings.Cut(rest, ".")
	hdr, err1 := b64decode(h64)
	payload, err2 := b64decode(p64)
	sig, err3 := b64decode(s64)
	if err1 != nil || err2 != nil || err3 != nil {
		return nil, invalid("bad base64url")
	}
	var h struct {
		Alg  string          `json:"alg"`
		Kid  string          `json:"kid"`
		Typ  string          `json:"typ"`
		Crit json.RawMessage `json:"crit"`
	}
	if err := strictJSON(hdr, &h); err != nil {
		return nil, invalid("bad header")
	}
	switch {
	case !slices.Contains(allowed, h.Alg):
		return nil, invalid("algorithm not allowed")
	case !strings.EqualFold(h.Typ, "at+jwt") && !strings.EqualFold(h.Typ, "application/at+jwt"):
		return nil, invalid("typ is not at+jwt")
	case h.Crit != nil:
		return nil, invalid("unsupported critical header")
	}
	j := &parsedJWT{alg: h.Alg, kid: h.Kid, input: raw[:len(h64)+1+len(p64)], sig: sig}
	if err := strictJSON(payload, &j.claims); err != nil {
		return nil, invalid("bad claims")
	}
	return j, nil
}

// strictJSON decodes one JSON object, with nothing after it.
func strictJSON(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("trailing data")
	}
	return nil
}

// verify checks the signature with k, which must be a key for the
// token's algorithm.
func (j *parsedJWT) verify(k publicKey) error {
	if k.alg != j.alg {
		return invalid("the key is not for this algorithm")
	}
	ok := false
	switch key := k.key.(type) {
	case ed25519.PublicKey:
		ok = ed25519.Verify(key, []byte(j.input), j.sig)
	case *ecdsa.PublicKey:
		if len(j.sig) == 64 {
			h := sha256.Sum256([]byte(j.input))
			r, s := new(big.Int).SetBytes(j.sig[:32]), new(big.Int).SetBytes(j.sig[32:])
			ok = ecdsa.Verify(key, h[:], r, s)
		}
	case *rsa.PublicKey:
		h := sha256.Sum256([]byte(j.input))
		ok = rsa.VerifyPKCS1v15(key, crypto.SHA256, h[:], j.sig) == nil
	}
	if !ok {
		return invalid("bad signature")
	}
	return nil
}

// atClaims are the RFC 9068 §2.2 claims.
type atClaims struct {
	Iss      string   `json:"iss"`
	Sub      string   `json:"sub"`
	Aud      audience `json:"aud"`
	Exp      *numDate `json:"exp"`
	Nbf      *numDate `json:"nbf"`
	Iat      *numDate `json:"iat"`
	Jti      string   `json:"jti"`
	ClientID string   `json:"client_id"`
	Scope    string   `json:"scope"`
}

// audience is aud as a string or an array of strings.
type audience []string

func (a *audience) UnmarshalJSON(b []byte) error {
	var s string
	if json.Unmarshal(b, &s) == nil {
		*a = audience{s}
		return nil
	}
	var l []string
	if err := json.Unmarshal(b, &l); err != nil {
		return err
	}
	*a = l
	return nil
}

// numDate is a NumericDate (RFC 7519 §2), in whole seconds.
type numDate int64

func (d *numDate) UnmarshalJSON(b []byte) error {
	var f float64
	if err := json.Unmarshal(b, &f); err != nil {
		return err
	}
	if f < 0 || f > 1<<40 || math.IsNaN(f) {
		return errors.New("date out of range")
	}
	*d = numDate(f)
	return nil
}

func (d *numDate) time() time.Time { return time.Unix(int64(*d), 0) }

// check applies RFC 9068 §4 and returns the token's contents. A sub equal
// to client_id marks a client_credentials token (RFC 9068 §2.2): Subject is
// left empty for it, as for every validator in this package.
func (c *atClaims) check(iss, aud string, now time.Time, skew time.Duration) (*Token, error) {
	switch {
	case c.Iss != iss:
		return nil, invalid("wrong issuer")
	case !slices.Contains(c.Aud, aud):
		return nil, invalid("wrong audience")
	case c.Exp == nil || c.Iat == nil || c.Sub == "" || c.ClientID == "" || c.Jti == "":
		return nil, invalid("a required claim is missing")
	case !now.Before(c.Exp.time().Add(skew)):
		return nil, invalid("expired")
	case c.Nbf != nil && now.Add(skew).Before(c.Nbf.time()):
		return nil, invalid("not yet valid")
	case now.Add(skew).Before(c.Iat.time()):
		return nil, invalid("issued in the future")
	}
	t := &Token{
		ClientID: c.ClientID, Subject: c.Sub, Scopes: strings.Fields(c.Scope),
		IssuedAt: c.Iat.time(), ExpiresAt: c.Exp.time(), ID: c.Jti, Issuer: c.Iss, Audience: c.Aud,
	}
	if t.Subject == t.ClientID {
		t.Subject = ""
	}
	return t, nil
}

// b64decode decodes unpadded base64url, as JWS requires.
func b64decode(s string) ([]byte, error) { return base64.RawURLEncoding.Strict().DecodeString(s) }

func ellipticP256() elliptic.Curve { return elliptic.P256() }
