package grant

import (
	"encoding/base64"
	"strings"

	"github.com/oauthkit/oauthkit/store"
)

// JWT access tokens (RFC 9068, typ at+jwt) are signed with go-jose by the
// key set's current key (sign.go), and kept in the TokenStore like opaque
// ones: the store holds the SHA-256 of the compact JWT, its kind, family,
// client, user, scopes and expiry. So the Provider validates its own JWTs
// as it does opaque tokens — one hash, one lookup, no signature check (the
// store only knows tokens this server signed) — and revocation, of a token
// or of its whole grant, is honoured at once by ValidateToken and
// introspection: the store is an allow-list, stronger than a denylist of
// jti. Resource servers apart from the authorization server check the
// signature against the JWKS instead, and learn of revocation only at
// expiry (or by introspection).
//
// sub is the user's ID in a token issued to a user, and ClientSubjectPrefix
// + client_id in one issued to a client alone (client_credentials): the
// two namespaces never meet (subject.go), so that a resource server cannot
// take a client for a user (RFC 9068 §5).

// jwtClaims are RFC 9068 §2.2's claims. jti comes first, so that jwtID can
// read it without parsing the payload.
type jwtClaims struct {
	Jti      string `json:"jti"`
	Iss      string `json:"iss"`
	Sub      string `json:"sub"`
	Aud      any    `json:"aud"`
	Exp      int64  `json:"exp"`
	Iat      int64  `json:"iat"`
	ClientID string `json:"client_id"`
	Scope    string `json:"scope,omitempty"`
	Cnf      *cnf   `json:"cnf,omitempty"` // RFC 9449 §6.1: the DPoP key of a bound token
}

// cnf is RFC 7800's confirmation claim with RFC 9449's jkt member.
type cnf struct {
	JKT string `json:"jkt"`
}

// confirmation is t's cnf: nil for a bearer token.
func confirmation(t *store.Token) *cnf {
	if t.JKT == "" {
		return nil
	}
	return &cnf{JKT: t.JKT}
}

// newValue makes the value of new token t (its hash aside): random for
// every kind, a signed JWT for access tokens when the format says so.
func (p *Provider) newValue(prefix string, t *store.Token) (string, store.Hash, error) {
	if t.Kind != store.KindAccess || p.cfg.AccessTokenFormat != FormatJWT {
		return newSecret(prefix)
	}
	jti, _, err := newSecret("")
	if err != nil {
		return "", store.Hash{}, err
	}
	return p.signAccessToken(p.keys.Load().signer(""), jti, t)
}

// signAccessToken signs RFC 9068 access token t with s. The same arguments
// give the same token, since s signs deterministically, which is what lets
// a refresh retry reproduce the first answer (refresh_retry.go).
func (p *Provider) signAccessToken(s *signer, jti string, t *store.Token) (string, store.Hash, error) {
	aud := p.audience(t) // the token's resources, or Config.Audience (resource.go)
	cl := jwtClaims{
		Jti: jti, Iss: p.cfg.Issuer, Sub: clientSubject(t.ClientID), Aud: aud,
		Exp: t.ExpiresAt.Unix(), Iat: t.IssuedAt.Unix(), ClientID: t.ClientID, Scope: joinScopes(t.Scopes),
		Cnf: confirmation(t),
	}
	if len(aud) == 1 {
		cl.Aud = aud[0]
	}
	if t.Subject != "" {
		cl.Sub = t.Subject // else the client, in its namespace (RFC 9068 §2.2, §5)
	}
	raw, err := s.sign(typAccessToken, cl)
	if err != nil {
		return "", store.Hash{}, err
	}
	return raw, store.HashSecret(raw), nil
}

// looksLikeJWT reports whether raw starts with the header of a key in
// force: a string comparison that spares the store the rest, and makes
// tokens of a key withdrawn by SetSigningKeys invalid at once.
func (p *Provider) looksLikeJWT(raw string) bool {
	ks := p.keys.Load()
	if ks == nil || p.cfg.AccessTokenFormat != FormatJWT || len(raw) > maxJWTLen {
		return false
	}
	for _, s := range ks.signers {
		if strings.HasPrefix(raw, s.prefix) {
			return true
		}
	}
	return false
}

// maxJWTLen bounds the JWTs considered.
const maxJWTLen = 8 << 10

// jwtIDPrefix is how every payload this package signs begins.
const jwtIDPrefix = `{"jti":"`

// jwtID returns the jti of a JWT this package signed, from the first
// bytes of its payload.
func jwtID(raw string) string {
	_, rest, ok := strings.Cut(raw, ".")
	if !ok {
		return ""
	}
	const n = len(jwtIDPrefix) + 43 + 1 // prefix, jti, closing quote
	enc := base64.RawURLEncoding.EncodedLen(n)
	enc += (4 - enc%4) % 4 // whole quanta only
	if len(rest) < enc {
		return ""
	}
	var buf [80]byte
	m, err := base64.RawURLEncoding.Decode(buf[:], []byte(rest[:enc]))
	if err != nil || m < n || string(buf[:len(jwtIDPrefix)]) != jwtIDPrefix || buf[n-1] != '"' {
		return ""
	}
	return string(buf[len(jwtIDPrefix) : n-1])
}
