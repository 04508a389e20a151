package grant

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"time"

	josejwt "github.com/go-jose/go-jose/v4/jwt"

	"github.com/oauthkit/oauthkit/internal/jwtverify"
	"github.com/oauthkit/oauthkit/internal/replay"
	"github.com/oauthkit/oauthkit/store"
)

// AssertionTypeJWTBearer is the client_assertion_type of a private_key_jwt
// client assertion (RFC 7523 §2.2).
const AssertionTypeJWTBearer = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

// typClientAuth is the explicit type of client assertions
// (draft-ietf-oauth-rfc7523bis §4).
const typClientAuth = "client-authentication+jwt"

// assertionSkew is the leeway for exp, nbf and iat, for clocks that differ.
const assertionSkew = 30 * time.Second

// maxJTIBytes bounds the jti of a client assertion.
const maxJTIBytes = 256

// assertionClaims are the claims RFC 7523 §3 reads. aud is kept raw to
// tell a string from an array.
type assertionClaims struct {
	Issuer    string               `json:"iss"`
	Subject   string               `json:"sub"`
	Audience  json.RawMessage      `json:"aud"`
	Expiry    *josejwt.NumericDate `json:"exp"`
	NotBefore *josejwt.NumericDate `json:"nbf"`
	IssuedAt  *josejwt.NumericDate `json:"iat"`
	ID        string               `json:"jti"`
}

// readAssertion completes credentials that carry a client assertion: it
// parses the assertion, and takes the client ID it claims (iss) as the one
// to authenticate; a client_id sent beside it must be the same (RFC 7521
// §4.2). A failure is kept in cr.assertionErr, to be answered once the
// attempt is throttled.
func (p *Provider) readAssertion(cr *credentials) {
	j, iss, e := p.parseAssertion(cr.assertionRaw)
	switch {
	case e != nil:
		cr.assertionErr = e
	case len(cr.ids) > 0 && cr.ids[0] != iss:
		cr.assertionErr = errClientDetail("client_id is not the assertion's iss")
	default:
		cr.assertion, cr.ids, cr.claimed = j, []string{iss}, iss
	}
}

// parseAssertion parses a client assertion (compact JWS, allowed
// algorithms only) and returns it with the client ID it claims: iss (RFC
// 7523 §3 item 1), of client-id syntax before any store is asked. Nothing
// is verified yet; iss only says which client's keys to try.
func (p *Provider) parseAssertion(raw string) (*jwtverify.JWT, string, *Error) {
	j, err := jwtverify.Parse(raw, p.cfg.ClientAuth.AssertionAlgorithms)
	if err != nil {
		return nil, "", errClientDetail(err.Error())
	}
	var c assertionClaims
	if err := j.UnverifiedClaims(&c); err != nil {
		return nil, "", errClientDetail("the assertion's claims are malformed")
	}
	if !validClientID(c.Issuer) {
		return nil, "", errClientDetail("iss is not a client_id")
	}
	return j, c.Issuer, nil
}

// authenticateAssertion authenticates a client by a private_key_jwt
// assertion (RFC 7521 §4.2, RFC 7523 §2.2 and §3), throttled as secrets
// are: a client or address in its wait is refused before the signature is
// looked at; every failure is charged, except those that are the server's
// (its store, or the client's jwks_uri out of reach).
func (p *Provider) authenticateAssertion(ctx context.Context, cr credentials, addr string) (*store.Client, *Error) {
	c, err := p.lookupClient(ctx, cr.ids)
	if err != nil {
		return nil, p.failure(ctx, "grant: client lookup failed", err)
	}
	account := ""
	if c != nil && c.AuthMethod == store.AuthPrivateKeyJWT {
		account = "client\x00" + c.ID
	}
	if e := p.throttleWait(ctx, account, addr); e != nil {
		return nil, e
	}
	e := cr.assertionErr
	if e == nil {
		e = p.checkAssertion(ctx, c, cr.assertion)
	}
	if e != nil {
		if !e.notCharged {
			p.throttleFailed(ctx, account, addr)
		}
		return nil, e
	}
	p.throttleSucceeded(ctx, account, addr)
	return c, nil
}

// checkAssertion verifies j as client c's assertion: c registered for
// private_key_jwt, the algorithm it registered (if any), typ, the
// signature with one of c's keys, then the claims, and last the jti, used
// once.
func (p *Provider) checkAssertion(ctx context.Context, c *store.Client, j *jwtverify.JWT) *Error {
	switch {
	case c == nil:
		return errClientDetail("unknown client")
	case c.AuthMethod != store.AuthPrivateKeyJWT:
		return errClientDetail("the client is not registered for private_key_jwt")
	case c.TokenEndpointAuthSigningAlg != "" && j.Alg != c.TokenEndpointAuthSigningAlg:
		return errClientDetail("the assertion is not signed with the client's token_endpoint_auth_signing_alg")
	case j.Type != "" && !jwtverify.TypeIs(j.Type, "JWT") && !jwtverify.TypeIs(j.Type, typClientAuth):
		return errClientDetail("typ names another kind of JWT")
	}
	key, e := p.clientKeys.key(ctx, c, j.KeyID, j.Alg)
	if e != nil {
		return e
	}
	var claims assertionClaims
	if err := j.Verify(key, &claims); err != nil {
		return errClientDetail(err.Error())
	}
	// From here on the assertion is the client's own: the answer may say
	// what is wrong with it.
	if e := p.checkAssertionClaims(&claims, c, jwtverify.TypeIs(j.Type, typClientAuth)); e != nil {
		return e
	}
	return p.useAssertionOnce(ctx, c, &claims)
}

// checkAssertionClaims applies RFC 7523 §3 to verified claims, with the
// audience rules of draft-ietf-oauth-rfc7523bis.
func (p *Provider) checkAssertionClaims(c *assertionClaims, client *store.Client, typed bool) *Error {
	now := p.cfg.Now()
	life := p.cfg.ClientAuth.AssertionMaxLifetime
	switch {
	case c.Issuer != client.ID || c.Subject != client.ID:
		return errAssertion("iss and sub must both be the client_id")
	case !p.assertionAudience(c.Audience, typed):
		return errAssertion(p.audienceRule(typed))
	case c.Expiry == nil:
		return errAssertion("exp is required")
	case now.After(c.Expiry.Time().Add(assertionSkew)):
		return errAssertion("the assertion has expired")
	case c.Expiry.Time().Sub(now) > life+assertionSkew:
		return errAssertion("exp is too far ahead: an assertion may live " + life.String() + " at most")
	case c.NotBefore != nil && c.NotBefore.Time().After(now.Add(assertionSkew)):
		return errAssertion("the assertion is not valid yet (nbf)")
	case c.IssuedAt != nil && c.IssuedAt.Time().After(now.Add(assertionSkew)):
		return errAssertion("iat is in the future")
	case c.IssuedAt != nil && now.Sub(c.IssuedAt.Time()) > life+assertionSkew:
		return errAssertion("iat is too far in the past: an assertion may live " + life.String() + " at most")
	case c.ID == "" || len(c.ID) > maxJTIBytes:
		return errAssertion("jti is required, of at most 256 bytes")
	}
	return nil
}

// assertionAudience applies draft-ietf-oauth-rfc7523bis: aud is the
// issuer identifier, alone, as a string. Unless
// ClientAuth.IssuerAudienceOnly, an assertion that is not explicitly typed
// may also name the token endpoint URL (RFC 7523 §3, OpenID Connect Core
// §9), and hold its one value in an array. Values are compared exactly
// (RFC 3986 §6.2.1).
func (p *Provider) assertionAudience(raw json.RawMessage, typed bool) bool {
	strict := typed || p.cfg.ClientAuth.IssuerAudienceOnly
	var aud string
	if err := json.Unmarshal(raw, &aud); err != nil {
		var list []string
		if strict || json.Unmarshal(raw, &list) != nil || len(list) != 1 {
			return false
		}
		aud = list[0]
	}
	return aud == p.cfg.Issuer || !strict && aud == p.tokenEndpointURL()
}

func (p *Provider) audienceRule(typed bool) string {
	if typed || p.cfg.ClientAuth.IssuerAudienceOnly {
		return "aud must be the issuer identifier " + p.cfg.Issuer + ", as a string"
	}
	return "aud must be the issuer identifier " + p.cfg.Issuer + " (or the token endpoint URL), alone"
}

// useAssertionOnce records the assertion's jti until it expires, in the
// replay cache that every instance sharing the store sees: the second use
// is refused (RFC 7523 §3 item 7).
func (p *Provider) useAssertionOnce(ctx context.Context, c *store.Client, claims *assertionClaims) *Error {
	sum := sha256.Sum256([]byte(c.ID + "\x00" + claims.ID))
	key := "client-assertion:" + base64.RawURLEncoding.EncodeToString(sum[:])
	first, err := p.cfg.ClientAuth.Replay.UseOnce(ctx, key, claims.Expiry.Time().Add(assertionSkew))
	switch {
	case errors.Is(err, replay.ErrFull):
		e := errBusy(time.Second)
		e.notCharged = true
		return e
	case err != nil:
		e := *p.failure(ctx, "grant: replay cache failed", err)
		e.notCharged = true
		return &e
	case !first:
		return errAssertion("the assertion was used before (jti)")
	}
	return nil
}

// errClientDetail is invalid_client for an assertion that is not (yet)
// known to be the client's: the answer is the same whatever is wrong, so
// that it tells nothing about clients or keys; detail goes to the log.
func errClientDetail(detail string) *Error {
	e := errClient(false)
	e.detail = detail
	return e
}

// errAssertion is invalid_client for an assertion signed with the client's
// key whose claims are wrong: only the key's holder could have made it, so
// the answer says what is wrong (RFC 7523 §3.2).
func errAssertion(desc string) *Error {
	e := errClient(false)
	e.Description = "client assertion refused: " + desc
	return e
}
