package grant

import (
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strings"
)

//go:embed templates/*.html templates/style.css
var templateFS embed.FS

// ScopeInfo is one scope as the pages show it.
type ScopeInfo struct {
	Name        string // the scope token
	Description string // from AuthorizeOptions.ScopeDescriptions; may be empty
}

// LoginPage is the data the login template is executed with. A replacement
// template must post a form to the page's own URL (no action attribute)
// with the fields csrf_token (CSRFToken), step=login, username and password.
type LoginPage struct {
	ClientName string      // the client's name, or its ID
	Scopes     []ScopeInfo // what the client asks for
	Username   string      // the name typed before, after a failure
	Error      string      // why the last attempt failed, if it did
	CSRFToken  string      // the csrf_token field's value
	Style      template.CSS
}

// ConsentPage is the data the consent template is executed with. A
// replacement template must post a form to the page's own URL with the
// fields csrf_token (CSRFToken), step=consent, and consent=allow or
// consent=deny (the built-in page uses two submit buttons).
type ConsentPage struct {
	ClientName     string
	ClientID       string
	ClientHost     string // for a client ID that is a URL (a client ID metadata document): its host, to show plainly; "" otherwise
	Username       string
	Scopes         []ScopeInfo
	RedirectOrigin string // where the user will be sent back to; empty for a device
	UserCode       string // for a device (DeviceHandler): the code entered, for the user to check against the device's
	CSRFToken      string
	Style          template.CSS
}

// ErrorPage is the data the error template is executed with, for requests
// that must not be redirected back to the client.
type ErrorPage struct {
	Status  int    // the HTTP status
	Title   string // a short heading
	Message string // what went wrong, safe to show
	Code    string // the RFC 6749 error code
	Style   template.CSS
}

// LogoutPage is the data the logout template is executed with, by the
// end-session endpoint (oidc_logout.go): a confirmation form when CSRFToken
// is set, else the notice that the user is signed out. A replacement
// template must post the form to the page's own URL with the fields
// csrf_token (CSRFToken), step=logout, and each of Fields.
type LogoutPage struct {
	ClientName string        // the application that asks, if known
	Username   string        // who is signed in, if known
	CSRFToken  string        // the csrf_token field's value; empty once signed out
	Fields     []HiddenField // the logout request's parameters, to post back
	Style      template.CSS
}

// HiddenField is one hidden field of a form.
type HiddenField struct{ Name, Value string }

// pages holds the templates one AuthorizeHandler renders.
type pages struct {
	login, consent, errPage, logout *template.Template
	style                           template.CSS
	styleHash                       string // CSP source for the inline style
}

func loadPages(o *AuthorizeOptions) (*pages, error) {
	css, err := templateFS.ReadFile("templates/style.css")
	if err != nil {
		return nil, fmt.Errorf("grant: pages: %w", err)
	}
	sum := sha256.Sum256(css)
	pg := &pages{style: template.CSS(css), styleHash: "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"}
	for _, t := range []struct {
		dst    **template.Template
		custom *template.Template
		file   string
	}{
		{&pg.login, o.LoginTemplate, "login.html"}, {&pg.consent, o.ConsentTemplate, "consent.html"},
		{&pg.errPage, o.ErrorTemplate, "error.html"}, {&pg.logout, o.LogoutTemplate, "logout.html"},
	} {
		if t.custom != nil {
			*t.dst = t.custom
			continue
		}
		if *t.dst, err = template.ParseFS(templateFS, "templates/"+t.file); err != nil {
			return nil, fmt.Errorf("grant: pages: %w", err)
		}
	}
	return pg, nil
}

// pageHeaders sets the headers every page carries: no caching, no framing
// (clickjacking), a CSP that allows nothing but the page's own style and
// form posts to itself and to the client's redirect URI (a form post that
// ends in a redirect is checked against form-action at every hop).
func (pg *pages) pageHeaders(h http.Header, redirectURI string) {
	formAction := "'self'"
	if src := cspSource(redirectURI); src != "" {
		formAction += " " + src
	}
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src "+pg.styleHash+
		"; form-action "+formAction+"; frame-ancestors 'none'; base-uri 'none'")
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	noStore(h)
}

// cspSource is the CSP source expression that covers uri.
func cspSource(uri string) string {
	if uri == "" {
		return ""
	}
	u, err := url.Parse(uri)
	if err != nil || u.Scheme == "" {
		return ""
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" || strings.Contains(u.Hostname(), ":") {
		// A custom scheme (native apps), or an IPv6 literal, which CSP
		// host sources cannot spell.
		return u.Scheme + ":"
	}
	return u.Scheme + "://" + u.Host
}

func (pg *pages) render(w http.ResponseWriter, t *template.Template, status int, redirectURI string, data any) error {
	pg.pageHeaders(w.Header(), redirectURI)
	var b strings.Builder
	if err := t.Execute(&b, data); err != nil {
		return err
	}
	w.WriteHeader(status)
	_, err := w.Write([]byte(b.String()))
	return err
}

// errorTitles gives each page status its heading.
var errorTitles = map[int]string{
	http.StatusBadRequest:          "This sign-in request is not valid",
	http.StatusForbidden:           "Your session has expired",
	http.StatusMethodNotAllowed:    "This sign-in request is not valid",
	http.StatusTooManyRequests:     "Too many attempts",
	http.StatusInternalServerError: "Something went wrong",
}
