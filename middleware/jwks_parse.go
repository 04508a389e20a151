package middleware

import (
	"errors"
	"fmt"
	"strings"
	"time"

	josejwt "github.com/go-jose/go-jose/v4/jwt"

	"github.com/oauthkit/oauthkit/internal/jwtverify"
)

// Every JWS and JWK the JWKSValidator reads is parsed and verified by
// go-jose, through internal/jwtverify (RFC 8725: algorithm allow-list,
// canonical encoding, no crit, public signature keys only); this file holds
// what RFC 9068 §4 adds: typ at+jwt and the claims.

// JWS algorithms a JWKSValidator can check. go-jose is handed only these,
// so "none" and the HMAC algorithms never reach a verifier, and the key
// set holds no symmetric key they could use.
const (
	algEdDSA = jwtverify.EdDSA
	algES256 = jwtverify.ES256
	algRS256 = jwtverify.RS256
)

// parsedJWT is a compact JWS parsed by go-jose whose header passed the
// checks, not yet verified.
type parsedJWT struct {
	*jwtverify.JWT
	claims atClaims // set by verify
}

// invalid wraps ErrInvalidToken with a reason, for logs.
func invalid(reason string) error { return fmt.Errorf("%w: %s", ErrInvalidToken, reason) }

// parseJWT parses a compact JWS with go-jose, with the allowed algorithms
// only (package jwtverify: canonical base64url, bounded, no crit nor b64),
// and applies RFC 9068 §4 to its header: typ at+jwt.
func parseJWT(raw string, allowed []string) (*parsedJWT, error) {
	j, err := jwtverify.Parse(raw, allowed)
	switch {
	case errors.Is(err, jwtverify.ErrAlgorithm):
		return nil, invalid("algorithm not allowed")
	case errors.Is(err, jwtverify.ErrCritical):
		return nil, invalid("unsupported critical header")
	case err != nil:
		return nil, invalid("not a compact JWS")
	case !jwtverify.TypeIs(j.Type, "at+jwt"):
		return nil, invalid("typ is not at+jwt")
	}
	return &parsedJWT{JWT: j}, nil
}

// verify checks the signature with k, which must be a key for the token's
// algorithm, and then decodes the claims (go-jose's JSON: member names
// case-sensitive, duplicates refused).
func (j *parsedJWT) verify(k jwtverify.Key) error {
	err := j.Verify(k, &j.claims)
	switch {
	case errors.Is(err, jwtverify.ErrKeyAlg):
		return invalid("the key is not for this algorithm")
	case errors.Is(err, jwtverify.ErrSignature):
		return invalid("bad signature")
	case err != nil:
		return invalid("bad claims")
	}
	return nil
}

// atClaims are the RFC 9068 §2.2 claims.
type atClaims struct {
	josejwt.Claims
	ClientID string         `json:"client_id"`
	Scope    string         `json:"scope"`
	Cnf      map[string]any `json:"cnf"` // RFC 7800; jkt for DPoP (RFC 9449 §6.1)
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
	jkt, err := confirmationJKT(c.Cnf)
	if err != nil {
		return nil, err
	}
	return &Token{
		ClientID: c.ClientID, Subject: tokenSubject(c.Subject, c.ClientID), Scopes: strings.Fields(c.Scope),
		IssuedAt: c.IssuedAt.Time(), ExpiresAt: c.Expiry.Time(), ID: c.ID, Issuer: c.Issuer, Audience: c.Audience,
		JKT: jkt,
	}, nil
}
