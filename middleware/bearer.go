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

// credentials returns the request's access token and the scheme it came
// with: an "Authorization: Bearer" header (RFC 6750 §2.1) or an
// "Authorization: DPoP" one (RFC 9449 §7.1), the scheme matched
// case-insensitively. With allowQuery, an access_token query parameter is
// accepted too, as a bearer token (§2.3), but never together with a
// header token. It reports errNoToken when the request carries none, and
// errMalformed when it carries more than one or one outside the b64token
// (token68) syntax.
func credentials(r *http.Request, allowQuery bool) (tok, scheme string, err error) {
	// The key is canonical already: a direct map read spares
	// canonicalising it on every request.
	values := r.Header["Authorization"]
	switch len(values) {
	case 0:
	case 1:
		var ok bool
		if tok, ok = cutScheme(values[0], "bearer"); ok {
			scheme = SchemeBearer
		} else if tok, ok = cutScheme(values[0], "dpop"); ok {
			scheme = SchemeDPoP
		}
		if ok && !isB64Token(tok) {
			return "", "", errMalformed
		}
	default:
		return "", "", errMalformed
	}
	if allowQuery && r.URL.RawQuery != "" {
		q := r.URL.Query()["access_token"]
		switch {
		case len(q) == 0:
		case len(q) > 1 || tok != "" || !isB64Token(q[0]):
			return "", "", errMalformed
		default:
			tok, scheme = q[0], SchemeBearer
		}
	}
	if tok == "" {
		return "", "", errNoToken
	}
	return tok, scheme, nil
}

// cutScheme splits "<scheme> <token>", the scheme (given in lower case) in
// any case, one or more spaces after it. It reports false for another
// scheme; "<scheme>" alone gives "" and true (malformed).
func cutScheme(h, scheme string) (string, bool) {
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
