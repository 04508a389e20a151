package grant

import (
	"net/url"
	"unicode/utf8"
)

// Bounds on identifiers, checked before any store sees them.
const (
	maxClientIDBytes = 256
	maxUsernameBytes = 512
)

// validClientID reports whether s is a client-id of RFC 6749 Appendix A.1
// (*VSCHAR, VSCHAR = %x20-7E), non-empty and bounded.
func validClientID(s string) bool {
	if s == "" || len(s) > maxClientIDBytes {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

// validUsername reports whether s is a username of RFC 6749 Appendix A.15
// (*UNICODECHARNOCRLF: tab, printable ASCII, and every Unicode scalar value
// from U+0080 except U+FFFE and U+FFFF), non-empty, valid UTF-8 and bounded.
func validUsername(s string) bool {
	if s == "" || len(s) > maxUsernameBytes {
		return false
	}
	for i, r := range s {
		switch {
		case r == utf8.RuneError && !isRuneError(s[i:]):
			return false // invalid UTF-8
		case r == '\t', r >= 0x20 && r <= 0x7e:
		case r >= 0x80 && r != 0xfffe && r != 0xffff:
		default:
			return false
		}
	}
	return true
}

// isRuneError reports whether s starts with an encoded U+FFFD rather than
// an invalid byte.
func isRuneError(s string) bool {
	_, size := utf8.DecodeRuneInString(s)
	return size == 3
}

// checkSyntax refuses a token, revocation or introspection request whose
// username or scope is not RFC 6749 Appendix A syntax, before any store is
// asked about it (client IDs are checked with the credentials).
func checkSyntax(form url.Values) *Error {
	if u, ok := form["username"]; ok && !validUsername(u[0]) {
		return errRequest("the username is malformed")
	}
	if s := form.Get("scope"); s != "" {
		if _, ok := parseScope(s); !ok {
			return newError(400, CodeInvalidScope, "the scope parameter is malformed")
		}
	}
	return nil
}
