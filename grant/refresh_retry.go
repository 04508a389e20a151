package grant

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"slices"
	"time"

	"github.com/oauthkit/oauthkit/store"
)

// Refresh token rotation with idempotent retries.
//
// A rotation (manager.go's refresh) consumes the presented refresh token
// and issues a new refresh token and access token whose values are derived
// from the presented one under the provider secret:
//
//	value = prefix + base64url(HMAC-SHA256(subkey "refresh retry",
//	                                        label || presented || family || issued_at || scope))
//
// 256 bits that nobody computes without Config.Secret, the presented token
// and its stored record, and that every instance sharing the secret and the
// store computes alike. The store keeps only their hashes, as for every
// token. So when the answer is lost (a crash, a timeout, a dropped
// connection) and the same client presents the same refresh token again
// within Config.RefreshReuseGrace, the provider derives the same values,
// finds them in the store (one lookup each) and answers with them, on
// whichever instance the retry lands. With a store.Exchanger (SQLite,
// PostgreSQL, one Redis server) the consume and the new tokens are one
// transaction, so a retry that finds no derived refresh token is reuse,
// not a lost answer: the values were derived under another Config.Secret
// (instances that do not share it, or a restart with a random one), and
// storing them would fork the grant; the family is revoked instead. Only
// without an Exchanger (the memory store, a Redis Cluster), where the
// first request may have died between consuming the old token and storing
// the new ones, does the retry store them (CreateToken; ErrExists means
// another request just did, and the stored one is used).
//
// Only the first answer's pair ever exists: the new refresh token's value
// depends on the old token alone, never on the request, so however many
// retries race, the family keeps one live refresh token. Without an
// Exchanger, a retry that asks for another (narrower) scope gets the same
// refresh token and an access token of its own for that scope; through
// one, the first rotation stored its access token with the refresh token,
// so a retry whose access token is not in the store is refused
// (invalid_grant, the family kept): that access token was revoked alone
// (RFC 7009) or has expired, and storing it again would undo the
// revocation; or the retry asked for another scope than the request it
// repeats, which a retry of a lost answer does not. A JWT access token gets a derived jti
// and the times of the stored refresh token, so that re-signing reproduces
// it byte for byte: the signatures are deterministic (EdDSA, RS256, and
// ES256 signed per RFC 6979; see sign.go).
//
// Reuse is still detected: the old token presented by another client, or
// after the grace, or once the derived refresh token has itself been used
// (the client moved on), revokes the whole family.
//
// What a thief gains: holding a refresh token the client has just rotated,
// and presenting it within the grace with the same client_id (and secret,
// for a confidential client), a thief gets what the client got: the same
// pair, no other. The grant does not fork: whichever of the two uses the
// new refresh token first rotates it, and the other's use of it is again a
// retry (the same answer) or reuse (the family revoked). Without the grace
// the thief would get nothing in those seconds, but every lost answer would
// sign a user out, which is why RFC 9700 §4.14.2's rotation is commonly
// paired with a short overlap (Auth0's rotation overlap period, Okta's
// grace period, Amazon Cognito's retry grace period). A negative
// Config.RefreshReuseGrace turns it off.

// Labels of the derived values; each kind of value has its own, so that no
// derived value is ever another's (a jti is public, an access token is not).
const (
	labelRefresh = 'r' // the new refresh token
	labelAccess  = 'a' // the new opaque access token
	labelJTI     = 'j' // the jti of the new JWT access token
)

// errGone says that a derived token was stored once but is no longer live:
// consumed, revoked or expired; errMissing, that a retry found no derived
// token where one must be.
var (
	errGone    = errors.New("grant: the rotated token is no longer live")
	errMissing = errors.New("grant: the rotated token is not in the store")
)

// refreshGrace is how long after its rotation a refresh token presented
// again by its client is taken for a retry; negative: never. A DPoP-bound
// one (RFC 9449 §5) gets none: its client proves the key with every
// request, and a retry must come with a new proof anyway. (A refresh made
// with a DPoP proof gets none either; manager.go's refresh.)
func (p *Provider) refreshGrace(old store.Token) time.Duration {
	if old.JKT != "" {
		return -1
	}
	return p.cfg.RefreshReuseGrace
}

// withinGrace reports whether old, consumed, may be presented again as a
// retry of its rotation. A consumption time ahead of this clock by more
// than the grace (clock skew between instances) does not count.
func (p *Provider) withinGrace(old store.Token) bool {
	grace := p.refreshGrace(old)
	if grace < 0 || old.ConsumedAt.IsZero() {
		return false
	}
	d := p.cfg.Now().Sub(old.ConsumedAt)
	return -grace < d && d < grace
}

// derive returns the HMAC, under the refresh retry subkey, of label, the
// presented refresh token, the family and issue time of its stored record,
// and the extra parts. The stored properties keep the values out of reach
// of someone holding the secret and an old token of the chain but not the
// store: without them, one derivation after another would lead from any
// old refresh token to the live one. presented has a fixed length and no
// NUL, and each variable part is NUL-terminated, so that no two inputs
// share an encoding.
func (p *Provider) derive(label byte, old store.Token, presented string, extra ...string) []byte {
	n := 1 + len(presented) + len(old.Family) + 1 + 8
	for _, e := range extra {
		n += len(e) + 1
	}
	b := make([]byte, 0, n)
	b = append(b, label)
	b = append(b, presented...)
	b = append(append(b, old.Family...), 0)
	b = binary.BigEndian.AppendUint64(b, uint64(old.IssuedAt.UnixMilli()))
	for _, e := range extra {
		b = append(append(b, e...), 0)
	}
	return p.mac(purposeRefreshRetry, b)
}

// derivedSecret is prefix and the derived bits in base64url: a value of the
// same shape as newSecret's.
func (p *Provider) derivedSecret(prefix string, label byte, old store.Token, presented string, extra ...string) string {
	return prefix + base64.RawURLEncoding.EncodeToString(p.derive(label, old, presented, extra...))
}

// canonicalScope is scopes sorted, so that a retry naming them in another
// order derives the same access token.
func canonicalScope(scopes []string) string {
	s := slices.Clone(scopes)
	slices.Sort(s)
	return joinScopes(s)
}

// rotate issues, or finds again, the tokens of the rotation of old (whose
// value was presented) with an access token for scopes and the resources
// aud (old's, or a subset). retry says that old had already been consumed
// by an earlier request, which has probably stored the tokens: they are
// then looked up before being created. The refresh token's value depends
// on old alone; the access token's on its scopes and resources too.
func (p *Provider) rotate(ctx context.Context, c *store.Client, old store.Token, presented string, scopes, aud []string, retry bool) (*issued, error) {
	u, e := p.rotationUser(ctx, old)
	if e != nil {
		return nil, e
	}
	// The refresh token first: its stored issue time is the rotation's, from
	// which the access token's times follow, whoever stores them.
	rt, at := p.rotationGrant(ctx, c, old)
	rawRefresh := p.rotatedRefresh(&rt, old, presented)
	// Through a store.Exchanger the first rotation stored its tokens with
	// the consume, in one transaction: a retry that does not find them
	// must not store them (they would fork the grant when another
	// Config.Secret derived the first answer), and is taken for reuse.
	storedRT, createdRT, err := p.ensureToken(ctx, &rt, retry, !retry || p.exchanger == nil)
	if errors.Is(err, errGone) || errors.Is(err, errMissing) {
		reason := ReasonRotationReused
		if errors.Is(err, errMissing) {
			reason = ReasonRotationMissing
		}
		if e := p.revokeFamily(ctx, old, reason); e != nil {
			return nil, e
		}
		return nil, errGrant("the refresh token was already used")
	}
	if err != nil {
		return nil, err
	}
	if storedRT.Kind != store.KindRefresh || storedRT.Family != old.Family || storedRT.ClientID != old.ClientID {
		return nil, errors.New("grant: a derived refresh token matches another token")
	}
	rawAccess, err := p.rotatedAccess(&at, old, presented, scopes, aud, storedRT.IssuedAt)
	if err != nil {
		return nil, err
	}
	// Without an Exchanger a retry may ask for another scope, and so
	// another access token, or find none because the first request died
	// before storing it: it is stored now. Through an Exchanger the first
	// rotation stored its access token with the refresh token, so a
	// retry that finds none finds one revoked alone (RFC 7009; the stores
	// delete revoked tokens) or expired since, which must not be created
	// again; or one for another scope than the first request's, which a
	// retry of a lost answer does not ask for.
	storedAT, createdAT, err := p.ensureToken(ctx, &at, retry, !retry || p.exchanger == nil)
	if errors.Is(err, errGone) || errors.Is(err, errMissing) {
		// Not a sign of theft: the family stays.
		return nil, errGrant("the refresh token was already used")
	}
	if err != nil {
		return nil, err
	}
	if retry {
		log := p.cfg.Logger.InfoContext
		msg := "grant: refresh retried within the grace, answered with the first answer's tokens"
		if createdRT || createdAT {
			log = p.cfg.Logger.WarnContext
			msg = "grant: refresh retried within the grace, and the first request had not stored its tokens: stored them (if no instance failed, check that all share Config.Secret)"
		}
		log(ctx, msg, "client_id", c.ID, "family", old.Family)
	}
	return p.rotated(c, old, u, scopes, rawAccess, rawRefresh, storedAT, storedRT), nil
}

// rotateFor is rotate's first rotation of the live refresh token old
// (hash h) through the store's store.Exchanger: old is consumed and the
// new tokens stored in one transaction, so that a store failure leaves
// old live and the client's retry rotates it as if for the first time.
// Its errors are Exchange's; with store.ErrConsumed (a rotation raced
// this one) it returns the consumed token, for manager.refresh to take
// the request for a retry or a reuse.
func (p *Provider) rotateFor(ctx context.Context, c *store.Client, old store.Token, presented string, scopes, aud []string) (*issued, store.Token, error) {
	u, e := p.rotationUser(ctx, old)
	if e != nil {
		return nil, store.Token{}, e
	}
	rt, at := p.rotationGrant(ctx, c, old)
	rawRefresh := p.rotatedRefresh(&rt, old, presented)
	rawAccess, err := p.rotatedAccess(&at, old, presented, scopes, aud, rt.IssuedAt)
	if err != nil {
		return nil, store.Token{}, err
	}
	if consumed, err := p.exchanger.Exchange(ctx, old.Hash, &rt, &at); err != nil {
		return nil, consumed, err
	}
	return p.rotated(c, old, u, scopes, rawAccess, rawRefresh, at, rt), store.Token{}, nil
}

// rotationUser is the user of old's grant (nil for none), refused if a
// client's subject could equal it (subject.go), or while the grant's
// revocation is pending (revocations.go).
func (p *Provider) rotationUser(ctx context.Context, old store.Token) (*store.User, error) {
	var u *store.User
	if old.Subject != "" {
		u = &store.User{ID: old.Subject, Username: old.Username}
	}
	if err := checkSubject(u); err != nil {
		return nil, err
	}
	if e := p.familyPending(ctx, old.Family); e != nil {
		return nil, e
	}
	return u, nil
}

// rotationGrant is what the rotation's refresh and access tokens take
// over from old, bound as the request's DPoP proof says (dpop.go; a retry
// has no proof, so it gets what the first answer got).
func (p *Provider) rotationGrant(ctx context.Context, c *store.Client, old store.Token) (rt, at store.Token) {
	rt, at = grantOf(old), grantOf(old)
	bind(ctx, c, &at, &rt)
	return rt, at
}

// rotatedRefresh completes rt as the rotation's refresh token, issued now,
// and returns its value, derived from old.
func (p *Provider) rotatedRefresh(rt *store.Token, old store.Token, presented string) string {
	now := p.cfg.Now().Truncate(time.Millisecond) // what every store keeps exactly
	raw := p.derivedSecret(PrefixRefreshToken, labelRefresh, old, presented)
	rt.Hash, rt.Kind = store.HashSecret(raw), store.KindRefresh
	rt.IssuedAt, rt.ExpiresAt = now, now.Add(p.cfg.RefreshTokenTTL)
	return raw
}

// rotatedAccess completes at as the rotation's access token for scopes and
// the resources aud, issued with the refresh token at issuedAt, and
// returns its value, derived from old (a JWT re-signed alike).
func (p *Provider) rotatedAccess(at *store.Token, old store.Token, presented string, scopes, aud []string, issuedAt time.Time) (string, error) {
	at.Kind, at.Scopes, at.Audience = store.KindAccess, scopes, aud
	at.IssuedAt, at.ExpiresAt = issuedAt, issuedAt.Add(p.cfg.AccessTokenTTL)
	scope := canonicalScope(scopes)
	res := resourcesPart(aud, old.Audience) // resource.go
	if p.cfg.AccessTokenFormat == FormatJWT {
		s := p.keys.Load().signer("")
		jti := base64.RawURLEncoding.EncodeToString(p.derive(labelJTI, old, presented, append([]string{scope, s.jwk.KeyID}, res...)...))
		raw, h, err := p.signAccessToken(s, jti, at)
		at.Hash = h
		return raw, err
	}
	raw := p.derivedSecret(PrefixAccessToken, labelAccess, old, presented, append([]string{scope}, res...)...)
	at.Hash = store.HashSecret(raw)
	return raw, nil
}

// rotated is the answer to a rotation whose stored tokens are at and rt.
func (p *Provider) rotated(c *store.Client, old store.Token, u *store.User, scopes []string, rawAccess, rawRefresh string, at, rt store.Token) *issued {
	return &issued{
		grantType: store.GrantRefreshToken, client: c, subject: u, scopes: scopes, family: old.Family,
		access: rawAccess, refresh: rawRefresh, jkt: at.JKT,
		expiresIn: at.ExpiresAt.Sub(p.cfg.Now()).Round(time.Second),
		issuedAt:  rt.IssuedAt, // the same on every retry
	}
}

// ensureToken makes sure t is stored and live, and returns the stored token
// and whether this call created it. lookFirst looks it up before trying to
// create it. errGone: it is stored but no longer live.
func (p *Provider) ensureToken(ctx context.Context, t *store.Token, lookFirst, mayCreate bool) (store.Token, bool, error) {
	if lookFirst {
		got, err := p.tokens.Token(ctx, t.Hash)
		if err == nil {
			return got, false, nil
		}
		if !errors.Is(err, store.ErrNotFound) {
			return store.Token{}, false, err
		}
		if !mayCreate {
			return store.Token{}, false, errMissing
		}
	}
	err := p.tokens.CreateToken(ctx, t)
	if err == nil {
		return *t, true, nil
	}
	if !errors.Is(err, store.ErrExists) {
		return store.Token{}, false, err
	}
	got, err := p.tokens.Token(ctx, t.Hash)
	if errors.Is(err, store.ErrNotFound) {
		return store.Token{}, false, errGone
	}
	return got, false, err
}
