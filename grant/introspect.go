package grant

import (
	"context"
	"errors"
	"net/http"
	"slices"

	"github.com/oauthkit/oauthkit/store"
)

// IntrospectHandler returns the introspection endpoint (RFC 7662). Callers
// must authenticate as confidential clients (client_secret_basic or
// client_secret_post); anyone else gets 401 invalid_client, so the endpoint
// is no oracle for stolen tokens (§4).
//
// A live token the caller may see (Config.CanIntrospect: by default, its
// own tokens, and every token for the clients in Config.Introspectors) is
// answered with active true, scope, client_id, username, sub, token_type
// ("Bearer" for access tokens, "DPoP" for DPoP-bound ones, "refresh_token"
// for refresh tokens, so that a resource server never takes one for the
// other), exp, iat, iss, aud, jti where known, and cnf with the jkt of a
// DPoP-bound token (RFC 9449 §6.2) (sub is omitted for client_credentials tokens, which have no
// user). Anything else — unknown, expired, revoked, or not the
// caller's to see — is {"active": false} and nothing more (§2.2). Every
// response carries Cache-Control: no-store.
func (p *Provider) IntrospectHandler() http.Handler {
	return p.bounded(http.HandlerFunc(p.serveIntrospect))
}

// introspection is RFC 7662 §2.2's response.
type introspection struct {
	Active    bool     `json:"active"`
	Scope     string   `json:"scope,omitempty"`
	ClientID  string   `json:"client_id,omitempty"`
	Username  string   `json:"username,omitempty"`
	TokenType string   `json:"token_type,omitempty"`
	Exp       int64    `json:"exp,omitempty"`
	Iat       int64    `json:"iat,omitempty"`
	Sub       string   `json:"sub,omitempty"`
	Aud       []string `json:"aud,omitempty"`
	Iss       string   `json:"iss,omitempty"`
	Jti       string   `json:"jti,omitempty"`
	Cnf       *cnf     `json:"cnf,omitempty"` // RFC 9449 §6.2: jkt of a DPoP-bound token
}

func (p *Provider) serveIntrospect(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	ev := Event{GrantType: "introspection", Addr: p.cfg.ClientAddr(r)}
	form, c, ok := p.clientForm(w, r, &ev, true)
	if !ok {
		return
	}
	raw := form.Get("token")
	if raw == "" {
		p.refuse(ctx, w, ev, errRequest("token is required"))
		return
	}
	t, err := p.lookup(ctx, raw)
	switch {
	case errors.Is(err, store.ErrNotFound):
		writeJSON(w, http.StatusOK, introspection{})
		return
	case err != nil:
		writeError(w, p.failure(ctx, "grant: introspection lookup failed", err, "client_id", c.ID))
		return
	case !p.canIntrospect(ctx, c, &t):
		writeJSON(w, http.StatusOK, introspection{})
		return
	}
	writeJSON(w, http.StatusOK, p.describe(raw, &t))
}

func (p *Provider) canIntrospect(ctx context.Context, c *store.Client, t *store.Token) bool {
	if p.cfg.CanIntrospect != nil {
		return p.cfg.CanIntrospect(ctx, c, t)
	}
	return c.ID == t.ClientID || slices.Contains(p.cfg.Introspectors, c.ID)
}

// describe is the active answer for t.
func (p *Provider) describe(raw string, t *store.Token) introspection {
	out := introspection{
		Active: true, Scope: joinScopes(t.Scopes), ClientID: t.ClientID, Username: t.Username,
		TokenType: "Bearer", Exp: t.ExpiresAt.Unix(), Iat: t.IssuedAt.Unix(),
		Sub: t.Subject, Aud: p.audience(t), Iss: p.cfg.Issuer, Cnf: confirmation(t),
	}
	switch {
	case t.Kind == store.KindRefresh:
		out.TokenType = store.KindRefresh.String()
	case t.JKT != "":
		out.TokenType = "DPoP" // RFC 9449 §6.2
	}
	if p.looksLikeJWT(raw) {
		out.Jti = jwtID(raw)
	}
	return out
}
