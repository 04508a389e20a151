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
	jkt       string    // the DPoP key the access token is bound to; "" for a bearer token
	issuedAt  time.Time // when the tokens were issued
	idToken   string    // the OpenID Connect ID token, if any (oidc_idtoken.go)
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
	if err := checkSubject(u); err != nil {
		return nil, err
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
	var err error
	if out.access, err = p.store(ctx, PrefixAccessToken, store.KindAccess, at, p.cfg.AccessTokenTTL); err != nil {
		return nil, err
	}
	if withRefresh {
		if out.refresh, err = p.store(ctx, PrefixRefreshToken, store.KindRefresh, rt, p.cfg.RefreshTokenTTL); err != nil {
			return nil, err
		}
	}
	return out, nil
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

// store generates one token of kind in grant g, issued at g.IssuedAt, and
// keeps its hash.
func (p *Provider) store(ctx context.Context, prefix string, kind store.Kind, g store.Token, ttl time.Duration) (string, error) {
	t := g
	t.Kind, t.ExpiresAt = kind, g.IssuedAt.Add(ttl)
	raw, h, err := p.newValue(prefix, &t) // jwt.go
	if err != nil {
		return "", err
	}
	t.Hash = h
	if err := p.cfg.Tokens.CreateToken(ctx, &t); err != nil {
		return "", err
	}
	return raw, nil
}

// revokeFamily revokes a whole grant, reporting why.
func (p *Provider) revokeFamily(ctx context.Context, t store.Token, reason string) {
	if err := p.cfg.Tokens.RevokeFamily(ctx, t.Family); err != nil {
		p.cfg.Logger.ErrorContext(ctx, "grant: revoking a token family failed", "family", t.Family, "err", err)
		return
	}
	p.forget(store.Change{Kind: store.ChangeFamily, Family: t.Family})
	p.cfg.Logger.WarnContext(ctx, "grant: token family revoked", "family", t.Family, "client_id", t.ClientID, "reason", reason)
	p.emit(ctx, Event{Kind: EventRevoked, ClientID: t.ClientID, Subject: t.Subject, Family: t.Family, Reason: reason})
}
