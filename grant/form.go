package grant

import (
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// maxFormBytes bounds a token, revocation or introspection request body.
const maxFormBytes = 16 << 10

// parseForm reads a POST body of application/x-www-form-urlencoded
// parameters, strictly: POST only, the right content type, a bounded body,
// no parameter twice (RFC 6749 §3.1, §3.2) but resource (RFC 8707 §2),
// and nothing in the query string,
// where credentials would leak into logs (§2.3.1). Empty parameters count as
// omitted (§3.1). On success r.Form and r.PostForm hold the body parameters
// alone, so that no later FormValue sees the query string.
func parseForm(w http.ResponseWriter, r *http.Request) (url.Values, *Error) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		return nil, newError(http.StatusMethodNotAllowed, CodeInvalidRequest, "this endpoint accepts POST only")
	}
	if r.URL.RawQuery != "" {
		return nil, errRequest("parameters must be sent in the request body, not the URL")
	}
	if !isMediaType(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		return nil, newError(http.StatusUnsupportedMediaType, CodeInvalidRequest, "the body must be application/x-www-form-urlencoded")
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxFormBytes))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, newError(http.StatusRequestEntityTooLarge, CodeInvalidRequest, "the request body is too large")
		}
		return nil, errRequest("the request body could not be read")
	}
	vals, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, errRequest("the request body is not valid form encoding")
	}
	for k, v := range vals {
		if len(v) > 1 && k != "resource" { // RFC 8707 §2: resource may repeat
			return nil, errRequest("parameter " + safeName(k) + " is included more than once")
		}
		if v[0] == "" && len(v) == 1 {
			delete(vals, k)
		}
	}
	r.Form, r.PostForm = vals, vals
	return vals, nil
}

// isMediaType reports whether the Content-Type header ct names media type
// mt, whatever its parameters (RFC 9110 §8.3.1: case-insensitive).
func isMediaType(ct, mt string) bool {
	ct, _, _ = strings.Cut(ct, ";")
	return strings.EqualFold(strings.TrimSpace(ct), mt)
}

// safeName quotes a parameter name for an error description, dropping
// anything that is not a plain name character.
func safeName(k string) string {
	if len(k) > 40 {
		k = k[:40]
	}
	b := make([]byte, 0, len(k)+2)
	b = append(b, '"')
	for i := 0; i < len(k); i++ {
		if c := k[i]; c == '_' || c == '-' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' {
			b = append(b, c)
		}
	}
	return string(append(b, '"'))
}
