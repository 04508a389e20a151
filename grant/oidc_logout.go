package grant

import (
	"context"
	"errors"
	"mime"
	"net/http"
	"net/url"
	"slices"

	"github.com/oauthkit/oauthkit/store"
)

// The end-session endpoint (OpenID Connect RP-Initiated Logout 1.0), GET
// with the parameters in the query, or POST with them in a form body:
// id_token_hint, client_id, post_logout_redirect_uri, state (others are
// ignored).
//
//   - id_token_hint, if sent, must be an ID token this provider signed,
//     expired or not (oidc_idtoken.go); client_id, if sent with it, must be
//     its aud. Otherwise: a 400 page.
//   - post_logout_redirect_uri needs the client (the hint's aud, or
//     client_id) and must be one of its registered PostLogoutRedirectURIs,
//     byte for byte; otherwise a 400 page, never a redirect (§3).
//   - The session ends at once when the hint names the signed-in user (or
//     nobody is signed in). Otherwise (no hint, or another user's) the user
//     is asked to confirm, on a page whose form carries a CSRF token bound to
//     the session cookie, so that a page of another site cannot sign the
//     user out (§2: the OP SHOULD ask).
//   - Ending the session clears the session cookie in the browser (and calls
//     AuthorizeOptions.Logout for a host's own session); then the browser
//     goes to post_logout_redirect_uri with state, or sees a signed-out
//     page.
//
// The session cookie is signed, not kept on the server (session.go): a copy
// of it taken before the logout stays valid until it expires
// (Config.SessionTTL). A host that needs server-side revocation of sessions
// keeps its own (AuthorizeOptions.Authenticate and Logout).

// EndSessionHandler returns the end-session endpoint, built with the same
// options as AuthorizeHandler (its pages; Authenticate and Logout for a
// host's own session). Routes mounts it from Pages.Authorize when that
// comes from AuthorizeHandler. It fails unless Config.OIDC is on.
func (p *Provider) EndSessionHandler(opts AuthorizeOptions) (http.Handler, error) {
	if !p.cfg.OIDC.Enabled {
		return nil, errors.New("grant: EndSessionHandler needs Config.OIDC")
	}
	if opts.Authenticate != nil && opts.Logout == nil {
		return nil, errors.New("grant: EndSessionHandler with AuthorizeOptions.Authenticate needs AuthorizeOptions.Logout")
	}
	pg, err := loadPages(&opts)
	if err != nil {
		return nil, err
	}
	return p.bounded(endSession{&authorizer{p: p, opts: opts, pages: pg}}), nil
}

// endSession serves the end-session endpoint with an authorizer's pages.
type endSession struct{ *authorizer }

// logoutParams are the parameters the end-session endpoint reads, and
// posts back from the confirmation page.
var logoutParams = []string{"id_token_hint", "client_id", "post_logout_redirect_uri", "state"}

// logoutRequest is a validated end-session request.
type logoutRequest struct {
	hint     *idTokenClaims // nil when not sent
	client   *store.Client  // the client named by the hint or client_id; may be nil
	redirect string         // post_logout_redirect_uri, registered; "" when none
	state    string
}

func (h endSession) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	params, e := h.params(w, r)
	if e != nil {
		h.errorPage(w, r, e)
		return
	}
	ctx := r.Context()
	lr, e := h.p.logoutRequest(ctx, params)
	if e != nil {
		h.errorPage(w, r, e) // logs the refusal, sampled
		return
	}
	sess := h.p.readSession(r)
	confirming := r.Method == http.MethodPost && params.Get("step") == "logout"
	if confirming && !h.p.checkCSRF(sess, params.Get("csrf_token")) {
		h.errorPage(w, r, newError(http.StatusForbidden, CodeAccessDenied, "the form is stale or did not come from this site; start again from the application"))
		return
	}
	if !confirming && h.needsConfirmation(lr, sess) {
		h.confirmPage(w, r, lr, sess, params)
		return
	}
	h.p.clearSession(w)
	if h.opts.Logout != nil {
		h.opts.Logout(w, r)
	}
	clientID := ""
	if lr.client != nil {
		clientID = lr.client.ID
	}
	h.p.cfg.Logger.InfoContext(ctx, "grant: signed out", "client_id", clientID)
	if lr.redirect == "" {
		err := h.pages.render(w, h.pages.logout, http.StatusOK, "", LogoutPage{Style: h.pages.style})
		h.logRender(r, err)
		return
	}
	loc := lr.redirect
	if lr.state != "" {
		loc = redirectWith(loc, url.Values{"state": {lr.state}})
	}
	noStore(w.Header())
	w.Header().Set("Referrer-Policy", "no-referrer")
	w.Header().Set("Location", loc)
	if r.Method == http.MethodPost {
		w.WriteHeader(http.StatusSeeOther)
	} else {
		w.WriteHeader(http.StatusFound)
	}
}

// params reads the request's parameters: the query of a GET, the form body
// of a POST (bounded, application/x-www-form-urlencoded); none twice.
func (h endSession) params(w http.ResponseWriter, r *http.Request) (url.Values, *Error) {
	switch r.Method {
	case http.MethodGet:
		q, unique, err := parseAuthorizeQuery(r.URL.RawQuery)
		if err != nil || !unique {
			return nil, errRequest("the request's query string is malformed, or has a parameter twice")
		}
		return q, nil
	case http.MethodPost:
		mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
		if mt != "application/x-www-form-urlencoded" {
			return nil, newError(http.StatusUnsupportedMediaType, CodeInvalidRequest, "the form must be sent as application/x-www-form-urlencoded")
		}
		r.Body = http.MaxBytesReader(w, r.Body, maxConsentForm)
		if err := r.ParseForm(); err != nil {
			return nil, errRequest("the form could not be read")
		}
		for _, v := range r.PostForm {
			if len(v) > 1 {
				return nil, errRequest("a parameter is included more than once")
			}
		}
		return r.PostForm, nil
	}
	w.Header().Set("Allow", "GET, POST")
	return nil, newError(http.StatusMethodNotAllowed, CodeInvalidRequest, "use GET or POST")
}

// logoutRequest validates an end-session request's parameters.
func (p *Provider) logoutRequest(ctx context.Context, params url.Values) (*logoutRequest, *Error) {
	lr := &logoutRequest{state: params.Get("state")}
	if raw := params.Get("id_token_hint"); raw != "" {
		hint, err := p.parseIDTokenHint(raw)
		if err != nil {
			return nil, errRequest("id_token_hint is not an ID token this provider issued")
		}
		lr.hint = hint
	}
	id := params.Get("client_id")
	if lr.hint != nil {
		if id != "" && id != lr.hint.Aud {
			return nil, errRequest("client_id is not the client the id_token_hint was issued to")
		}
		id = lr.hint.Aud
	}
	uri := params.Get("post_logout_redirect_uri")
	if id != "" {
		c, err := p.clients.Client(ctx, id)
		switch {
		case errors.Is(err, store.ErrNotFound):
			if uri != "" {
				return nil, errRequest("the client is not registered")
			}
		case err != nil:
			return nil, p.failure(ctx, "grant: client lookup failed", err)
		default:
			lr.client = c
		}
	}
	if uri != "" {
		if lr.client == nil {
			return nil, errRequest("post_logout_redirect_uri needs id_token_hint or client_id")
		}
		if !slices.Contains(lr.client.PostLogoutRedirectURIs, uri) {
			return nil, errRequest("the post_logout_redirect_uri is not one the client registered")
		}
		lr.redirect = uri
	}
	return lr, nil
}

// needsConfirmation reports whether the user must confirm the logout: a
// session of the built-in login page that the hint does not name, or, for
// a host's own session (whose user is not known here), no hint.
func (h endSession) needsConfirmation(lr *logoutRequest, sess *session) bool {
	if h.opts.Authenticate != nil {
		return lr.hint == nil
	}
	return sess != nil && sess.UserID != "" && (lr.hint == nil || lr.hint.Sub != sess.UserID)
}

// confirmPage asks the user to confirm the logout, posting params back.
func (h endSession) confirmPage(w http.ResponseWriter, r *http.Request, lr *logoutRequest, sess *session, params url.Values) {
	if sess == nil {
		var err error
		if sess, err = h.p.newSession(); err != nil {
			h.fail(w, r, err)
			return
		}
		h.p.writeSession(w, sess)
	}
	page := LogoutPage{Username: sess.Username, CSRFToken: h.p.csrfToken(sess), Style: h.pages.style}
	if lr.client != nil {
		page.ClientName = clientName(lr.client)
	}
	for _, k := range logoutParams {
		if v := params.Get(k); v != "" {
			page.Fields = append(page.Fields, HiddenField{k, v})
		}
	}
	err := h.pages.render(w, h.pages.logout, http.StatusOK, lr.redirect, page)
	h.logRender(r, err)
}

// clearSession removes the session cookie from the browser.
func (p *Provider) clearSession(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{
		Name: p.sessionCookieName(), Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, Secure: p.secureCookies(), SameSite: http.SameSiteLaxMode,
	})
}
