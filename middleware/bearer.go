package middleware

import (
	"errors"
	"net/http"
)

var (
	errNoToken   = errors.New("middleware: no token")
	errMalformed = errors.New("middleware: malformed request")
)

// maxTokenLen bounds what is handed to a validator; real tokens, JWTs
// included, are far shorter.
const maxTokenLen = 8 << 10

// BearerToken returns the token of an "Authorization: Bearer" header (RFC 6750
// §2.1; the scheme is matched case-insensitively). With allowQuery, an
// access_token query parameter is accepted too (§2.3), but never both at
// once. It reports errNoToken when the request carries none, and errMalformed
// when it carries more than one or one outside the b64token syntax.
func bearerToken(r *http.Request, allowQuery bool) (string, error) {
	// The key is canonical already: a direct map read spares
	// canonicalising it on every request.
	values := r.Header["Authorization"]
	var tok string
	switch len(values) {
	case 0:
	case 1:
		var isBearer bool
		tok, isBearer = cutBearer(values[0])
		if !isBearer {
			tok = "" // another scheme: no bearer token
		} else if !isB64Token(tok) {
			return "", errMalformed
		}
	default:
		return "", errMalformed
	}
	if allowQuery && r.URL.RawQuery != "" {
		q := r.URL.Query()["access_token"]
		switch {
		case len(q) == 0:
		case len(q) > 1 || tok != "" || !isB64Token(q[0]):
			return "", errMalformed
		default:
			tok = q[0]
		}
	}
	if tok == "" {
		return "", errNoToken
	}
	return tok, nil
}

// cutBearer splits "Bearer <token>", the scheme in any case, one or more
// spaces after it.
func cutBearer(h string) (string, bool) {
	const scheme = "bearer"
	if len(h) < len(scheme) {
		return "", false
	}
	for i := 0; i < len(scheme); i++ {
		if h[i]|0x20 != scheme[i] {
			return "", false
		}
	}
	rest := h[len(scheme):]
	if rest == "" {
		return "", true // "Bearer" with nothing: malformed
	}
	if rest[0] != ' ' {
		return "", false // "Bearerish": another scheme
	}
	for len(rest) > 0 && rest[0] == ' ' {
		rest = rest[1:]
	}
	return rest, true
}

// isB64Token reports whether s matches RFC 6750's
// b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"=".
func isB64Token(s string) bool {
	if s == "" || len(s) > maxTokenLen {
		return false
	}
	i := 0
	for i < len(s) && b64tokenChar(s[i]) {
		i++
	}
	if i == 0 {
		return false
	}
	for ; i < len(s); i++ {
		if s[i] != '=' {
			return false
		}
	}
	return true
}

// b64tokenChar reports whether c may appear in a b64token before the '='
// padding. Most token bytes are letters, tested first.
func b64tokenChar(c byte) bool {
	switch {
	case c|0x20 >= 'a' && c|0x20 <= 'z':
		return true
	case '0' <= c && c <= '9':
		return true
	}
	return c == '-' || c == '.' || c == '_' || c == '~' || c == '+' || c == '/'
}
