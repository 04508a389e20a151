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
}

// issue creates an access token, and a refresh token when withRefresh, in
// family (a new family when empty). It refuses a user whose ID a client's
// subject could equal (subject.go).
func (p *Provider) issue(ctx context.Context, gt string, c *store.Client, u *store.User, scopes []string, family string, withRefresh bool) (*issued, error) {
	if err := checkSubject(u); err != nil {
		return nil, err
	}
	if family == "" && withRefresh {
		// A grant of more than one token gets a family, so that it can be
		// revoked whole. A lone access token (client_credentials) needs
		// none, and the store is spared the bookkeeping.
		family = uuid.NewString()
	}
	now := p.cfg.Now()
	out := &issued{grantType: gt, client: c, subject: u, scopes: scopes, family: family, expiresIn: p.cfg.AccessTokenTTL}
	var err error
	if out.access, err = p.store(ctx, PrefixAccessToken, store.KindAccess, c, u, scopes, family, now, p.cfg.AccessTokenTTL); err != nil {
		return nil, err
	}
	if withRefresh {
		if out.refresh, err = p.store(ctx, PrefixRefreshToken, store.KindRefresh, c, u, scopes, family, now, p.cfg.RefreshTokenTTL); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// store generates one token and keeps its hash.
func (p *Provider) store(ctx context.Context, prefix string, kind store.Kind, c *store.Client, u *store.User, scopes []string, family string, now time.Time, ttl time.Duration) (string, error) {
	raw, h, err := p.newValue(prefix, kind, c, u, scopes, now, ttl) // jwt.go
	if err != nil {
		return "", err
	}
	t := &store.Token{
		Hash: h, Kind: kind, Family: family, ClientID: c.ID, Scopes: scopes,
		IssuedAt: now, ExpiresAt: now.Add(ttl),
	}
	if u != nil {
		t.Subject, t.Username = u.ID, u.Username
	}
	if err := p.cfg.Tokens.CreateToken(ctx, t); err != nil {
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
	p.cfg.Logger.WarnContext(ctx, "grant: token family revoked", "family", t.Family, "client_id", t.ClientID, "reason", reason)
	p.emit(ctx, Event{Kind: EventRevoked, ClientID: t.ClientID, Subject: t.Subject, Family: t.Family, Reason: reason})
}
