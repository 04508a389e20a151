package grant

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/oauthkit/oauthkit/store"
)

// CodeUnsupportedTokenType is RFC 7009 §2.2.1's error for a token type the
// server cannot revoke.
const CodeUnsupportedTokenType = "unsupported_token_type"

// RevokeHandler returns the revocation endpoint (RFC 7009): the Go form of
// Flask-OAuthlib's @revoke_handler. The client authenticates as at the token
// endpoint (public clients by client_id) and posts token, with an optional
// token_type_hint of access_token or refresh_token.
//
// Revoking an access token revokes that token alone; revoking a refresh
// token revokes its whole grant, the access tokens issued from it included
// (§2.1). The answer is 200 with an empty JSON object, also for tokens that
// are unknown, expired, already revoked, or issued to another client: those
// are invalid tokens from the caller's point of view (§2.2), and a distinct
// answer would let a client learn that someone else's token exists. Other
// clients' tokens are never revoked. A hint other than the two above gets
// 400 unsupported_token_type. Every response carries Cache-Control:
// no-store.
//
// Browser-based clients may call it cross-origin from the origins of their
// registered redirect URIs, as the token endpoint (see cors.go).
func (p *Provider) RevokeHandler() http.Handler {
	return p.cors(p.bounded(http.HandlerFunc(p.serveRevoke)))
}

func (p *Provider) serveRevoke(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	ev := Event{GrantType: "revocation", Addr: p.cfg.ClientAddr(r)}
	form, c, ok := p.clientForm(w, r, &ev, false)
	if !ok {
		return
	}
	p.allowOrigin(w, r, c)
	raw, hint := form.Get("token"), form.Get("token_type_hint")
	switch {
	case raw == "":
		p.refuse(ctx, w, ev, errRequest("token is required"))
		return
	case hint != "" && hint != store.KindAccess.String() && hint != store.KindRefresh.String():
		p.refuse(ctx, w, ev, newError(http.StatusBadRequest, CodeUnsupportedTokenType, "token_type_hint must be access_token or refresh_token"))
		return
	}
	if err := p.revoke(ctx, c, raw, ev); err != nil {
		// RFC 7009 §2.2.1: with 503, the client assumes the token still
		// exists and may retry after Retry-After.
		writeError(w, p.failure(ctx, "grant: revocation failed", err, "client_id", c.ID))
		return
	}
	writeJSON(w, http.StatusOK, struct{}{})
}

// revoke revokes raw if it is a live access or refresh token of client c.
// The hint is not needed: the token's record says what it is.
func (p *Provider) revoke(ctx context.Context, c *store.Client, raw string, ev Event) error {
	t, err := p.lookup(ctx, raw)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if t.ClientID != c.ID {
		p.cfg.Logger.WarnContext(ctx, "grant: revocation of another client's token ignored", "client_id", c.ID, "addr", ev.Addr)
		return nil
	}
	ev.Kind, ev.Subject, ev.Family, ev.Scopes = EventRevoked, t.Subject, t.Family, t.Scopes
	var change store.Change
	switch t.Kind {
	case store.KindRefresh:
		ev.Reason = ReasonRefreshRevoked
		err = p.tokens.RevokeFamily(ctx, t.Family)
		change = store.Change{Kind: store.ChangeFamily, Family: t.Family}
	case store.KindAccess:
		ev.Reason = ReasonAccessRevoked
		err = p.tokens.RevokeToken(ctx, t.Hash)
		change = store.Change{Kind: store.ChangeToken, Hash: t.Hash}
	default:
		return nil
	}
	if err != nil {
		return err
	}
	p.forget(change) // validation_cache.go
	p.emit(ctx, ev)
	return nil
}

// RevokeClient revokes every token issued to the client: authorization
// codes, access tokens and refresh tokens, which ValidateToken and
// introspection then refuse at once. Call it after deleting the client from
// the registry (store.ClientRegistry.DeleteClient), so that no new token can
// be issued to it while, or after, its tokens are revoked; access tokens
// would otherwise stay valid until they expire. It emits an EventRevoked
// with Reason "client deleted". JWT access tokens already handed to a remote
// resource server that checks signatures alone stay valid there until they
// expire.
func (p *Provider) RevokeClient(ctx context.Context, clientID string) error {
	if err := p.tokens.RevokeClient(ctx, clientID); err != nil {
		return fmt.Errorf("grant: revoke client %q: %w", clientID, err)
	}
	p.forget(store.Change{Kind: store.ChangeClient, ClientID: clientID})
	p.cfg.Logger.InfoContext(ctx, "grant: tokens of a client revoked", "client_id", clientID, "reason", ReasonClientDeleted)
	p.emit(ctx, Event{Kind: EventRevoked, ClientID: clientID, Reason: ReasonClientDeleted})
	return nil
}

// lookup finds the live access or refresh token raw, in either access
// token format. It returns store.ErrNotFound for anything else.
func (p *Provider) lookup(ctx context.Context, raw string) (store.Token, error) {
	if !hasPrefix(raw, PrefixAccessToken) && !hasPrefix(raw, PrefixRefreshToken) && !p.looksLikeJWT(raw) {
		return store.Token{}, store.ErrNotFound
	}
	t, err := p.tokens.Token(ctx, store.HashSecret(raw))
	if err != nil {
		return store.Token{}, err
	}
	if (t.Kind != store.KindAccess && t.Kind != store.KindRefresh) || !p.cfg.Now().Before(t.ExpiresAt) || p.pending.has(t.Family) {
		return store.Token{}, store.ErrNotFound
	}
	return t, nil
}
