package middleware

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	josejwt "github.com/go-jose/go-jose/v4/jwt"
)

// Every JWS and JWK the JWKSValidator reads is parsed and verified by
// go-jose; this file holds the policy around it: which algorithms, keys,
// headers and claims are acceptable (RFC 8725, RFC 9068 §4).

// JWS algorithms a JWKSValidator can check. go-jose is handed only these,
// so "none" and the HMAC algorithms never reach a verifier, and the key
// set holds no symmetric key they could use.
const (
	algEdDSA = string(jose.EdDSA)
	algES256 = string(jose.ES256)
	algRS256 = string(jose.RS256)
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

// parseJWKS reads a key set with go-jose, keeping the public signature
// keys it can use and skipping the others: keys with private or symmetric
// material (never parsed), encryption keys, unknown key types, curves
// other than P-256, RSA keys under 2048 bits, and keys whose alg is not
// the one their type is used with here.
func parseJWKS(data []byte) (map[string]publicKey, error) {
	var set struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(data, &set); err != nil {
		return nil, fmt.Errorf("not a JWK set: %v", err)
	}
	out := make(map[string]publicKey, len(set.Keys))
	for _, raw := range set.Keys {
		var priv privateMembers
		if json.Unmarshal(raw, &priv) != nil || priv.any() {
			continue
		}
		var j jose.JSONWebKey
		if j.UnmarshalJSON(raw) != nil || !j.IsPublic() || j.Use != "" && j.Use != "sig" {
			continue
		}
		k, ok := signatureKey(j.Key)
		if !ok || j.Algorithm != "" && j.Algorithm != k.alg {
			continue
		}
		if _, dup := out[j.KeyID]; dup {
			return nil, fmt.Errorf("kid %q appears twice", j.KeyID)
		}
		out[j.KeyID] = k
	}
	return out, nil
}

// signatureKey pairs a public key go-jose parsed with its algorithm.
func signatureKey(key any) (publicKey, bool) {
	switch k := key.(type) {
	case ed25519.PublicKey:
		return publicKey{algEdDSA, k}, true
	case *ecdsa.PublicKey:
		return publicKey{algES256, k}, k.Curve == elliptic.P256()
	case *rsa.PublicKey:
		return publicKey{algRS256, k}, k.N.BitLen() >= 2048 && k.E >= 3 && k.E%2 == 1
	}
	return publicKey{}, false
}

// parsedJWT is a compact JWS parsed by go-jose whose header passed the
// checks, not yet verified.
type parsedJWT struct {
	alg, kid string
	jwt      *josejwt.JSONWebToken
	claims   atClaims // set by verify
}

// maxJWTBytes bounds the tokens parsed.
const maxJWTBytes = 8 << 10

// invalid wraps ErrInvalidToken with a reason, for logs.
func invalid(reason string) error { return fmt.Errorf("%w: %s", ErrInvalidToken, reason) }

// parseJWT parses a compact JWS with go-jose, with the allowed algorithms
// only, and applies RFC 8725 and RFC 9068 §4 to its header: typ at+jwt, no
// crit (nor b64, RFC 7797, which only comes with crit).
func parseJWT(raw string, allowed []string) (*parsedJWT, error) {
	if len(raw) > maxJWTBytes || !canonicalJWS(raw) {
		return nil, invalid("not a compact JWS")
	}
	algs := make([]jose.SignatureAlgorithm, len(allowed))
	for i, a := range allowed {
		algs[i] = jose.SignatureAlgorithm(a)
	}
	tok, err := josejwt.ParseSigned(raw, algs)
	if err != nil {
		if _, ok := errors.AsType[*jose.ErrUnexpectedSignatureAlgorithm](err); ok {
			return nil, invalid("algorithm not allowed")
		}
		return nil, invalid("not a compact JWS")
	}
	h := tok.Headers[0] // a compact JWS has one, and all of it is protected
	typ, _ := h.ExtraHeaders[jose.HeaderType].(string)
	_, crit := h.ExtraHeaders["crit"]
	_, b64 := h.ExtraHeaders["b64"]
	switch {
	case !strings.EqualFold(typ, "at+jwt") && !strings.EqualFold(typ, "application/at+jwt"):
		return nil, invalid("typ is not at+jwt")
	case crit || b64:
		return nil, invalid("unsupported critical header")
	}
	return &parsedJWT{alg: h.Algorithm, kid: h.KeyID, jwt: tok}, nil
}

// canonicalJWS reports whether raw is three parts of base64url as JWS has
// it (RFC 7515 §2: unpadded, no other characters, and no stray bits in the
// last character), so that a token has one spelling: go-jose's decoder
// lets nonzero trailing bits and line breaks through.
func canonicalJWS(raw string) bool {
	if strings.Count(raw, ".") != 2 {
		return false
	}
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	var buf [3]byte
	for part := range strings.SplitSeq(raw, ".") {
		if _, err := base64.RawURLEncoding.Strict().Decode(buf[:], []byte(part[len(part)-len(part)%4:])); err != nil {
			return false
		}
	}
	return true
}

// verify checks the signature with k, which must be a key for the token's
// algorithm, and then decodes the claims (go-jose's JSON: member names
// case-sensitive, duplicates refused).
func (j *parsedJWT) verify(k publicKey) error {
	if k.alg != j.alg {
		return invalid("the key is not for this algorithm")
	}
	err := j.jwt.Claims(k.key, &j.claims)
	switch {
	case errors.Is(err, jose.ErrCryptoFailure):
		return invalid("bad signature")
	case err != nil:
		return invalid("bad claims")
	}
	return nil
}

// atClaims are the RFC 9068 §2.2 claims.
type atClaims struct {
	josejwt.Claims
	ClientID string `json:"client_id"`
	Scope    string `json:"scope"`
}

// claimErrors name go-jose's claim validation failures.
var claimErrors = map[error]string{
	josejwt.ErrInvalidIssuer:     "wrong issuer",
	josejwt.ErrInvalidAudience:   "wrong audience",
	josejwt.ErrExpired:           "expired",
	josejwt.ErrNotValidYet:       "not yet valid",
	josejwt.ErrIssuedInTheFuture: "issued in the future",
}

// check applies RFC 9068 §4 and returns the token's contents. Subject is
// sub as sent, except for a token a client holds for itself (sub is
// ClientSubjectPrefix + its client_id): Subject is then empty, as for
// every validator in this package.
func (c *atClaims) check(iss string, aud audience, now time.Time, skew time.Duration) (*Token, error) {
	if c.Expiry == nil || c.IssuedAt == nil || c.Subject == "" || c.ClientID == "" || c.ID == "" {
		return nil, invalid("a required claim is missing")
	}
	err := c.ValidateWithLeeway(josejwt.Expected{Issuer: iss, Time: now}, skew)
	if err != nil {
		if reason, ok := claimErrors[err]; ok {
			return nil, invalid(reason)
		}
		return nil, invalid("bad claims")
	}
	if !aud.in(c.Audience) {
		return nil, invalid("wrong audience")
	}
	return &Token{
		ClientID: c.ClientID, Subject: tokenSubject(c.Subject, c.ClientID), Scopes: strings.Fields(c.Scope),
		IssuedAt: c.IssuedAt.Time(), ExpiresAt: c.Expiry.Time(), ID: c.ID, Issuer: c.Issuer, Audience: c.Audience,
	}, nil
}
