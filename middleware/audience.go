package middleware

import "github.com/oauthkit/oauthkit/internal/resource"

// audience is an expected aud value. A resource identifier (an absolute
// http or https URL, RFC 8707 §2) matches the aud values that name the same
// resource, compared as canonical URIs (package internal/resource: case of
// scheme and host, default ports, escapes of unreserved characters and one
// trailing slash do not matter). Any other string matches itself only.
type audience struct {
	want  string // as configured
	canon string // its canonical form; "" when want is not a resource identifier
}

func newAudience(s string) audience {
	c, err := resource.Canonical(s)
	if err != nil {
		c = ""
	}
	return audience{want: s, canon: c}
}

// in reports whether one of auds is a. Exact spellings are tried first, so
// that tokens from an authorization server that writes the canonical form
// (as oauthkit's does) cost no parsing.
func (a audience) in(auds []string) bool {
	for _, v := range auds {
		if v == a.want || a.canon != "" && v == a.canon {
			return true
		}
	}
	if a.canon == "" {
		return false
	}
	for _, v := range auds {
		if c, err := resource.Canonical(v); err == nil && c == a.canon {
			return true
		}
	}
	return false
}
