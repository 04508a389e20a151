// Package resource canonicalises resource identifiers: the values of RFC
// 8707 resource parameters, the audiences of access tokens, and the
// resource of RFC 9728 protected resource metadata. The authorization
// server stores and issues the canonical form, and the resource server
// compares its own identifier with a token's audience in it, so that both
// sides agree on which spellings name one resource.
//
// A resource identifier is an absolute http or https URL (RFC 8707 §2,
// RFC 9728 §1.2) with a host, no userinfo and no fragment. Canonical
// normalises it as RFC 3986 §6.2.2 and §6.2.3 describe:
//
//   - scheme and host in lower case (HTTPS://API.Example.COM →
//     https://api.example.com);
//   - the scheme's default port dropped (:443 for https, :80 for http), and
//     an empty port;
//   - percent-encoding: escapes of unreserved characters decoded (%7E → ~),
//     the others' hex digits in upper case (%2f → %2F);
//   - the trailing-slash policy: one trailing "/" of the path is dropped, so
//     that https://api.example.com/ and https://api.example.com name one
//     resource (an empty path and "/" are equivalent, §6.2.3), and so do
//     https://api.example.com/mcp/ and https://api.example.com/mcp — the
//     form without the slash is the canonical one, as the MCP specification
//     recommends. A path ending in "//" is refused.
//
// Canonical refuses rather than guesses: dot segments ("." or "..", also
// percent-encoded), characters outside printable ASCII, hosts that are not
// a DNS name or an IP literal (no zone), ports out of range, and anything
// longer than MaxLen. The query, if any (RFC 8707 §2 allows one), is kept,
// with its escapes normalised.
package resource

import (
	"errors"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
)

// MaxLen is the longest resource identifier Canonical accepts, in bytes.
const MaxLen = 2048

// ErrInvalid is the error Canonical returns, wrapped with the reason.
var ErrInvalid = errors.New("resource: not a resource identifier")

func invalid(why string) error { return &reasonError{why} }

type reasonError struct{ why string }

func (e *reasonError) Error() string        { return ErrInvalid.Error() + ": " + e.why }
func (e *reasonError) Is(target error) bool { return target == ErrInvalid }

// Canonical returns the canonical form of resource identifier s, or an
// error matching ErrInvalid that says why s is not one.
func Canonical(s string) (string, error) {
	if s == "" || len(s) > MaxLen {
		return "", invalid("empty, or longer than " + strconv.Itoa(MaxLen) + " bytes")
	}
	for i := 0; i < len(s); i++ {
		if s[i] <= 0x20 || s[i] >= 0x7f {
			return "", invalid("only printable ASCII without spaces is allowed")
		}
	}
	if strings.Contains(s, "#") {
		return "", invalid("a fragment is not allowed (RFC 8707 §2)")
	}
	u, err := url.Parse(s)
	if err != nil {
		return "", invalid("not a URI")
	}
	if u.Scheme != "https" && u.Scheme != "http" {
		return "", invalid("the scheme must be https or http")
	}
	if u.Opaque != "" || u.Host == "" || !strings.HasPrefix(s[len(u.Scheme):], "://") {
		return "", invalid("an absolute URL with a host is required")
	}
	if u.User != nil || strings.Contains(u.Host, "@") {
		return "", invalid("userinfo is not allowed")
	}
	host, err := canonicalHost(u.Hostname())
	if err != nil {
		return "", err
	}
	port, err := canonicalPort(u.Scheme, u.Port())
	if err != nil {
		return "", err
	}
	path, err := canonicalPath(u.EscapedPath())
	if err != nil {
		return "", err
	}
	var b strings.Builder
	b.Grow(len(s))
	b.WriteString(u.Scheme)
	b.WriteString("://")
	b.WriteString(host)
	if port != "" {
		b.WriteByte(':')
		b.WriteString(port)
	}
	b.WriteString(path)
	if u.ForceQuery || u.RawQuery != "" {
		q, ok := normaliseEscapes(u.RawQuery)
		if !ok {
			return "", invalid("malformed percent-encoding in the query")
		}
		b.WriteByte('?')
		b.WriteString(q)
	}
	return b.String(), nil
}

// Equal reports whether a and b are both resource identifiers and name the
// same resource: their canonical forms are the same string.
func Equal(a, b string) bool {
	ca, err := Canonical(a)
	if err != nil {
		return false
	}
	cb, err := Canonical(b)
	return err == nil && ca == cb
}

// canonicalHost lower-cases a DNS name, or prints an IP literal as netip
// does (bracketed for IPv6). Dotted numbers must be a plain IPv4 address:
// shorthands such as 127.1 or 0x7f.0.0.1, which resolvers read in
// different ways, are refused.
func canonicalHost(h string) (string, error) {
	if strings.Contains(h, ":") || strings.Contains(h, "%") {
		a, err := netip.ParseAddr(h)
		if err != nil || a.Zone() != "" || !a.Is6() {
			return "", invalid("the host is not a DNS name or an IP literal")
		}
		return "[" + a.String() + "]", nil
	}
	h = strings.ToLower(h)
	for _, label := range strings.Split(h, ".") {
		if label == "" {
			return "", invalid("the host is empty or has an empty label")
		}
		for i := 0; i < len(label); i++ {
			if c := label[i]; !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
				return "", invalid("the host is not a DNS name or an IP literal")
			}
		}
	}
	last := h[strings.LastIndexByte(h, '.')+1:]
	if last[0] >= '0' && last[0] <= '9' || strings.HasPrefix(last, "0x") {
		if a, err := netip.ParseAddr(h); err != nil || !a.Is4() || a.String() != h {
			return "", invalid("a numeric host must be a dotted-decimal IPv4 address")
		}
	}
	return h, nil
}

// canonicalPort drops the scheme's default port and an empty one.
func canonicalPort(scheme, port string) (string, error) {
	if port == "" {
		return "", nil
	}
	n, err := strconv.Atoi(port)
	if err != nil || n < 1 || n > 65535 {
		return "", invalid("the port is out of range")
	}
	if scheme == "https" && n == 443 || scheme == "http" && n == 80 {
		return "", nil
	}
	return strconv.Itoa(n), nil
}

// canonicalPath normalises the escapes of an escaped path, refuses dot
// segments and a path ending in "//", and drops the trailing slash.
func canonicalPath(p string) (string, error) {
	p, ok := normaliseEscapes(p)
	if !ok {
		return "", invalid("malformed percent-encoding in the path")
	}
	if strings.HasSuffix(p, "//") {
		return "", invalid(`the path ends in "//"`)
	}
	for seg := range strings.SplitSeq(p, "/") {
		if seg == "." || seg == ".." {
			return "", invalid(`the path has a "." or ".." segment`)
		}
	}
	return strings.TrimSuffix(p, "/"), nil
}

// normaliseEscapes decodes the percent-escapes of unreserved characters
// and upper-cases the hex digits of the others (RFC 3986 §6.2.2.1,
// §6.2.2.2). It reports false for a malformed escape.
func normaliseEscapes(s string) (string, bool) {
	if !strings.Contains(s, "%") {
		return s, true
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		if s[i] != '%' {
			b.WriteByte(s[i])
			continue
		}
		if i+2 >= len(s) || !isHex(s[i+1]) || !isHex(s[i+2]) {
			return "", false
		}
		c := unhex(s[i+1])<<4 | unhex(s[i+2])
		if unreserved(c) {
			b.WriteByte(c)
		} else {
			b.WriteByte('%')
			b.WriteByte(upperHex(s[i+1]))
			b.WriteByte(upperHex(s[i+2]))
		}
		i += 2
	}
	return b.String(), true
}

func unreserved(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~'
}

func isHex(c byte) bool { return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F' }

func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c >= 'a':
		return c - 'a' + 10
	}
	return c - 'A' + 10
}

func upperHex(c byte) byte {
	if 'a' <= c && c <= 'f' {
		return c - 'a' + 'A'
	}
	return c
}
