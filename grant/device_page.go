package grant

import (
	"context"
	"errors"
	"html/template"
	"net/http"
	"net/url"
	"path"
	"time"

	"github.com/oauthkit/oauthkit/internal/logsample"
	"github.com/oauthkit/oauthkit/internal/throttle"
	"github.com/oauthkit/oauthkit/internal/usercode"
	"github.com/oauthkit/oauthkit/store"
)

// DeviceOptions configures DeviceHandler. Its AuthorizeOptions are those
// of AuthorizeHandler, and a host usually passes the same: Authenticate
// (the host's own session instead of the built-in login page),
// ScopeDescriptions, OnConsent, and the login, consent and error
// templates. RememberedConsent and AskFirstParty are not used: a device's
// consent page is always shown, since a user code can come from someone
// else (RFC 8628 §5.4, remote phishing), and the page is the user's one
// chance to see what they allow.
type DeviceOptions struct {
	AuthorizeOptions
	// CodeTemplate and DoneTemplate replace the built-in code entry and
	// done pages; they are executed with a DeviceCodePage and a
	// DeviceDonePage, under the same Content-Security-Policy.
	CodeTemplate, DoneTemplate *template.Template
}

// DeviceCodePage is the data the code entry template is executed with. A
// replacement template must post a form to the page's own URL with the
// fields csrf_token (CSRFToken), step=code and user_code.
type DeviceCodePage struct {
	UserCode  string // the code to prefill: from ?user_code=, or as typed before
	Error     string // why the last code was refused, if it was
	CSRFToken string
	Style     template.CSS
}

// DeviceDonePage is the data the done template is executed with, once the
// user has answered.
type DeviceDonePage struct {
	ClientName string
	Approved   bool
	Style      template.CSS
}

// deviceVerifier serves the verification page. It is an authorizer, whose
// login, consent and error pages it shows.
type deviceVerifier struct {
	*authorizer
	codePage, donePage *template.Template
}

// DeviceHandler returns the device verification page (RFC 8628 §3.3), the
// verification_uri of the device authorization responses: mount it at
// Endpoints.Device (Routes does, from Pages.Device). It answers GET and
// POST, with the session, CSRF protection and pages of the authorization
// endpoint:
//
//   - the code entry page, a form with an input named user_code,
//     prefilled from ?user_code= (verification_uri_complete), so that the
//     user sees the code before sending it (§3.3.1); the code is read
//     whatever the case, dashes or spaces (§6.1); wrong codes are
//     throttled per address and across all addresses (Config.Device,
//     §5.1), and a code is kept in the session once found;
//   - then the login page (or AuthorizeOptions.Authenticate), as at
//     AuthorizeHandler;
//   - then the consent page, always, naming the client, the scopes and the
//     code, to compare with the one the device shows (§5.4);
//   - then a done page. The device's next poll gets its tokens, or
//     access_denied.
//
// It fails when neither Authenticate nor Config.Users is set, or when the
// device grant is not in Config.GrantTypes.
func (p *Provider) DeviceHandler(opts DeviceOptions) (http.Handler, error) {
	if !p.serves(store.GrantDeviceCode) {
		return nil, errors.New("grant: DeviceHandler needs the device code grant in Config.GrantTypes")
	}
	if opts.Authenticate == nil && p.cfg.Users == nil {
		return nil, errors.New("grant: DeviceHandler needs AuthorizeOptions.Authenticate or Config.Users")
	}
	pg, err := loadPages(&opts.AuthorizeOptions)
	if err != nil {
		return nil, err
	}
	v := &deviceVerifier{authorizer: &authorizer{p: p, opts: opts.AuthorizeOptions, pages: pg}}
	for _, t := range []struct {
		dst    **template.Template
		custom *template.Template
		file   string
	}{{&v.codePage, opts.CodeTemplate, "device.html"}, {&v.donePage, opts.DoneTemplate, "device_done.html"}} {
		if *t.dst = t.custom; t.custom == nil {
			if *t.dst, err = template.ParseFS(templateFS, "templates/"+t.file); err != nil {
				return nil, err
			}
		}
	}
	return p.bounded(v), nil
}

// ServeHTTP serves the verification page.
func (v *deviceVerifier) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	sess := v.p.readSession(r)
	switch r.Method {
	case http.MethodGet:
		v.get(w, r, sess)
	case http.MethodPost:
		v.post(w, r, sess)
	default:
		w.Header().Set("Allow", "GET, POST")
		v.errorPage(w, r, newError(http.StatusMethodNotAllowed, CodeInvalidRequest, "use GET or POST"))
	}
}

// get shows the code entry page, prefilled from ?user_code=; or, once a
// code was entered in this session, the page its flow is at.
func (v *deviceVerifier) get(w http.ResponseWriter, r *http.Request, sess *session) {
	if sess == nil {
		var err error
		if sess, err = v.p.newSession(); err != nil {
			v.fail(w, r, err)
			return
		}
		v.p.writeSession(w, sess)
	}
	q := r.URL.Query()
	if q.Has("user_code") || sess.Device == "" {
		v.showCode(w, r, sess, http.StatusOK, prefill(q.Get("user_code")), "")
		return
	}
	g, c, ok := v.entered(w, r, sess)
	if !ok {
		return
	}
	u, ok := v.user(w, r, sess)
	switch {
	case !ok:
	case u == nil && v.opts.Authenticate != nil:
		v.errorPage(w, r, newError(http.StatusForbidden, CodeAccessDenied, "you are not signed in; start again from your device"))
	case u == nil:
		v.loginPage(w, r, deviceRequest(g, c), sess, http.StatusOK, "", "")
	default:
		v.showConsent(w, r, g, c, sess, u)
	}
}

// prefill is the code a link came with, as the entry page shows it.
func prefill(s string) string {
	if c, ok := usercode.Normalize(s); ok {
		return usercode.Format(c)
	}
	if len(s) > usercode.MaxInput {
		return ""
	}
	return s
}

// post handles the three forms, after checking their CSRF token against
// the session cookie.
func (v *deviceVerifier) post(w http.ResponseWriter, r *http.Request, sess *session) {
	form, e := v.p.pageForm(w, r, sess, "your device")
	if e != nil {
		v.errorPage(w, r, e)
		return
	}
	switch form.Get("step") {
	case "code":
		v.enter(w, r, sess, form.Get("user_code"))
	case "login":
		v.login(w, r, sess, form)
	case "consent":
		v.consent(w, r, sess, form.Get("consent"))
	default:
		v.errorPage(w, r, errRequest("the form is not one this page sent"))
	}
}

// enter looks up a typed code, throttled, and keeps it in the session.
func (v *deviceVerifier) enter(w http.ResponseWriter, r *http.Request, sess *session, typed string) {
	ctx := r.Context()
	code, ok := usercode.Normalize(typed)
	if !ok { // malformed: no lookup, nothing learnt, nothing counted
		v.showCode(w, r, sess, http.StatusBadRequest, prefill(typed), "Enter the 8 letters your device shows.")
		return
	}
	addr := v.p.cfg.ClientAddr(r)
	if e := v.p.codeEntryWait(ctx, addr); e != nil {
		v.p.logRefusal(ctx, "grant: user code entry refused", e, "addr", addr)
		w.Header().Set("Retry-After", retryAfter(e))
		msg := "Too many wrong codes. Wait " + retryAfter(e) + " seconds and try again."
		if e.Status != http.StatusTooManyRequests {
			msg = "The server is busy. Wait " + retryAfter(e) + " seconds and try again."
		}
		v.showCode(w, r, sess, e.Status, usercode.Format(code), msg)
		return
	}
	g, err := v.p.cfg.Device.Store.DeviceGrantByUserCode(ctx, v.p.userCodeHash(code), v.p.cfg.Now())
	switch {
	case errors.Is(err, store.ErrNotFound):
		v.p.codeEntryFailed(ctx, addr)
		v.p.logRefusal(ctx, "grant: user code entry refused", errGrant("wrong or expired user code"), "addr", addr)
		v.showCode(w, r, sess, http.StatusBadRequest, usercode.Format(code), "That code is wrong or has expired. Check your device and try again.")
		return
	case err != nil:
		v.fail(w, r, err)
		return
	case g.Status != store.DevicePending:
		v.showCode(w, r, sess, http.StatusBadRequest, "", "That code was already used. Start again on your device.")
		return
	}
	sess.Device = code
	v.p.writeSession(w, sess)
	v.again(w, r)
}

// again sends the browser back to the page with GET, without a query: to
// the last segment of the path, relative, so that any prefix a proxy
// stripped is kept.
func (v *deviceVerifier) again(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Location", "./"+path.Base(r.URL.Path))
	w.WriteHeader(http.StatusSeeOther)
}

// entered returns the pending grant of the code kept in the session, and
// its client; when there is none any more it forgets the code and shows
// the entry page again.
func (v *deviceVerifier) entered(w http.ResponseWriter, r *http.Request, sess *session) (store.DeviceGrant, *store.Client, bool) {
	ctx := r.Context()
	if sess == nil || sess.Device == "" {
		v.errorPage(w, r, errRequest("enter the code your device shows first"))
		return store.DeviceGrant{}, nil, false
	}
	g, err := v.p.cfg.Device.Store.DeviceGrantByUserCode(ctx, v.p.userCodeHash(sess.Device), v.p.cfg.Now())
	var c *store.Client
	if err == nil {
		c, err = v.p.clients.Client(ctx, g.ClientID)
	}
	msg := ""
	switch {
	case errors.Is(err, store.ErrNotFound):
		msg = "That code has expired. Start again on your device."
	case err != nil:
		v.fail(w, r, err)
		return store.DeviceGrant{}, nil, false
	case g.Status != store.DevicePending:
		msg = "That code was already used. Start again on your device."
	default:
		return g, c, true
	}
	sess.Device = ""
	v.p.writeSession(w, sess)
	v.showCode(w, r, sess, http.StatusBadRequest, "", msg)
	return store.DeviceGrant{}, nil, false
}

// deviceRequest is the grant as the login and consent pages show it.
func deviceRequest(g store.DeviceGrant, c *store.Client) *authRequest {
	return &authRequest{client: c, scopes: g.Scopes}
}

// login checks the login form and, signed in, goes back to the page with
// the code still in the (new) session.
func (v *deviceVerifier) login(w http.ResponseWriter, r *http.Request, sess *session, form url.Values) {
	g, c, ok := v.entered(w, r, sess)
	if !ok {
		return
	}
	signedIn, ok := v.signIn(w, r, deviceRequest(g, c), form, sess.Device)
	if !ok {
		return
	}
	v.p.writeSession(w, signedIn)
	v.again(w, r)
}

// consent records the user's answer on the grant and shows the done page.
func (v *deviceVerifier) consent(w http.ResponseWriter, r *http.Request, sess *session, answer string) {
	ctx := r.Context()
	if answer != "allow" && answer != "deny" {
		v.errorPage(w, r, errRequest("the consent form's answer is missing"))
		return
	}
	g, c, ok := v.entered(w, r, sess)
	if !ok {
		return
	}
	u, ok := v.user(w, r, sess)
	if !ok {
		return
	}
	if u == nil {
		v.errorPage(w, r, newError(http.StatusForbidden, CodeAccessDenied, "you are not signed in; start again from your device"))
		return
	}
	if err := checkSubject(u); err != nil {
		v.fail(w, r, err)
		return
	}
	d := store.DeviceDecision{Approved: answer == "allow", Subject: u.ID, Username: u.Username}
	if sess.AuthTime != 0 && sess.UserID == u.ID {
		d.AuthTime = time.Unix(sess.AuthTime, 0)
	}
	err := v.p.cfg.Device.Store.DecideDeviceGrant(ctx, v.p.userCodeHash(sess.Device), d, v.p.cfg.Now())
	switch {
	case errors.Is(err, store.ErrNotFound), errors.Is(err, store.ErrConsumed):
		sess.Device = ""
		v.p.writeSession(w, sess)
		v.showCode(w, r, sess, http.StatusBadRequest, "", "That code was already used or has expired. Start again on your device.")
		return
	case err != nil:
		v.fail(w, r, err)
		return
	}
	if v.opts.OnConsent != nil {
		v.opts.OnConsent(ctx, ConsentRequest{Client: c, User: u, Scopes: g.Scopes}, d.Approved)
	}
	v.p.cfg.Logger.InfoContext(ctx, "grant: device authorization answered", "client_id", c.ID, "subject", u.ID,
		"approved", d.Approved, "addr", logsample.Clip(v.p.cfg.ClientAddr(r)))
	sess.Device = ""
	v.p.writeSession(w, sess)
	err = v.pages.render(w, v.donePage, http.StatusOK, "", DeviceDonePage{ClientName: clientName(c), Approved: d.Approved, Style: v.pages.style})
	v.logRender(r, err)
}

func (v *deviceVerifier) showCode(w http.ResponseWriter, r *http.Request, sess *session, status int, code, msg string) {
	err := v.pages.render(w, v.codePage, status, "", DeviceCodePage{
		UserCode: code, Error: msg, CSRFToken: v.p.csrfToken(sess), Style: v.pages.style,
	})
	v.logRender(r, err)
}

func (v *deviceVerifier) showConsent(w http.ResponseWriter, r *http.Request, g store.DeviceGrant, c *store.Client, sess *session, u *store.User) {
	err := v.pages.render(w, v.pages.consent, http.StatusOK, "", ConsentPage{
		ClientName: clientName(c), ClientID: c.ID, Username: u.Username, Scopes: v.scopeInfo(g.Scopes),
		UserCode: usercode.Format(sess.Device), CSRFToken: v.p.csrfToken(sess), Style: v.pages.style,
	})
	v.logRender(r, err)
}

// globalCodesKey counts wrong user codes from every address.
var globalCodesKey = throttle.Key("device user codes", "all addresses")

// deviceAccount is the throttle's account for user code entries: one per
// address, so that the pair limit (Throttle.PerAccount) counts an
// address's wrong codes.
const deviceAccount = "device\x00user code"

// codeEntryWait refuses a code entry from addr while that address, or all
// addresses together, must wait after wrong codes; it takes nothing.
func (p *Provider) codeEntryWait(ctx context.Context, addr string) *Error {
	if e := p.throttleWait(ctx, deviceAccount, addr); e != nil {
		return e
	}
	wait, err := p.cfg.Throttle.Counter.AttemptWait(ctx, globalCodesKey, p.cfg.Device.WrongCodes, p.cfg.Now())
	return p.waitError(ctx, wait, err)
}

// codeEntryFailed charges a wrong code to addr and to all addresses. A
// right code clears nothing: an attacker holding one code of their own
// must not buy fresh guesses with it.
func (p *Provider) codeEntryFailed(ctx context.Context, addr string) {
	p.throttleFailed(ctx, deviceAccount, addr)
	if _, err := p.cfg.Throttle.Counter.ChargeAttempt(ctx, globalCodesKey, p.cfg.Device.WrongCodes, p.cfg.Now()); err != nil && !errors.Is(err, throttle.ErrFull) {
		p.logCounterError(ctx, err)
	}
}
