package grant

import (
	"errors"
	"net/http"
	"slices"
	"time"

	"github.com/oauthkit/oauthkit/internal/cors"
	"github.com/oauthkit/oauthkit/middleware"
	"github.com/oauthkit/oauthkit/store"
)

// UserInfoHandler returns the UserInfo endpoint (OpenID Connect Core §5.3)
// for GET and POST. The access token comes in an "Authorization: Bearer"
// header, or, in a POST, as the access_token parameter of an
// application/x-www-form-urlencoded body (Core §5.3.1, RFC 6750 §2.2);
// never in the query string, and never by two methods at once. It must be
// live and granted openid to a user (Core §5.3); the answer is the user's
// sub and the claims of Config.OIDC.Claims that its scopes allow (profile,
// email, address, phone: Core §5.4), as JSON with Cache-Control: no-store.
// A missing, unknown, expired or revoked token is answered 401 with
// WWW-Authenticate: Bearer error="invalid_token"; a token without openid 403
// insufficient_scope; a malformed request 400 invalid_request (RFC 6750
// §3.1).
//
// Browser apps may call it cross-origin like the token endpoint: a
// preflight is granted to the origins of registered clients, and the answer
// is readable by the origins of the token's own client (cors.go).
func (p *Provider) UserInfoHandler() http.Handler {
	pol := &cors.Policy{
		Methods:        []string{http.MethodGet, http.MethodPost},
		Headers:        []string{"Authorization", "Content-Type"},
		Expose:         []string{"WWW-Authenticate"},
		MaxAge:         10 * time.Minute,
		AllowPreflight: p.anyClientOrigin,
	}
	return pol.Wrap(p.bounded(http.HandlerFunc(p.serveUserInfo)))
}

// userInfo is the UserInfo response: sub, then the released claims.
type userInfo struct {
	Sub string `json:"sub"`
	*UserClaims
	EmailVerified       *bool `json:"email_verified,omitempty"`
	PhoneNumberVerified *bool `json:"phone_number_verified,omitempty"`
	UpdatedAt           int64 `json:"updated_at,omitempty"`
}

func (p *Provider) serveUserInfo(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		w.Header().Set("Allow", "GET, POST")
		refuseBearer(w, http.StatusMethodNotAllowed, middleware.CodeInvalidRequest, "use GET or POST")
		return
	}
	raw, e := userInfoToken(w, r)
	if e != nil {
		refuseBearer(w, e.Status, e.Code, e.Description)
		return
	}
	tok, err := p.ValidateToken(ctx, raw)
	switch {
	case errors.Is(err, middleware.ErrInvalidToken):
		refuseBearer(w, http.StatusUnauthorized, middleware.CodeInvalidToken, "the access token is invalid, expired or revoked")
		return
	case err != nil:
		writeError(w, p.failure(ctx, "grant: userinfo token lookup failed", err))
		return
	}
	if r.Header.Get("Origin") != "" {
		if c, err := p.clients.Client(ctx, tok.ClientID); err == nil {
			p.allowOrigin(w, r, c)
		}
	}
	if tok.Subject == "" {
		refuseBearer(w, http.StatusUnauthorized, middleware.CodeInvalidToken, "the access token was not granted by a user")
		return
	}
	if !tok.HasScope(ScopeOpenID) {
		refuseBearer(w, http.StatusForbidden, middleware.CodeInsufficientScope, "the access token was not granted openid")
		return
	}
	u := &store.User{ID: tok.Subject, Username: tok.Username}
	claims := &UserClaims{PreferredUsername: u.Username}
	if p.cfg.OIDC.Claims != nil {
		claims, err = p.cfg.OIDC.Claims(ctx, u)
		switch {
		case errors.Is(err, store.ErrNotFound):
			refuseBearer(w, http.StatusUnauthorized, middleware.CodeInvalidToken, "the user no longer exists")
			return
		case err != nil:
			writeError(w, p.failure(ctx, "grant: userinfo claims lookup failed", err))
			return
		}
	}
	writeJSON(w, http.StatusOK, release(u.ID, claims, tok.Scopes))
}

// release returns the UserInfo answer for sub: the claims that scopes allow
// (Core §5.4).
func release(sub string, c *UserClaims, scopes []string) userInfo {
	out := userInfo{Sub: sub}
	if c == nil {
		return out
	}
	var rel UserClaims
	if slices.Contains(scopes, ScopeProfile) {
		rel.Name, rel.GivenName, rel.FamilyName, rel.MiddleName = c.Name, c.GivenName, c.FamilyName, c.MiddleName
		rel.Nickname, rel.PreferredUsername, rel.Profile, rel.Picture = c.Nickname, c.PreferredUsername, c.Profile, c.Picture
		rel.Website, rel.Gender, rel.Birthdate, rel.Zoneinfo, rel.Locale = c.Website, c.Gender, c.Birthdate, c.Zoneinfo, c.Locale
		if !c.UpdatedAt.IsZero() {
			out.UpdatedAt = c.UpdatedAt.Unix()
		}
	}
	if slices.Contains(scopes, ScopeEmail) && c.Email != "" {
		rel.Email = c.Email
		v := c.EmailVerified
		out.EmailVerified = &v
	}
	if slices.Contains(scopes, ScopeAddress) && c.Address != nil {
		a := *c.Address
		rel.Address = &a
	}
	if slices.Contains(scopes, ScopePhone) && c.PhoneNumber != "" {
		rel.PhoneNumber = c.PhoneNumber
		v := c.PhoneNumberVerified
		out.PhoneNumberVerified = &v
	}
	out.UserClaims = &rel
	return out
}

// userInfoToken reads the access token of a UserInfo request: one
// Authorization: Bearer header, or the access_token of a POST form body.
func userInfoToken(w http.ResponseWriter, r *http.Request) (string, *Error) {
	if r.URL.Query().Has("access_token") {
		return "", errRequest("send the access token in the Authorization header or a POST body, not the URL")
	}
	var header string
	switch h := r.Header.Values("Authorization"); {
	case len(h) > 1:
		return "", errRequest("more than one Authorization header")
	case len(h) == 1 && hasScheme(h[0], "bearer"):
		header = h[0][len("bearer "):]
		for len(header) > 0 && header[0] == ' ' {
			header = header[1:]
		}
	}
	var body string
	if r.Method == http.MethodPost && isMediaType(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
		if err := r.ParseForm(); err != nil {
			return "", errRequest("the request body is not a valid form")
		}
		switch v := r.PostForm["access_token"]; {
		case len(v) > 1:
			return "", errRequest("access_token is included more than once")
		case len(v) == 1:
			body = v[0]
		}
	}
	switch {
	case header != "" && body != "":
		return "", errRequest("send the access token by one method only")
	case header == "" && body == "":
		return "", newError(http.StatusUnauthorized, middleware.CodeInvalidToken, "an access token is required")
	case len(header)+len(body) > maxJWTLen:
		return "", newError(http.StatusUnauthorized, middleware.CodeInvalidToken, "the access token is invalid")
	}
	return header + body, nil
}

// refuseBearer answers with an RFC 6750 §3 error: the challenge and a JSON
// body, not to be cached.
func refuseBearer(w http.ResponseWriter, status int, code, desc string) {
	middleware.WriteError(w, nil, &middleware.Error{Status: status, Code: code, Description: desc})
}
