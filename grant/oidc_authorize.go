package grant

import (
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/oauthkit/oauthkit/store"
)

// The authorization endpoint's OpenID Connect parameters (Core §3.1.2.1),
// for an OpenID request: one whose scope parameter names openid. The other
// authentication request parameters (display, ui_locales, claims_locales,
// acr_values, claims, response_mode=query) and unknown ones are ignored;
// request and request_uri are refused with request_not_supported and
// request_uri_not_supported (Core §6.1, §6.2), for every request, once the
// client and redirect URI are known to be good.
//
//   - redirect_uri is required (Core §3.1.2.1): without it, an error page.
//   - nonce, at most 512 bytes, is kept with the code and put in the ID token.
//   - prompt: none answers without any page: login_required when nobody is
//     signed in, when the session is too old for max_age or is another
//     user's than id_token_hint's, consent_required when consent would be
//     asked; none with another value is invalid_request. login and
//     select_account show the login page even to a signed-in user (one
//     account per browser session: selecting an account is signing in
//     again, possibly as another user); consent shows the consent page even
//     to a first-party client or a remembered consent. Unknown values are
//     ignored.
//   - max_age: a session whose login is older than max_age seconds (or of
//     an unknown time) signs in again; max_age=0 is prompt=login. The ID
//     token carries auth_time, the time of the login, always when known.
//   - id_token_hint: an ID token this provider signed, expired or not
//     (oidc_idtoken.go); a session of another user signs in again, and a
//     login as another user than the hint's is answered login_required.
//   - login_hint: the login page's username field, filled in.
//   - offline_access: kept only when the user consents to it on the consent
//     page, which is then shown even when consent was remembered (Core §11),
//     or for a first-party client; with prompt=none and no such condition it
//     is dropped from the grant. An OpenID grant gets a refresh token only
//     with it (oidc.go).
//
// The login page (built in) satisfies prompt=login and max_age for the very
// request it answered: the session records a hash of that request's query
// (session.Fresh), so that the request, repeated after the login, does not
// show the page again. A host's own session (AuthorizeOptions.Authenticate)
// cannot be asked to sign in again from here: prompt=login, and max_age
// without AuthorizeOptions.AuthTime or with an older login, are answered
// login_required.

// oidcRequest is what an OpenID request adds to an authorization request.
type oidcRequest struct {
	nonce     string
	prompt    prompts
	maxAge    int64          // seconds; -1 when not sent
	hint      *idTokenClaims // the id_token_hint, verified; nil when not sent
	loginHint string
}

// prompts is a set of prompt values.
type prompts uint8

const (
	promptNone prompts = 1 << iota
	promptLogin
	promptConsent
	promptSelectAccount
)

var promptValues = map[string]prompts{
	"none": promptNone, "login": promptLogin, "consent": promptConsent, "select_account": promptSelectAccount,
}

// Bounds of the OpenID parameters.
const (
	maxNonceLen     = 512
	maxLoginHintLen = 256
	maxMaxAgeDigits = 10
)

// refuseRequestObjects answers request and request_uri (Core §6): request
// objects are not supported.
func refuseRequestObjects(q url.Values) *Error {
	switch {
	case q.Has("request"):
		return newError(http.StatusBadRequest, CodeRequestNotSupported, "request objects are not supported")
	case q.Has("request_uri"):
		return newError(http.StatusBadRequest, CodeRequestURINotSupported, "request_uri is not supported")
	}
	return nil
}

// openIDRequest reads the OpenID parameters of req, validated but for them,
// into req.oidc. page is an error to show, redirect one to send back.
func (p *Provider) openIDRequest(q url.Values, req *authRequest) (page, redirect *Error) {
	if !p.cfg.OIDC.Enabled {
		return nil, nil
	}
	asked, _ := parseScope(q.Get("scope")) // checked by validateAuthorize
	if !slices.Contains(asked, ScopeOpenID) {
		// Only a request that names openid is an OpenID request: a
		// client's default scopes do not make one.
		req.scopes = without(req.scopes, ScopeOpenID)
		return nil, nil
	}
	if req.sentURI == "" {
		return errRequest("an OpenID Connect request must include redirect_uri"), nil
	}
	o := &oidcRequest{nonce: q.Get("nonce"), maxAge: -1}
	if len(o.nonce) > maxNonceLen {
		return nil, errRequest("nonce is longer than 512 bytes")
	}
	for v := range strings.FieldsSeq(q.Get("prompt")) {
		o.prompt |= promptValues[v] // unknown values are ignored
	}
	if o.prompt&promptNone != 0 && o.prompt != promptNone {
		return nil, errRequest("prompt=none cannot be combined with another value")
	}
	if s := q.Get("max_age"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n < 0 || len(s) > maxMaxAgeDigits {
			return nil, errRequest("max_age must be a number of seconds")
		}
		o.maxAge = n
	}
	if raw := q.Get("id_token_hint"); raw != "" {
		hint, err := p.parseIDTokenHint(raw)
		if err != nil {
			return nil, errRequest("id_token_hint is not an ID token this provider issued")
		}
		o.hint = hint
	}
	if h := q.Get("login_hint"); len(h) <= maxLoginHintLen {
		o.loginHint = h
	}
	req.oidc = o
	return nil, nil
}

// nonce is the request's OpenID nonce, if any.
func (req *authRequest) nonce() string {
	if req.oidc == nil {
		return ""
	}
	return req.oidc.nonce
}

// promptNone reports whether the request must be answered without a page.
func (req *authRequest) promptNone() bool { return req.oidc != nil && req.oidc.prompt&promptNone != 0 }

// freshMark names the authorization request a login answered: the session
// keeps it (session.Fresh), so that the request, repeated after the login,
// counts as freshly authenticated for prompt=login and max_age.
func freshMark(rawQuery string) string {
	sum := sha256.Sum256([]byte(rawQuery))
	return base64.RawURLEncoding.EncodeToString(sum[:16])
}

// authTime is when the signed-in user authenticated: the login time of the
// session, or what AuthorizeOptions.AuthTime reports for a host's own;
// zero when unknown.
func (a *authorizer) authTime(r *http.Request, sess *session) time.Time {
	if a.opts.Authenticate != nil {
		if a.opts.AuthTime != nil {
			return a.opts.AuthTime(r)
		}
		return time.Time{}
	}
	if sess == nil || sess.AuthTime == 0 {
		return time.Time{}
	}
	return time.Unix(sess.AuthTime, 0)
}

// openIDLogin decides, for an OpenID request, whether user u (nil when
// nobody is signed in) must sign in first (login), or the request must be
// answered with error e.
func (a *authorizer) openIDLogin(r *http.Request, req *authRequest, sess *session, u *store.User) (login bool, e *Error) {
	o := req.oidc
	fresh := u != nil && a.opts.Authenticate == nil && sess != nil && sess.Fresh != "" && sess.Fresh == freshMark(r.URL.RawQuery)
	need := false
	switch {
	case u == nil:
		need = true
	case fresh:
		if o.hint != nil && o.hint.Sub != u.ID {
			return false, newError(http.StatusBadRequest, CodeLoginRequired, "signed in as another user than the id_token_hint names")
		}
	case o.prompt&(promptLogin|promptSelectAccount) != 0 || o.maxAge == 0:
		need = true
	case o.maxAge > 0 && (req.authTime.IsZero() || a.p.cfg.Now().Sub(req.authTime) > time.Duration(o.maxAge)*time.Second):
		need = true
	case o.hint != nil && o.hint.Sub != u.ID:
		need = true
	}
	switch {
	case !need:
		return false, nil
	case o.prompt&promptNone != 0:
		return false, newError(http.StatusBadRequest, CodeLoginRequired, "the user must sign in")
	case a.opts.Authenticate != nil && u != nil:
		return false, newError(http.StatusBadRequest, CodeLoginRequired, "the user must sign in again at the application")
	}
	// The built-in login page; a host's page for nobody signed in is
	// handled as for any request.
	return a.opts.Authenticate == nil, nil
}

// openIDConsent adjusts the consent decision for an OpenID request: skip
// is whether the consent page would be skipped (first-party client, or
// consent remembered). prompt=consent always shows it; offline_access
// shows it unless the client is first-party, and is dropped instead under
// prompt=none.
func (a *authorizer) openIDConsent(req *authRequest, skip bool) bool {
	o := req.oidc
	if o == nil {
		return skip
	}
	if o.prompt&promptConsent != 0 {
		return false
	}
	firstParty := req.client.FirstParty && !a.opts.AskFirstParty
	if !firstParty && slices.Contains(req.scopes, ScopeOfflineAccess) {
		if o.prompt&promptNone == 0 {
			return false
		}
		req.scopes = without(req.scopes, ScopeOfflineAccess)
	}
	return skip
}

// postedRequest answers an authorization request sent as a POST form
// (Core §3.1.2.1: the authorization endpoint supports GET and POST) by
// sending the browser to the same request as a GET, which is then checked
// like any other. The pages' own forms post to the URL with its query
// string, so a POST without one is a request.
func (a *authorizer) postedRequest(w http.ResponseWriter, r *http.Request) {
	if !isMediaType(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		a.errorPage(w, r, newError(http.StatusUnsupportedMediaType, CodeInvalidRequest, "the form must be sent as application/x-www-form-urlencoded"))
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxConsentForm)
	if err := r.ParseForm(); err != nil || len(r.PostForm) == 0 {
		a.errorPage(w, r, errRequest("the authorization request could not be read"))
		return
	}
	noStore(w.Header())
	w.Header().Set("Location", "?"+r.PostForm.Encode())
	w.WriteHeader(http.StatusSeeOther)
}
