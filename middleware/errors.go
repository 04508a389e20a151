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
	Scopes      []string // the scopes the route requires, for the 401 and 403 challenges
	Realm       string   // the protection realm
	// ResourceMetadata is the URL of the protected resource metadata
	// (RFC 9728 §5.1) when the Guard protects a resource
	// ([Options].Resource); every challenge names it.
	ResourceMetadata string
}

// Error returns the code and description.
func (e *Error) Error() string {
	if e.Code == "" {
		return "middleware: " + e.Description
	}
	return "middleware: " + e.Code + ": " + e.Description
}

// Challenge returns the WWW-Authenticate header value for e: the Bearer
// challenge of RFC 6750 §3, with RFC 9728 §5.1's resource_metadata.
func (e *Error) Challenge() string { return formatChallenge("Bearer", e.challengeParams()) }

// authParam is one auth-param of a challenge.
type authParam struct{ name, value string }

// challengeParams are the auth-params of e's challenge, in order. They are
// built here only, so that a challenge of another scheme carries the same
// ones:
//
//   - resource_metadata, when the Guard protects a resource (first, as the
//     MCP authorization specification writes it);
//   - realm;
//   - error and error_description, unless the request had no token at all
//     (RFC 6750 §3.1);
//   - scope, the scopes the route requires, on 401 and 403: what to ask
//     for when authorizing (MCP scope selection) or stepping up
//     (insufficient_scope).
func (e *Error) challengeParams() []authParam {
	ps := make([]authParam, 0, 5)
	ps = append(ps, authParam{"resource_metadata", e.ResourceMetadata}, authParam{"realm", e.Realm})
	if e.Code != "" {
		ps = append(ps, authParam{"error", e.Code}, authParam{"error_description", e.Description})
	}
	if e.Status == http.StatusUnauthorized || e.Status == http.StatusForbidden {
		ps = append(ps, authParam{"scope", strings.Join(e.Scopes, " ")})
	}
	return ps
}

// formatChallenge writes scheme followed by the params that have a value,
// each as a quoted-string.
func formatChallenge(scheme string, params []authParam) string {
	var b strings.Builder
	b.WriteString(scheme)
	sep := " "
	for _, p := range params {
		if p.value == "" {
			continue
		}
		b.WriteString(sep)
		b.WriteString(p.name)
		b.WriteString(`="`)
		b.WriteString(quoteEscape(p.value))
		b.WriteString(`"`)
		sep = ", "
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
