package grant

import (
	"errors"
	"fmt"
	"time"

	"github.com/oauthkit/oauthkit/internal/jwtverify"
	"github.com/oauthkit/oauthkit/store"
)

// ID tokens (OpenID Connect Core §2, §3.1.3.6) are JWTs of typ "JWT" signed
// with go-jose by the first key of the client's id_token_signed_response_alg
// in the Provider's one key set (sign.go, keys.go): RS256 unless the client
// registered ES256 or EdDSA. They carry iss, sub (the user's ID), aud (the
// client_id, alone: so no azp is needed, §2), exp, iat, auth_time when the
// time of the authentication is known, and the nonce of the authorization
// request, when it had one. No at_hash: it is optional in the code flow,
// where the access token comes from the token endpoint itself (§3.1.3.6),
// and Core defines no hash for EdDSA. The claims are the same, in the same
// order, for the same grant and time, and every algorithm here signs
// deterministically, so that a refresh retried within the grace gets the
// same ID token again (refresh_retry.go).
//
// A refresh of an OpenID grant (refresh tokens are issued to them only with
// offline_access, see oidc.go) answers with a new ID token: same iss, sub,
// aud and auth_time, a new iat and exp, and no nonce (Core §12.2). A grant
// whose authentication time is unknown (a host's own session without
// AuthorizeOptions.AuthTime, or a password grant that asked for openid) gets
// none on refresh, which §12.2 allows.

// typIDToken is the typ of ID tokens.
const typIDToken = "JWT"

// idTokenClaims are an ID token's claims.
type idTokenClaims struct {
	Iss      string `json:"iss"`
	Sub      string `json:"sub"`
	Aud      string `json:"aud"`
	Exp      int64  `json:"exp"`
	Iat      int64  `json:"iat"`
	AuthTime int64  `json:"auth_time,omitempty"`
	Nonce    string `json:"nonce,omitempty"`
}

// idTokenAlg is the algorithm of client c's ID tokens.
func idTokenAlg(c *store.Client) string {
	if c.IDTokenSignedResponseAlg != "" {
		return c.IDTokenSignedResponseAlg
	}
	return AlgRS256
}

// signIDToken signs the ID token of grant g for client c, issued at iat,
// with nonce if not empty.
func (p *Provider) signIDToken(c *store.Client, g store.Token, iat time.Time, nonce string) (string, error) {
	alg := idTokenAlg(c)
	s := p.keys.Load().signer(alg)
	if s == nil {
		return "", fmt.Errorf("grant: no signing key for the id_token_signed_response_alg %q of client %q", alg, c.ID)
	}
	cl := idTokenClaims{
		Iss: p.cfg.Issuer, Sub: g.Subject, Aud: c.ID,
		Exp: iat.Add(p.cfg.OIDC.IDTokenTTL).Unix(), Iat: iat.Unix(), Nonce: nonce,
	}
	if !g.AuthTime.IsZero() {
		cl.AuthTime = g.AuthTime.Unix()
	}
	return s.sign(typIDToken, cl)
}

// addIDToken adds to out, the tokens issued to client c in grant g, its ID
// token, when g is an OpenID grant.
func (p *Provider) addIDToken(c *store.Client, g store.Token, out *issued, nonce string) error {
	if out == nil || !p.openIDGrant(g.Scopes) {
		return nil
	}
	tok, err := p.signIDToken(c, g, out.issuedAt, nonce)
	if err != nil {
		return err
	}
	out.idToken = tok
	return nil
}

// errHint is why an id_token_hint is refused.
var errHint = errors.New("grant: id_token_hint is not an ID token this provider issued")

// hintAlgs are the algorithms an id_token_hint may be signed with: those of
// the keys this package can hold.
var hintAlgs = []string{jwtverify.RS256, jwtverify.ES256, jwtverify.EdDSA}

// parseIDTokenHint returns the claims of raw if it is an ID token this
// Provider signed with a key still in its set, expired or not: an
// id_token_hint (Core §3.1.2.1, RP-Initiated Logout §2) names a past
// authentication, and need not be current. Parsing and verification follow
// internal/jwtverify's policy (go-jose, an algorithm allow-list, one
// spelling, no crit); the typ must be an ID token's, so that a JWT access
// token signed by the same keys is refused.
func (p *Provider) parseIDTokenHint(raw string) (*idTokenClaims, error) {
	ks := p.keys.Load()
	if ks == nil {
		return nil, errHint
	}
	j, err := jwtverify.Parse(raw, hintAlgs)
	if err != nil || j.KeyID == "" || !jwtverify.TypeIs(j.Type, typIDToken) {
		return nil, errHint
	}
	for _, s := range ks.signers {
		if s.jwk.KeyID != j.KeyID {
			continue
		}
		var cl idTokenClaims
		if j.Verify(jwtverify.Key{Alg: string(s.alg), Public: s.jwk.Key}, &cl) != nil || cl.Iss != p.cfg.Issuer || cl.Sub == "" || cl.Aud == "" {
			return nil, errHint
		}
		return &cl, nil
	}
	return nil, errHint
}
