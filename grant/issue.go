package grant

import (
	"context"
	"time"

	"github.com/google/uuid"

	"github.com/oauthkit/oauthkit/store"
)

// issued is what one successful grant produced.
type issued struct {
	grantType string
	client    *store.Client
	subject   *store.User // nil for client_credentials
	scopes    []string
	family    string
	access    string
	refresh   string // empty when no refresh token was issued
	expiresIn time.Duration
	jkt       string          // the DPoP key the access token is bound to; "" for a bearer token
	issuedAt  time.Time       // when the tokens were issued
	idToken   string          // the OpenID Connect ID token, if any (oidc_idtoken.go)
	records   [2]*store.Token // what mint made to store: access, refresh
}

// tokenType is the token_type of the response: DPoP for a bound access
// token (RFC 9449 §5), else Bearer.
func (o *issued) tokenType() string {
	if o.jkt != "" {
		return "DPoP"
	}
	return "Bearer"
}

// issue creates an access token, and a refresh token when withRefresh, for
// client c and user u (nil for client_credentials), in the grant g: g
// carries what every token of the grant shares (see grantOf), its family
// included (a new family when empty). The tokens are bound to the key of
// the request's DPoP proof, if it had one (dpop.go's bind), whatever g
// says: a grant bound to a key has checked that the proof is by it
// (checkBinding). It refuses a user whose ID a client's subject could
// equal (subject.go).
func (p *Provider) issue(ctx context.Context, gt string, c *store.Client, u *store.User, g store.Token, withRefresh bool) (*issued, error) {
	return p.issueNarrowed(ctx, gt, c, u, g, g.Audience, withRefresh)
}

// issueNarrowed is issue with an access token for the resources aud, the
// grant's or a subset of them (RFC 8707); the refresh token keeps the
// grant's.
func (p *Provider) issueNarrowed(ctx context.Context, gt string, c *store.Client, u *store.User, g store.Token, aud []string, withRefresh bool) (*issued, error) {
	out, toks, err := p.mint(ctx, gt, c, u, g, aud, withRefresh)
	if err != nil {
		return nil, err
	}
	for _, t := range toks {
		if err := p.tokens.CreateToken(ctx, t); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// issueFor is issueNarrowed for a grant that redeems the single-use token with
// hash h (an authorization code): through the store's store.Exchanger,
// the code is consumed and the tokens stored in one transaction, so that
// a store failure leaves the code redeemable. Its errors are Exchange's.
func (p *Provider) issueFor(ctx context.Context, h store.Hash, gt string, c *store.Client, u *store.User, g store.Token, aud []string, withRefresh bool) (*issued, store.Token, error) {
	out, toks, err := p.mint(ctx, gt, c, u, g, aud, withRefresh)
	if err != nil {
		return nil, store.Token{}, err
	}
	old, err := p.exchanger.Exchange(ctx, h, toks...)
	if err != nil {
		return nil, old, err
	}
	return out, old, nil
}

// mint makes what issue stores: the answer, and the records of its
// tokens, the access token's for the resources aud.
func (p *Provider) mint(ctx context.Context, gt string, c *store.Client, u *store.User, g store.Token, aud []string, withRefresh bool) (*issued, []*store.Token, error) {
	if err := checkSubject(u); err != nil {
		return nil, nil, err
	}
	if e := p.familyPending(ctx, g.Family); e != nil { // revocations.go
		return nil, nil, e
	}
	if g.Family == "" && withRefresh {
		// A grant of more than one token gets a family, so that it can be
		// revoked whole. A lone access token (client_credentials) needs
		// none, and the store is spared the bookkeeping.
		g.Family = uuid.NewString()
	}
	g.ClientID, g.Subject, g.Username = c.ID, "", ""
	if u != nil {
		g.Subject, g.Username = u.ID, u.Username
	}
	g.IssuedAt = p.cfg.Now()
	at, rt := g, g
	at.Audience = aud // the grant's, or a subset (resource.go)
	bind(ctx, c, &at, &rt)
	out := &issued{grantType: gt, client: c, subject: u, scopes: g.Scopes, family: g.Family, expiresIn: p.cfg.AccessTokenTTL, jkt: at.JKT, issuedAt: g.IssuedAt}
	toks := out.records[:1] // no allocation of its own
	var err error
	if out.access, toks[0], err = p.newToken(PrefixAccessToken, store.KindAccess, at, p.cfg.AccessTokenTTL); err != nil {
		return nil, nil, err
	}
	if withRefresh {
		var t *store.Token
		if out.refresh, t, err = p.newToken(PrefixRefreshToken, store.KindRefresh, rt, p.cfg.RefreshTokenTTL); err != nil {
			return nil, nil, err
		}
		toks = append(toks, t)
	}
	return out, toks, nil
}

// grantOf returns what every token of a grant takes over from the token it
// comes from (the code it was exchanged for, the refresh token it
// rotates): the one place to extend when store.Token gains a property of
// the grant. The scopes are the grant's (RFC 6749 §6); a request that
// narrows them narrows the access token only.
func grantOf(t store.Token) store.Token {
	return store.Token{
		Family: t.Family, ClientID: t.ClientID, Subject: t.Subject, Username: t.Username,
		Scopes: t.Scopes, Audience: t.Audience, JKT: t.JKT, AuthTime: t.AuthTime,
	}
}

// newToken generates one token of kind in grant g, issued at g.IssuedAt:
// its value and the record to store, which keeps only its hash.
func (p *Provider) newToken(prefix string, kind store.Kind, g store.Token, ttl time.Duration) (string, *store.Token, error) {
	t := g
	t.Kind, t.ExpiresAt = kind, g.IssuedAt.Add(ttl)
	raw, h, err := p.newValue(prefix, &t) // jwt.go
	if err != nil {
		return "", nil, err
	}
	t.Hash = h
	return raw, &t, nil
}
