package jwtverify

import (
	"encoding/base64"
	"errors"
	"strings"

	jose "github.com/go-jose/go-jose/v4"
	josejwt "github.com/go-jose/go-jose/v4/jwt"
)

// The JWS algorithms this package can verify, each with its one key type:
// Ed25519 keys for EdDSA, P-256 keys for ES256, RSA keys of at least 2048
// bits for RS256 (or PS256, when the key's JWK says so).
const (
	EdDSA = string(jose.EdDSA)
	ES256 = string(jose.ES256)
	RS256 = string(jose.RS256)
	PS256 = string(jose.PS256)
)

// Algorithms lists every algorithm the package supports.
var Algorithms = []string{EdDSA, ES256, RS256, PS256}

// MaxTokenBytes bounds the tokens Parse reads.
const MaxTokenBytes = 8 << 10

// Errors of Parse and Verify. Each says why a token was refused, for logs.
var (
	ErrMalformed = errors.New("jwtverify: not a compact JWS")
	ErrAlgorithm = errors.New("jwtverify: algorithm not allowed")
	ErrCritical  = errors.New("jwtverify: unsupported critical header")
	ErrKeyAlg    = errors.New("jwtverify: the key is not for this algorithm")
	ErrSignature = errors.New("jwtverify: bad signature")
	ErrClaims    = errors.New("jwtverify: bad claims")
)

// JWT is a compact JWS parsed by go-jose whose header passed the checks,
// not yet verified.
type JWT struct {
	Alg   string // the header's alg, one of the allowed algorithms
	KeyID string // kid, or ""
	Type  string // typ, or ""
	// Header is the whole protected header, as go-jose read it (an
	// embedded jwk, for instance, is in Header.JSONWebKey). Keys embedded
	// in it are never used by Verify.
	Header jose.Header
	tok    *josejwt.JSONWebToken
}

// Parse parses raw with go-jose, with the allowed algorithms only (which
// must be among [Algorithms]). It refuses tokens longer than
// [MaxTokenBytes], in anything but canonical base64url ([Canonical]), or
// with a crit or b64 header.
func Parse(raw string, allowed []string) (*JWT, error) {
	if len(raw) > MaxTokenBytes || !Canonical(raw) {
		return nil, ErrMalformed
	}
	algs := make([]jose.SignatureAlgorithm, len(allowed))
	for i, a := range allowed {
		algs[i] = jose.SignatureAlgorithm(a)
	}
	tok, err := josejwt.ParseSigned(raw, algs)
	if err != nil {
		if _, ok := errors.AsType[*jose.ErrUnexpectedSignatureAlgorithm](err); ok {
			return nil, ErrAlgorithm
		}
		return nil, ErrMalformed
	}
	h := tok.Headers[0] // a compact JWS has one, and all of it is protected
	typ, _ := h.ExtraHeaders[jose.HeaderType].(string)
	_, crit := h.ExtraHeaders["crit"]
	_, b64 := h.ExtraHeaders["b64"]
	if crit || b64 {
		return nil, ErrCritical
	}
	return &JWT{Alg: h.Algorithm, KeyID: h.KeyID, Type: typ, Header: h, tok: tok}, nil
}

// Verify checks the signature with k, which must be a key for the token's
// algorithm, and then decodes the claims into each of claims.
func (j *JWT) Verify(k Key, claims ...any) error {
	if k.Alg != j.Alg || k.Public == nil {
		return ErrKeyAlg
	}
	err := j.tok.Claims(k.Public, claims...)
	switch {
	case errors.Is(err, jose.ErrCryptoFailure):
		return ErrSignature
	case err != nil:
		return ErrClaims
	}
	return nil
}

// UnverifiedClaims decodes the claims without checking the signature: to
// learn which key to verify with (the iss of a client assertion), never to
// trust them.
func (j *JWT) UnverifiedClaims(claims ...any) error {
	if err := j.tok.UnsafeClaimsWithoutVerification(claims...); err != nil {
		return ErrClaims
	}
	return nil
}

// Canonical reports whether raw is three parts of base64url as JWS has it
// (RFC 7515 §2: unpadded, no other characters, and no stray bits in the
// last character of a part), so that a token has one spelling: go-jose's
// decoder lets nonzero trailing bits and line breaks through.
func Canonical(raw string) bool {
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

// TypeIs reports whether the typ header value typ names the media type
// want (such as "at+jwt"): compared case-insensitively, with or without
// the "application/" prefix (RFC 7515 §4.1.9).
func TypeIs(typ, want string) bool {
	if len(typ) > len("application/") && strings.EqualFold(typ[:len("application/")], "application/") {
		typ = typ[len("application/"):]
	}
	return strings.EqualFold(typ, want)
}
