package middleware

import (
	"encoding/json"
	"net/http"
	"strings"
)

// RFC 6750 §3.1 error codes.
const (
	CodeInvalidRequest    = "invalid_request"
	CodeInvalidToken      = "invalid_token"
	CodeInsufficientScope = "insufficient_scope"
)

// Error is a refusal the middleware answers with. Code is empty when the
// request carried no token at all (RFC 6750 §3.1: no error code then).
type Error struct {
	Status      int      // HTTP status: 400, 401, 403, or 500 when the validator failed
	Code        string   // RFC 6750 error code, or ""
	Description string   // human-readable, safe to show
	Scopes      []string // the scopes required, for insufficient_scope
	Realm       string   // the protection realm
}

// Error returns the code and description.
func (e *Error) Error() string {
	if e.Code == "" {
		return "middleware: " + e.Description
	}
	return "middleware: " + e.Code + ": " + e.Description
}

// Challenge returns the WWW-Authenticate header value for e (RFC 6750 §3).
func (e *Error) Challenge() string {
	var b strings.Builder
	b.WriteString("Bearer")
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
	param("realm", e.Realm)
	if e.Code == "" {
		// RFC 6750 §3.1: no error information when the request had no
		// authentication at all.
		return b.String()
	}
	param("error", e.Code)
	param("error_description", e.Description)
	if e.Code == CodeInsufficientScope {
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

// WriteError is the default ErrorWriter: the WWW-Authenticate challenge (for
// 400, 401 and 403) and a JSON body {"error", "error_description"}.
func WriteError(w http.ResponseWriter, r *http.Request, e *Error) {
	h := w.Header()
	if e.Status != http.StatusInternalServerError {
		h.Set("WWW-Authenticate", e.Challenge())
	}
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(e.Status)
	body := struct {
		Error       string `json:"error,omitempty"`
		Description string `json:"error_description,omitempty"`
		Scope       string `json:"scope,omitempty"`
	}{e.Code, e.Description, ""}
	if e.Code == "" && e.Status == http.StatusUnauthorized {
		body.Error = "unauthorized" // something for clients to read; the header has no code
	}
	if e.Code == CodeInsufficientScope {
		body.Scope = strings.Join(e.Scopes, " ")
	}
	_ = json.NewEncoder(w).Encode(body)
}
