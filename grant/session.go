package grant

import (
	"crypto/hmac"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// The authorization endpoint's browser session is a cookie signed with
// HMAC-SHA256 under a subkey of Config.Secret: nothing is kept on
// the server, so any instance sharing the key can read it. It carries a
// random nonce (the CSRF tokens of the forms are an HMAC of it), after the
// built-in login page succeeded the user's ID and name and when they signed
// in, and, while a device is being connected on the device verification
// page (device_page.go), the user code entered there. It is HttpOnly,
// SameSite=Lax, and under an https issuer Secure with the __Host- prefix.
//
// A signed cookie cannot be revoked before it expires (Config.SessionTTL);
// a host that needs server-side logout provides its own session through
// AuthorizeOptions.Authenticate.

// session is the cookie's content.
type session struct {
	Nonce    string `json:"n"`
	UserID   string `json:"u,omitempty"`
	Username string `json:"un,omitempty"`
	Expires  int64  `json:"e"` // Unix seconds
	// AuthTime is when the user signed in (Unix seconds; 0 when unknown),
	// and Fresh names the authorization request that login answered
	// (freshMark), for OpenID Connect (oidc_authorize.go).
	AuthTime int64  `json:"at,omitempty"`
	Fresh    string `json:"f,omitempty"`
	Device   string `json:"d,omitempty"` // the normalised user code being answered
}

// maxCookieBytes bounds the session cookie we are willing to verify.
const maxCookieBytes = 2048

func (p *Provider) sessionCookieName() string {
	if p.secureCookies() {
		return "__Host-oauthkit-session"
	}
	return "oauthkit_session"
}

func (p *Provider) secureCookies() bool { return strings.HasPrefix(p.cfg.Issuer, "https://") }

// newSession returns an anonymous session with a fresh 256-bit nonce.
func (p *Provider) newSession() (*session, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return nil, err
	}
	return &session{
		Nonce:   base64.RawURLEncoding.EncodeToString(b[:]),
		Expires: p.cfg.Now().Add(p.cfg.SessionTTL).Unix(),
	}, nil
}

// readSession returns the request's valid, unexpired session, or nil.
func (p *Provider) readSession(r *http.Request) *session {
	c, err := r.Cookie(p.sessionCookieName())
	if err != nil || len(c.Value) > maxCookieBytes {
		return nil
	}
	payload, sig, ok := strings.Cut(c.Value, ".")
	if !ok {
		return nil
	}
	got, err1 := base64.RawURLEncoding.DecodeString(sig)
	raw, err2 := base64.RawURLEncoding.DecodeString(payload)
	if err1 != nil || err2 != nil || !hmac.Equal(got, p.mac(purposeSession, []byte(payload))) {
		return nil
	}
	var s session
	if json.Unmarshal(raw, &s) != nil || s.Nonce == "" || !p.cfg.Now().Before(time.Unix(s.Expires, 0)) {
		return nil
	}
	return &s
}

// writeSession sets the session cookie.
func (p *Provider) writeSession(w http.ResponseWriter, s *session) {
	raw, _ := json.Marshal(s) // a struct of strings and an int cannot fail
	payload := base64.RawURLEncoding.EncodeToString(raw)
	sig := base64.RawURLEncoding.EncodeToString(p.mac(purposeSession, []byte(payload)))
	http.SetCookie(w, &http.Cookie{
		Name:     p.sessionCookieName(),
		Value:    payload + "." + sig,
		Path:     "/",
		Expires:  time.Unix(s.Expires, 0),
		MaxAge:   int(max(1, s.Expires-p.cfg.Now().Unix())),
		HttpOnly: true,
		Secure:   p.secureCookies(),
		SameSite: http.SameSiteLaxMode,
	})
}

// csrfToken is the token the session's forms carry: an HMAC of its nonce,
// so that only a page that could read the cookie's nonce could forge it.
func (p *Provider) csrfToken(s *session) string {
	return base64.RawURLEncoding.EncodeToString(p.mac(purposeCSRF, []byte(s.Nonce)))
}

// checkCSRF reports whether tok is s's CSRF token, in constant time.
func (p *Provider) checkCSRF(s *session, tok string) bool {
	got, err := base64.RawURLEncoding.DecodeString(tok)
	return s != nil && err == nil && hmac.Equal(got, p.mac(purposeCSRF, []byte(s.Nonce)))
}

// pageForm reads a form that one of the built-in pages posted: form
// encoded, bounded, and carrying the session's CSRF token. On failure it
// returns the error to show on an error page; startOver names where the
// user starts again ("the application", "your device").
func (p *Provider) pageForm(w http.ResponseWriter, r *http.Request, sess *session, startOver string) (url.Values, *Error) {
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt != "application/x-www-form-urlencoded" {
		return nil, newError(http.StatusUnsupportedMediaType, CodeInvalidRequest, "the form must be sent as application/x-www-form-urlencoded")
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxConsentForm)
	if err := r.ParseForm(); err != nil {
		return nil, errRequest("the form could not be read")
	}
	if !p.checkCSRF(sess, r.PostForm.Get("csrf_token")) {
		return nil, newError(http.StatusForbidden, CodeAccessDenied, "the form is stale or did not come from this site; start again from "+startOver)
	}
	return r.PostForm, nil
}
