package grant

import (
	"slices"
	"strings"
)

// maxScopes bounds how many scope tokens one request may carry.
const maxScopes = 64

// parseScope splits an RFC 6749 §3.3 scope parameter into its tokens, dropping
// repeats. It reports false for characters outside scope-token syntax.
func parseScope(s string) ([]string, bool) {
	if s == "" {
		return nil, true
	}
	var out []string
	for tok := range strings.FieldsSeq(s) {
		for i := 0; i < len(tok); i++ {
			if c := tok[i]; c < 0x21 || c == 0x22 || c == 0x5c || c > 0x7e {
				return nil, false
			}
		}
		if !slices.Contains(out, tok) {
			if len(out) == maxScopes {
				return nil, false
			}
			out = append(out, tok)
		}
	}
	return out, true
}

// resolveScopes decides what a request for scope may be granted, given what
// is allowed: all of allowed when scope is empty (RFC 6749 §3.3's
// pre-defined default), else scope itself if every token is allowed. When
// the answer equals allowed, allowed itself is returned, so that tokens share
// one slice.
func resolveScopes(scope string, allowed []string) ([]string, *Error) {
	req, ok := parseScope(scope)
	if !ok {
		return nil, newError(400, CodeInvalidScope, "the scope parameter is malformed")
	}
	if len(req) == 0 {
		return allowed, nil
	}
	for _, s := range req {
		if !slices.Contains(allowed, s) {
			return nil, newError(400, CodeInvalidScope, "the requested scope is not allowed")
		}
	}
	if len(req) == len(allowed) {
		return allowed, nil
	}
	return req, nil
}

func joinScopes(s []string) string { return strings.Join(s, " ") }
