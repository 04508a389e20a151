package grant

import (
	"context"
	"errors"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/google/uuid"

	"github.com/oauthkit/oauthkit/internal/cors"
	"github.com/oauthkit/oauthkit/internal/logsample"
	"github.com/oauthkit/oauthkit/store"
)

// AuthorizeOptions configures AuthorizeHandler: who the user is, and how
// consent is obtained. The zero value uses the built-in login page (backed
// by Config.Users) and the built-in consent page, and skips consent for
// first-party clients.
type AuthorizeOptions struct {
	// Authenticate, if set, tells who is signed in, from the host's own
	// session, instead of the built-in login page. It returns the user, or
	// nil and false after writing a response itself (typically a redirect
	// to the host's login page that comes back to r.URL afterwards).
	// Default: the built-in login page, which needs Config.Users.
	Authenticate func(w http.ResponseWriter, r *http.Request) (*store.User, bool)

	// RememberedConsent, if set, reports whether the user already granted
	// these scopes to this client; if so the consent page is skipped.
	// Default: consent is asked every time, except from first-party
	// clients.
	RememberedConsent func(ctx context.Context, c ConsentRequest) bool
	// OnConsent, if set, is called with the user's answer on the consent
	// page, so that the host can remember it.
	OnConsent func(ctx context.Context, c ConsentRequest, allowed bool)
	// AskFirstParty shows the consent page to first-party clients too
	// (store.Client.FirstParty). Default false: they are approved at once.
	AskFirstParty bool

	// AuthTime, with Authenticate, reports when the signed-in user last
	// authenticated, for OpenID Connect's auth_time and max_age (see
	// oidc_authorize.go). Default: unknown, so that ID tokens carry no
	// auth_time and OpenID requests with max_age are answered
	// login_required.
	AuthTime func(r *http.Request) time.Time
	// Logout, with Authenticate, ends the host's session for the
	// end-session endpoint (OpenID Connect RP-Initiated Logout); it must
	// not write the response body or status. Required with Authenticate
	// when Config.OIDC is on.
	Logout func(w http.ResponseWriter, r *http.Request)

	// ScopeDescriptions explains scopes on the pages, by scope token.
	ScopeDescriptions map[string]string
	// LoginTemplate, ConsentTemplate, ErrorTemplate and LogoutTemplate
	// replace the built-in pages; they are executed with a LoginPage, a
	// ConsentPage, an ErrorPage and a LogoutPage. The
	// Content-Security-Policy allows no script and only the built-in inline
	// style (the Style field).
	LoginTemplate, ConsentTemplate, ErrorTemplate, LogoutTemplate *template.Template
}

// ConsentRequest is what a client asks a user for.
type ConsentRequest struct {
	Client *store.Client
	User   *store.User
	Scopes []string
}

// authorizer serves the authorization endpoint.
type authorizer struct {
	p     *Provider
	opts  AuthorizeOptions
	pages *pages
}

// maxConsentForm bounds the login and consent form bodies.
const maxConsentForm = 8 << 10

// AuthorizeHandler returns the authorization endpoint (RFC 6749 §3.1, §4.1)
// for GET and POST: the Go form of Flask-OAuthlib's @authorize_handler. It
// serves the authorization code grant with PKCE S256 only.
//
// The authorization request's parameters are read from the query string
// (a GET). The handler first checks, without ever redirecting, that the
// client exists and that redirect_uri is one it registered (exact match;
// for a public client, any port of a loopback IP literal such as
// http://127.0.0.1 or http://[::1]; omitted only when it registered exactly
// one); then response_type=code, PKCE, scope. Then it
// finds the user (AuthorizeOptions.Authenticate or the built-in login
// page), asks for consent unless the client is first-party or consent was
// remembered, and redirects to the client with code, state and iss (RFC
// 9207), or error=access_denied. The pages post back to the same URL
// (POST), protected by a CSRF token bound to the session cookie; see
// session.go for the session.
//
// It fails when neither Authenticate nor Config.Users is set, or when the
// authorization_code grant is not in Config.GrantTypes.
func (p *Provider) AuthorizeHandler(opts AuthorizeOptions) (http.Handler, error) {
	if opts.Authenticate == nil && p.cfg.Users == nil {
		return nil, errors.New("grant: AuthorizeHandler needs AuthorizeOptions.Authenticate or Config.Users")
	}
	if !slices.Contains(p.cfg.GrantTypes, store.GrantAuthorizationCode) {
		return nil, errors.New("grant: AuthorizeHandler needs the authorization_code grant in Config.GrantTypes")
	}
	if p.cfg.OIDC.Enabled && opts.Authenticate != nil && opts.Logout == nil {
		return nil, errors.New("grant: with OpenID Connect, AuthorizeOptions.Authenticate needs AuthorizeOptions.Logout for the end-session endpoint")
	}
	pg, err := loadPages(&opts)
	if err != nil {
		return nil, err
	}
	return p.bounded(&authorizer{p: p, opts: opts, pages: pg}), nil
}

// ServeHTTP serves one authorization request or form post.
func (a *authorizer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		w.Header().Set("Allow", "GET, POST")
		a.errorPage(w, r, newError(http.StatusMethodNotAllowed, CodeInvalidRequest, "use GET for authorization requests"))
		return
	}
	if r.Method == http.MethodPost && r.URL.RawQuery == "" {
		a.postedRequest(w, r) // an authorization request sent by POST (oidc_authorize.go)
		return
	}
	req, ok := a.request(w, r)
	if !ok {
		return
	}
	sess := a.p.readSession(r)
	if r.Method == http.MethodPost {
		a.post(w, r, req, sess)
		return
	}
	a.get(w, r, req, sess)
}

// request validates the authorization request in r's query string,
// answering on failure.
func (a *authorizer) request(w http.ResponseWriter, r *http.Request) (*authRequest, bool) {
	ctx := r.Context()
	q, unique, err := parseAuthorizeQuery(r.URL.RawQuery)
	if err != nil {
		a.errorPage(w, r, errRequest("the request's query string is malformed"))
		return nil, false
	}
	var c *store.Client
	if id := q["client_id"]; len(id) == 1 && id[0] != "" {
		c, err = a.p.client(ctx, id[0]) // cimd.go
		if e := cimdRefusal(err); e != nil {
			a.p.logRefusal(ctx, "grant: authorization request refused", e, "client_id", logsample.Clip(id[0]))
			a.errorPage(w, r, e)
			return nil, false
		}
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			// Not yet known to be the client's: a page, never a redirect.
			a.errorPage(w, r, a.p.failure(ctx, "grant: client lookup failed", err))
			return nil, false
		}
	}
	req, page, redirect := validateAuthorize(q, unique, c, a.p.cfg.PKCEOptionalForConfidential)
	if page == nil && redirect == nil {
		page, redirect = a.p.openIDRequest(q, req) // oidc_authorize.go
	}
	switch {
	case page != nil:
		a.errorPage(w, r, page) // logs the refusal, sampled
		return nil, false
	case redirect == nil:
		req.resources, redirect = a.p.requestedResources(ctx, req.client, q["resource"]) // resource.go
	}
	if redirect != nil {
		a.p.logRefusal(ctx, "grant: authorization request refused", redirect, "client_id", logsample.Clip(req.client.ID), "addr", a.p.cfg.ClientAddr(r))
		a.redirectError(w, r, req, redirect)
		return nil, false
	}
	return req, true
}

func (a *authorizer) get(w http.ResponseWriter, r *http.Request, req *authRequest, sess *session) {
	u, ok := a.user(w, r, sess)
	if !ok {
		return
	}
	if sess == nil {
		var err error
		if sess, err = a.p.newSession(); err != nil {
			a.fail(w, r, err)
			return
		}
		a.p.writeSession(w, sess)
	}
	req.authTime = a.authTime(r, sess)
	if req.oidc != nil { // oidc_authorize.go
		login, e := a.openIDLogin(r, req, sess, u)
		switch {
		case e != nil:
			a.redirectError(w, r, req, e)
			return
		case login:
			a.loginPage(w, r, req, sess, http.StatusOK, req.oidc.loginHint, "")
			return
		}
	}
	switch {
	case u == nil && a.opts.Authenticate != nil:
		a.errorPage(w, r, newError(http.StatusForbidden, CodeAccessDenied, "you are not signed in; start again from the application"))
		return
	case u == nil:
		a.loginPage(w, r, req, sess, http.StatusOK, "", "")
		return
	}
	cr := ConsentRequest{Client: req.client, User: u, Scopes: req.scopes}
	skip := req.client.FirstParty && !a.opts.AskFirstParty || a.opts.RememberedConsent != nil && a.opts.RememberedConsent(r.Context(), cr)
	switch {
	case a.openIDConsent(req, skip): // oidc_authorize.go
		a.approve(w, r, req, u)
	case req.promptNone():
		a.redirectError(w, r, req, newError(http.StatusBadRequest, CodeConsentRequired, "the user must consent"))
	default:
		a.consentPage(w, r, req, sess, u)
	}
}

// user returns the signed-in user: from AuthorizeOptions.Authenticate, or
// from the session of the built-in login page (nil when nobody signed in).
// It reports false when Authenticate has answered the request itself.
func (a *authorizer) user(w http.ResponseWriter, r *http.Request, sess *session) (*store.User, bool) {
	if a.opts.Authenticate != nil {
		return a.opts.Authenticate(w, r)
	}
	if sess == nil || sess.UserID == "" {
		return nil, true
	}
	return &store.User{ID: sess.UserID, Username: sess.Username}, true
}

// post handles the login and consent forms, after checking their CSRF
// token against the session cookie.
func (a *authorizer) post(w http.ResponseWriter, r *http.Request, req *authRequest, sess *session) {
	form, e := a.p.pageForm(w, r, sess, "the application")
	if e != nil {
		a.errorPage(w, r, e)
		return
	}
	switch form.Get("step") {
	case "login":
		a.login(w, r, req, form)
	case "consent":
		a.consent(w, r, req, sess, form.Get("consent"))
	default:
		a.errorPage(w, r, errRequest("the form is not one this page sent"))
	}
}

// login signs the user in on the built-in login form and goes back to the
// authorization request with GET.
func (a *authorizer) login(w http.ResponseWriter, r *http.Request, req *authRequest, form url.Values) {
	sess, ok := a.signIn(w, r, req, form, "")
	if !ok {
		return
	}
	a.p.writeSession(w, sess)
	// Back to the same authorization request, now signed in.
	// A relative reference of only a query keeps the path the request
	// came in with, whatever prefix a proxy may have stripped.
	w.Header().Set("Location", "?"+r.URL.RawQuery)
	w.WriteHeader(http.StatusSeeOther)
}

// signIn checks the built-in login form (throttled, see password.go). On
// success it returns a new session (a fresh nonce, against session
// fixation) signed in as the user, for the caller to write; device, the
// user code of a device being connected, is carried into every new
// session. On failure it has answered with the login page again, or an
// error page.
func (a *authorizer) signIn(w http.ResponseWriter, r *http.Request, req *authRequest, form url.Values, device string) (*session, bool) {
	if a.opts.Authenticate != nil {
		a.errorPage(w, r, errRequest("this server does not use the built-in login page"))
		return nil, false
	}
	ctx := r.Context()
	name, pw := form.Get("username"), form.Get("password")
	sess, err := a.p.newSession()
	if err != nil {
		a.fail(w, r, err)
		return nil, false
	}
	sess.Device = device
	if name == "" || pw == "" {
		a.p.writeSession(w, sess)
		a.loginPage(w, r, req, sess, http.StatusBadRequest, name, "Enter your username and password.")
		return nil, false
	}
	u, e := a.p.checkPassword(ctx, a.p.cfg.ClientAddr(r), name, pw)
	if e != nil {
		a.p.logRefusal(ctx, "grant: login refused", e, "client_id", req.client.ID, "addr", a.p.cfg.ClientAddr(r))
		a.p.writeSession(w, sess)
		switch e.Code {
		case CodeSlowDown:
			w.Header().Set("Retry-After", retryAfter(e))
			a.loginPage(w, r, req, sess, http.StatusTooManyRequests, name, "Too many failed attempts. Wait "+retryAfter(e)+" seconds and try again.")
		case CodeTemporarilyUnavailable:
			w.Header().Set("Retry-After", retryAfter(e))
			a.loginPage(w, r, req, sess, http.StatusServiceUnavailable, name, "The server is busy. Wait "+retryAfter(e)+" seconds and try again.")
		case CodeInvalidRequest:
			a.loginPage(w, r, req, sess, http.StatusBadRequest, "", "That username contains characters that are not allowed.")
		case CodeInvalidGrant:
			a.loginPage(w, r, req, sess, http.StatusUnauthorized, name, "The username or password is incorrect.")
		default:
			a.errorPage(w, r, e)
		}
		return nil, false
	}
	sess.UserID, sess.Username = u.ID, u.Username
	// When, and for which request: OpenID Connect's auth_time, max_age
	// and prompt=login (oidc_authorize.go).
	sess.AuthTime, sess.Fresh = a.p.cfg.Now().Unix(), freshMark(r.URL.RawQuery)
	return sess, true
}

// consent acts on the consent form's answer.
func (a *authorizer) consent(w http.ResponseWriter, r *http.Request, req *authRequest, sess *session, answer string) {
	u, ok := a.user(w, r, sess)
	if !ok {
		return
	}
	if u == nil {
		a.errorPage(w, r, newError(http.StatusForbidden, CodeAccessDenied, "you are not signed in; start again from the application"))
		return
	}
	req.authTime = a.authTime(r, sess)
	cr := ConsentRequest{Client: req.client, User: u, Scopes: req.scopes}
	switch answer {
	case "allow":
		if a.opts.OnConsent != nil {
			a.opts.OnConsent(r.Context(), cr, true)
		}
		a.approve(w, r, req, u)
	case "deny":
		if a.opts.OnConsent != nil {
			a.opts.OnConsent(r.Context(), cr, false)
		}
		a.redirectError(w, r, req, newError(http.StatusForbidden, CodeAccessDenied, "the user denied the request"))
	default:
		a.errorPage(w, r, errRequest("the consent form's answer is missing"))
	}
}

// approve issues an authorization code and sends it to the client.
func (a *authorizer) approve(w http.ResponseWriter, r *http.Request, req *authRequest, u *store.User) {
	code, err := a.p.newCode(r.Context(), req, u)
	if e, ok := unavailable(err); ok {
		// The client and redirect URI are good: RFC 6749 §4.1.2.1's
		// temporarily_unavailable goes back to the client.
		a.redirectError(w, r, req, e)
		return
	}
	if err != nil {
		a.fail(w, r, err)
		return
	}
	a.redirect(w, r, req, url.Values{"code": {code}})
}

// newCode creates an authorization code for req (RFC 6749 §4.1.2): 256
// random bits kept as a hash, living Config.CodeTTL, bound to the client,
// the redirect_uri as sent, the PKCE challenge, the user and the scopes,
// and the first token of a new family. Like issue, it refuses a user whose
// ID a client's subject could equal.
func (p *Provider) newCode(ctx context.Context, req *authRequest, u *store.User) (string, error) {
	if err := checkSubject(u); err != nil {
		return "", err
	}
	raw, h, err := newSecret(PrefixCode)
	if err != nil {
		return "", err
	}
	now := p.cfg.Now()
	err = p.tokens.CreateToken(ctx, &store.Token{
		Hash: h, Kind: store.KindCode, Family: uuid.NewString(),
		ClientID: req.client.ID, Subject: u.ID, Username: u.Username, Scopes: req.scopes,
		IssuedAt: now, ExpiresAt: now.Add(p.cfg.CodeTTL),
		RedirectURI: req.sentURI, CodeChallenge: req.challenge, JKT: req.dpopJKT,
		Nonce: req.nonce(), AuthTime: req.authTime, Audience: req.resources,
	})
	if err != nil {
		return "", err
	}
	return raw, nil
}

// redirect sends the authorization response to the client's redirect URI,
// with state and iss (RFC 9207) added to params.
func (a *authorizer) redirect(w http.ResponseWriter, r *http.Request, req *authRequest, params url.Values) {
	if req.state != "" {
		params.Set("state", req.state)
	}
	params.Set("iss", a.p.cfg.Issuer)
	noStore(w.Header())
	w.Header().Set("Referrer-Policy", "no-referrer")
	status := http.StatusFound
	if r.Method == http.MethodPost {
		status = http.StatusSeeOther
	}
	w.Header().Set("Location", redirectWith(req.redirectURI, params))
	w.WriteHeader(status)
}

// redirectError sends an error response to the client (RFC 6749 §4.1.2.1).
// Only called once the client and redirect URI are known to be good.
func (a *authorizer) redirectError(w http.ResponseWriter, r *http.Request, req *authRequest, e *Error) {
	a.redirect(w, r, req, url.Values{"error": {e.Code}, "error_description": {e.Description}})
}

func (a *authorizer) loginPage(w http.ResponseWriter, r *http.Request, req *authRequest, sess *session, status int, name, msg string) {
	err := a.pages.render(w, a.pages.login, status, req.redirectURI, LoginPage{
		ClientName: clientName(req.client), Scopes: a.scopeInfo(req.scopes), Username: name, Error: msg,
		CSRFToken: a.p.csrfToken(sess), Style: a.pages.style,
	})
	a.logRender(r, err)
}

func (a *authorizer) consentPage(w http.ResponseWriter, r *http.Request, req *authRequest, sess *session, u *store.User) {
	err := a.pages.render(w, a.pages.consent, http.StatusOK, req.redirectURI, ConsentPage{
		ClientName: clientName(req.client), ClientID: req.client.ID, ClientHost: clientHost(req.client), Username: u.Username,
		Scopes: a.scopeInfo(req.scopes), RedirectOrigin: redirectOrigin(req.redirectURI),
		CSRFToken: a.p.csrfToken(sess), Style: a.pages.style,
	})
	a.logRender(r, err)
}

// errorPage answers with an HTML error page: never a redirect.
func (a *authorizer) errorPage(w http.ResponseWriter, r *http.Request, e *Error) {
	if e.Status < http.StatusInternalServerError { // 500s are logged with their cause
		a.p.logRefusal(r.Context(), "grant: authorization request refused", e,
			"client_id", logsample.Clip(r.URL.Query().Get("client_id")), "addr", a.p.cfg.ClientAddr(r))
	}
	title := errorTitles[e.Status]
	if title == "" {
		title = errorTitles[http.StatusBadRequest]
	}
	err := a.pages.render(w, a.pages.errPage, e.Status, "", ErrorPage{
		Status: e.Status, Title: title, Message: e.Description, Code: e.Code, Style: a.pages.style,
	})
	a.logRender(r, err)
}

// fail reports an internal error with a 500 page, or a 503 page when a
// store is unavailable (see failure).
func (a *authorizer) fail(w http.ResponseWriter, r *http.Request, err error) {
	a.errorPage(w, r, a.p.failure(r.Context(), "grant: authorization request failed", err))
}

func (a *authorizer) logRender(r *http.Request, err error) {
	if err != nil {
		a.p.cfg.Logger.ErrorContext(r.Context(), "grant: rendering a page failed", "err", err)
	}
}

func (a *authorizer) scopeInfo(scopes []string) []ScopeInfo {
	out := make([]ScopeInfo, len(scopes))
	for i, s := range scopes {
		out[i] = ScopeInfo{Name: s, Description: a.opts.ScopeDescriptions[s]}
	}
	return out
}

func clientName(c *store.Client) string {
	if c.Name != "" {
		return c.Name
	}
	return c.ID
}

// redirectOrigin is what the consent page says the user goes back to.
func redirectOrigin(uri string) string {
	if o, ok := cors.OriginOf(uri); ok {
		return o.String()
	}
	if u, err := url.Parse(uri); err == nil && u.Scheme != "" {
		return "the application (" + u.Scheme + ":)"
	}
	return "the application"
}

// retryAfter is e's Retry-After value in whole seconds.
func retryAfter(e *Error) string {
	return strconv.Itoa(int((e.retryAfter + time.Second - 1) / time.Second))
}
