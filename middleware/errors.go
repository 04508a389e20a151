package middleware

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// RFC 6750 §3.1 error codes, and RFC 9449's.
const (
	CodeInvalidRequest    = "invalid_request"
	CodeInvalidToken      = "invalid_token"
	CodeInsufficientScope = "insufficient_scope"
	CodeInvalidDPoPProof  = "invalid_dpop_proof" // RFC 9449 §7.1: the DPoP proof is invalid
	CodeUseDPoPNonce      = "use_dpop_nonce"     // RFC 9449 §9: the proof must carry the DPoP-Nonce sent
)

// Authentication schemes (RFC 6750, RFC 9449 §7.1).
const (
	SchemeBearer = "Bearer"
	SchemeDPoP   = "DPoP"
)

// Error is a refusal the middleware answers with. Code is empty when the
// request carried no token at all (RFC 6750 §3.1: no error code then).
type Error struct {
	Status      int      // HTTP status: 400, 401, 403; 503 when the validator could not check the token, 500 without one
	Code        string   // RFC 6750 or RFC 9449 error code, or ""
	Description string   // human-readable, safe to show
	Scopes      []string // the scopes the route requires, for the 401 and 403 challenges
	Realm       string   // the protection realm
	// ResourceMetadata is the URL of the protected resource metadata
	// (RFC 9728 §5.1) when the Guard protects a resource
	// ([Options].Resource); every challenge names it.
	ResourceMetadata string

	// Scheme is the authentication scheme the request used, whose
	// challenge carries the error: SchemeBearer (also when empty) or
	// SchemeDPoP.
	Scheme string
	// DPoPAlgs, when set, offers the DPoP scheme: a DPoP challenge with
	// these algs (RFC 9449 §7.1) is sent besides the Bearer one.
	DPoPAlgs []string
	// DPoPOnly leaves the Bearer challenge out: the resource takes only
	// DPoP-bound tokens.
	DPoPOnly bool
	// DPoPNonce, when set, is sent as the DPoP-Nonce header (RFC 9449 §9):
	// the nonce the client's next proof must carry.
	DPoPNonce string
	// RetryAfter, when positive, is sent as Retry-After, in whole seconds
	// (rounded up): with 503, when the client should try again.
	RetryAfter time.Duration
}

// Error returns the code and description.
func (e *Error) Error() string {
	if e.Code == "" {
		return "middleware: " + e.Description
	}
	return "middleware: " + e.Code + ": " + e.Description
}

// Challenge returns the WWW-Authenticate challenge of the scheme the
// request used (RFC 6750 §3, RFC 9449 §7.1), with the error.
func (e *Error) Challenge() string {
	if e.Scheme == SchemeDPoP {
		return e.challenge(SchemeDPoP, true)
	}
	return e.challenge(SchemeBearer, true)
}

// Challenges returns every WWW-Authenticate challenge for e, one header
// field each: the one of the scheme the request used, with the error,
// then, after a Bearer one, the DPoP scheme offered (RFC 9449 §7.2: the
// error goes in the challenge of the scheme that was tried). A request
// made with the DPoP scheme, or to a DPoP-only resource, gets the DPoP
// challenge alone.
func (e *Error) Challenges() []string {
	switch {
	case len(e.DPoPAlgs) == 0:
		return []string{e.challenge(SchemeBearer, true)}
	case e.Scheme == SchemeDPoP || e.DPoPOnly:
		return []string{e.challenge(SchemeDPoP, true)}
	}
	return []string{e.challenge(SchemeBearer, true), e.challenge(SchemeDPoP, false)}
}

// challenge is the one place a challenge is built, in this order:
//
//   - resource_metadata, when the Guard protects a resource (first, as the
//     MCP authorization specification writes it; RFC 9728 §5.1 allows it
//     in the challenge of any scheme);
//   - realm; for DPoP, algs;
//   - withError: error and error_description, unless the request had no
//     token at all (RFC 6750 §3.1), and scope, the scopes the route
//     requires, on 401 and 403 — what to ask for when authorizing (MCP
//     scope selection) or stepping up (insufficient_scope).
func (e *Error) challenge(scheme string, withError bool) string {
	var b strings.Builder
	b.WriteString(scheme)
	sep := " "
	param := func(k, v string) {
		if v == "" {
			return
		}
		b.WriteString(sep)
		b.WriteString(k)
		b.WriteString(`="`)
		b.WriteString(quoteEscape(v))
		b.WriteString(`"`)
		sep = ", "
	}
	param("resource_metadata", e.ResourceMetadata)
	param("realm", e.Realm)
	if scheme == SchemeDPoP {
		param("algs", strings.Join(e.DPoPAlgs, " "))
	}
	if !withError {
		return b.String()
	}
	if e.Code != "" {
		param("error", e.Code)
		param("error_description", e.Description)
	}
	if e.Status == http.StatusUnauthorized || e.Status == http.StatusForbidden {
		param("scope", strings.Join(e.Scopes, " "))
	}
	return b.String()
}

// quoteEscape keeps a value inside a quoted-string: RFC 6750 limits these
// values to printable ASCII without '"' and '\'.
func quoteEscape(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r > 0x7e || r == '"' || r == '\\' {
			return -1
		}
		return r
	}, s)
}

// ErrorWriter writes the response for a refused request.
type ErrorWriter func(w http.ResponseWriter, r *http.Request, e *Error)

// WriteError is the default ErrorWriter: the WWW-Authenticate challenges
// (for 400, 401 and 403; [Error.Challenges]), the DPoP-Nonce header when
// e has one, Retry-After when e has one, and a JSON body {"error",
// "error_description"} (the error "temporarily_unavailable" for a 503,
// which RFC 6750 has no code for).
func WriteError(w http.ResponseWriter, r *http.Request, e *Error) {
	h := w.Header()
	if e.Status < http.StatusInternalServerError {
		h.Del("WWW-Authenticate")
		for _, c := range e.Challenges() {
			h.Add("WWW-Authenticate", c)
		}
	}
	if e.DPoPNonce != "" {
		h.Set("DPoP-Nonce", e.DPoPNonce)
	}
	if e.RetryAfter > 0 {
		h.Set("Retry-After", strconv.FormatInt(int64((e.RetryAfter+time.Second-1)/time.Second), 10))
	}
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(e.Status)
	body := struct {
		Error       string `json:"error,omitempty"`
		Description string `json:"error_description,omitempty"`
		Scope       string `json:"scope,omitempty"`
	}{e.Code, e.Description, ""}
	switch {
	case e.Code != "":
	case e.Status == http.StatusUnauthorized:
		body.Error = "unauthorized" // something for clients to read; the header has no code
	case e.Status == http.StatusServiceUnavailable:
		body.Error = "temporarily_unavailable"
	}
	if e.Code == CodeInsufficientScope {
		body.Scope = strings.Join(e.Scopes, " ")
	}
	_ = json.NewEncoder(w).Encode(body)
}
