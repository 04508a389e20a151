package grant

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"

	"github.com/go-oauth2/oauth2/v4"
	oerrors "github.com/go-oauth2/oauth2/v4/errors"
	"github.com/go-oauth2/oauth2/v4/models"

	"github.com/oauthkit/oauthkit/store"
)

// manager implements go-oauth2's oauth2.Manager over oauthkit's stores.
type manager struct{ p *Provider }

var _ oauth2.Manager = (*manager)(nil)

func (m *manager) GetClient(ctx context.Context, id string) (oauth2.ClientInfo, error) {
	c, err := m.p.client(ctx, id) // cimd.go
	if errors.Is(err, store.ErrNotFound) {
		return nil, oerrors.ErrInvalidClient
	}
	if err != nil {
		return nil, err
	}
	ci := &models.Client{ID: c.ID, Public: c.Public()}
	if len(c.RedirectURIs) > 0 {
		ci.Domain = c.RedirectURIs[0]
	}
	return ci, nil
}

// GenerateAuthToken is not used: AuthorizeHandler issues codes itself.
func (m *manager) GenerateAuthToken(context.Context, oauth2.ResponseType, *oauth2.TokenGenerateRequest) (oauth2.TokenInfo, error) {
	return nil, oerrors.ErrUnsupportedResponseType
}

func (m *manager) GenerateAccessToken(ctx context.Context, gt oauth2.GrantType, tgr *oauth2.TokenGenerateRequest) (oauth2.TokenInfo, error) {
	st := stateFrom(ctx)
	if st == nil {
		return nil, oerrors.ErrInvalidClient
	}
	var (
		out *issued
		err error
	)
	switch gt {
	case oauth2.ClientCredentials:
		out, err = m.clientCredentials(ctx, st.client, tgr.Scope, st.resources)
	case oauth2.PasswordCredentials:
		out, err = m.password(ctx, st.client, st.user, tgr.Scope, st.resources)
	case oauth2.AuthorizationCode:
		out, err = m.exchangeCode(ctx, st.client, tgr, st.resources)
	default:
		return nil, oerrors.ErrUnsupportedGrantType
	}
	return m.finish(st, out, err)
}

func (m *manager) RefreshAccessToken(ctx context.Context, tgr *oauth2.TokenGenerateRequest) (oauth2.TokenInfo, error) {
	st := stateFrom(ctx)
	if st == nil {
		return nil, oerrors.ErrInvalidClient
	}
	out, err := m.refresh(ctx, st.client, tgr.Refresh, tgr.Scope, st.resources)
	return m.finish(st, out, err)
}

// finish hands the result to the handler and a TokenInfo to the engine.
func (m *manager) finish(st *reqState, out *issued, err error) (oauth2.TokenInfo, error) {
	if err != nil {
		return nil, err
	}
	st.result = out
	return &models.Token{ClientID: out.client.ID, Access: out.access, Refresh: out.refresh}, nil
}

func (m *manager) clientCredentials(ctx context.Context, c *store.Client, scope string, resources []string) (*issued, error) {
	scopes, e := resolveScopes(scope, c.Scopes)
	if e != nil {
		return nil, e
	}
	// RFC 6749 §4.4.3: no refresh token for client credentials.
	return m.p.issue(ctx, store.GrantClientCredentials, c, nil, store.Token{Scopes: scopes, Audience: resources}, false)
}

func (m *manager) password(ctx context.Context, c *store.Client, u *store.User, scope string, resources []string) (*issued, error) {
	if u == nil {
		return nil, errGrant("invalid username or password")
	}
	scopes, e := resolveScopes(scope, c.Scopes)
	if e != nil {
		return nil, e
	}
	return m.p.issue(ctx, store.GrantPassword, c, u, store.Token{Scopes: scopes, Audience: resources}, m.p.refreshAllowed(c))
}

// refreshAllowed reports whether tokens for c come with a refresh token.
func (p *Provider) refreshAllowed(c *store.Client) bool {
	return c.AllowsGrant(store.GrantRefreshToken) && p.serves(store.GrantRefreshToken)
}

// exchangeCode redeems an authorization code (RFC 6749 §4.1.3, RFC 7636 §4.6).
// The code is consumed atomically; a second redemption revokes everything
// the first one issued. With a store.Exchanger, the code is read and
// checked first, then consumed in the transaction that stores its tokens,
// so that a store failure leaves it redeemable; otherwise it is consumed
// first. The access token may be for a subset of the code's resources
// (RFC 8707), the refresh token keeps them all.
func (m *manager) exchangeCode(ctx context.Context, c *store.Client, tgr *oauth2.TokenGenerateRequest, resources []string) (*issued, error) {
	if !hasPrefix(tgr.Code, PrefixCode) {
		return nil, errGrant("the authorization code is invalid or expired")
	}
	h := store.HashSecret(tgr.Code)
	var (
		code store.Token
		err  = store.ErrNotFound
	)
	if m.p.exchanger != nil {
		code, err = m.p.tokens.Token(ctx, h)
	}
	atomic := err == nil
	if errors.Is(err, store.ErrNotFound) { // no Exchanger, or a code not live: consumed, unknown or expired
		code, err = m.p.tokens.ConsumeToken(ctx, h)
	}
	if e := m.p.codeRedeemed(ctx, code, err); e != nil {
		return nil, e
	}
	if code.Kind != store.KindCode || code.ClientID != c.ID {
		return nil, errGrant("the authorization code was issued to another client")
	}
	sent := tgr.RedirectURI
	if sent == omittedRedirectURI { // see token.go
		sent = ""
	}
	if sent != code.RedirectURI {
		return nil, errGrant("redirect_uri does not match the authorization request")
	}
	if !verifyPKCE(code.CodeChallenge, tgr.CodeVerifier) {
		return nil, errGrant("code_verifier is missing or does not match the code_challenge")
	}
	if e := checkBinding(ctx, code.JKT); e != nil { // dpop_jkt (RFC 9449 §10)
		return nil, e
	}
	aud, e := narrowResources(code.Audience, resources) // resource.go
	if e != nil {
		return nil, e
	}
	u := &store.User{ID: code.Subject, Username: code.Username}
	g := grantOf(code)
	var out *issued
	if atomic {
		var old store.Token
		out, old, err = m.p.issueFor(ctx, h, store.GrantAuthorizationCode, c, u, g, aud, m.p.withRefresh(c, g)) // oidc.go
		if errors.Is(err, store.ErrConsumed) || errors.Is(err, store.ErrNotFound) {
			// Redeemed (or expired) since it was read: as if consumed first.
			return nil, m.p.codeRedeemed(ctx, old, err)
		}
	} else {
		out, err = m.p.issueNarrowed(ctx, store.GrantAuthorizationCode, c, u, g, aud, m.p.withRefresh(c, g)) // oidc.go
	}
	if errors.Is(err, store.ErrRevoked) {
		// A replay of the code, concurrent with this redemption, revoked
		// the grant before its tokens were stored: nobody gets any.
		return nil, errGrant("the authorization code was already used")
	}
	if err != nil {
		return nil, err
	}
	return out, m.p.addIDToken(c, g, out, code.Nonce) // oidc_idtoken.go
}

// codeRedeemed is the answer to consuming a code that gave err: nil when
// it was taken; invalid_grant for a code unknown or expired; for a code
// already used, the revocation of what it issued (RFC 6749 §4.1.2) and
// invalid_grant, or 503 while the revocation fails (revocations.go).
func (p *Provider) codeRedeemed(ctx context.Context, code store.Token, err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, store.ErrConsumed):
		if e := p.revokeFamily(ctx, code, ReasonCodeReplayed); e != nil {
			return e
		}
		return errGrant("the authorization code was already used")
	case errors.Is(err, store.ErrNotFound):
		return errGrant("the authorization code is invalid or expired")
	}
	return err
}

// verifyPKCE checks an RFC 7636 S256 code_verifier against the challenge, in
// constant time. A code issued without a challenge must be redeemed without a
// verifier (§4.6, and no downgrade).
func verifyPKCE(challenge, verifier string) bool {
	if challenge == "" {
		return verifier == ""
	}
	if len(verifier) < 43 || len(verifier) > 128 {
		return false
	}
	for i := 0; i < len(verifier); i++ {
		c := verifier[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~') {
			return false
		}
	}
	sum := sha256.Sum256([]byte(verifier))
	want := base64.RawURLEncoding.EncodeToString(sum[:])
	return subtle.ConstantTimeCompare([]byte(want), []byte(challenge)) == 1
}

// refresh rotates a refresh token (RFC 6749 §6, RFC 9700 §4.14.2): the old
// one is consumed atomically and a new access and refresh token issued in
// the same family; the access token may narrow the grant's scopes, the
// refresh token keeps them. The same client presenting the old token again
// within the grace gets the same tokens again (refresh_retry.go); any other
// reuse revokes the whole family.
func (m *manager) refresh(ctx context.Context, c *store.Client, raw, scope string, resources []string) (*issued, error) {
	if !hasPrefix(raw, PrefixRefreshToken) {
		return nil, errGrant("the refresh token is invalid or expired")
	}
	h := store.HashSecret(raw)
	// Check binding, scope and resources before consuming, so that a bad
	// scope or resource parameter does not cost the client its refresh
	// token.
	peek, err := m.p.tokens.Token(ctx, h)
	switch {
	case err == nil:
		if peek.ClientID != c.ID {
			if e := m.p.revokeFamily(ctx, peek, ReasonRefreshOtherClient); e != nil {
				return nil, e
			}
			return nil, errGrant("the refresh token was issued to another client")
		}
		if _, e := resolveScopes(scope, peek.Scopes); e != nil {
			return nil, e
		}
		if _, e := narrowResources(peek.Audience, resources); e != nil {
			return nil, e
		}
		if e := checkBinding(ctx, peek.JKT); e != nil { // RFC 9449 §5
			return nil, e
		}
	case !errors.Is(err, store.ErrNotFound):
		return nil, err
	}
	var old store.Token
	if err == nil && m.p.exchanger != nil && peek.Kind == store.KindRefresh {
		// Consumed in the transaction that stores the new tokens.
		scopes, _ := resolveScopes(scope, peek.Scopes)      // checked above
		aud, _ := narrowResources(peek.Audience, resources) // checked above
		var out *issued
		out, old, err = m.p.rotateFor(ctx, c, peek, raw, scopes, aud)
		if !errors.Is(err, store.ErrConsumed) {
			return m.refreshed(c, peek, out, err)
		}
		// A rotation raced this one: a retry or a reuse, as below.
	} else {
		old, err = m.p.tokens.ConsumeToken(ctx, h)
	}
	retry := false
	switch {
	case errors.Is(err, store.ErrConsumed):
		if old.Kind != store.KindRefresh || old.ClientID != c.ID {
			if e := m.p.revokeFamily(ctx, old, ReasonRotatedOtherClient); e != nil {
				return nil, e
			}
			return nil, errGrant("the refresh token was issued to another client")
		}
		if !m.p.withinGrace(old) || proofKey(ctx) != "" { // no grace for DPoP (dpop.go)
			if e := m.p.revokeFamily(ctx, old, ReasonRefreshReused); e != nil {
				return nil, e
			}
			return nil, errGrant("the refresh token was already used")
		}
		retry = true // of a request whose answer may have been lost
	case errors.Is(err, store.ErrNotFound):
		return nil, errGrant("the refresh token is invalid or expired")
	case err != nil:
		return nil, err
	}
	if old.Kind != store.KindRefresh || old.ClientID != c.ID {
		if e := m.p.revokeFamily(ctx, old, ReasonRefreshOtherClient); e != nil {
			return nil, e
		}
		return nil, errGrant("the refresh token was issued to another client")
	}
	scopes, e := resolveScopes(scope, old.Scopes)
	if e != nil {
		return nil, e
	}
	if e := checkBinding(ctx, old.JKT); e != nil {
		return nil, e
	}
	aud, e := narrowResources(old.Audience, resources)
	if e != nil {
		return nil, e
	}
	out, err := m.p.rotate(ctx, c, old, raw, scopes, aud, retry)
	return m.refreshed(c, old, out, err)
}

// refreshed completes the answer to the rotation of old, which gave out
// and err.
func (m *manager) refreshed(c *store.Client, old store.Token, out *issued, err error) (*issued, error) {
	switch {
	case errors.Is(err, store.ErrRevoked):
		return nil, errGrant("the grant was revoked")
	case errors.Is(err, store.ErrNotFound): // expired or revoked since it was read
		return nil, errGrant("the refresh token is invalid or expired")
	case err != nil || old.AuthTime.IsZero():
		return out, err
	}
	return out, m.p.addIDToken(c, grantOf(old), out, "") // Core §12.2: no nonce
}

func (m *manager) RemoveAccessToken(ctx context.Context, access string) error {
	h := store.HashSecret(access)
	if err := m.p.tokens.RevokeToken(ctx, h); err != nil {
		return err
	}
	m.p.forget(store.Change{Kind: store.ChangeToken, Hash: h})
	return nil
}

// RemoveRefreshToken revokes the refresh token's whole grant, its access
// tokens included (RFC 7009 §2.1).
func (m *manager) RemoveRefreshToken(ctx context.Context, refresh string) error {
	t, err := m.p.tokens.Token(ctx, store.HashSecret(refresh))
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if err := m.p.tokens.RevokeFamily(ctx, t.Family); err != nil {
		return err
	}
	m.p.forget(store.Change{Kind: store.ChangeFamily, Family: t.Family})
	return nil
}

func (m *manager) LoadAccessToken(ctx context.Context, access string) (oauth2.TokenInfo, error) {
	return m.load(ctx, access, store.KindAccess, oerrors.ErrInvalidAccessToken)
}

func (m *manager) LoadRefreshToken(ctx context.Context, refresh string) (oauth2.TokenInfo, error) {
	return m.load(ctx, refresh, store.KindRefresh, oerrors.ErrInvalidRefreshToken)
}

func (m *manager) load(ctx context.Context, raw string, kind store.Kind, invalid error) (oauth2.TokenInfo, error) {
	t, err := m.p.tokens.Token(ctx, store.HashSecret(raw))
	if errors.Is(err, store.ErrNotFound) || err == nil && t.Kind != kind {
		return nil, invalid
	}
	if err != nil {
		return nil, err
	}
	ti := &models.Token{ClientID: t.ClientID, UserID: t.Subject, Scope: joinScopes(t.Scopes)}
	if kind == store.KindAccess {
		ti.Access, ti.AccessCreateAt, ti.AccessExpiresIn = raw, t.IssuedAt, t.ExpiresAt.Sub(t.IssuedAt)
	} else {
		ti.Refresh, ti.RefreshCreateAt, ti.RefreshExpiresIn = raw, t.IssuedAt, t.ExpiresAt.Sub(t.IssuedAt)
	}
	return ti, nil
}
