// Package resource compares protected resource identifiers (RFC 8707 §2,
// RFC 9728 §1.2): the resource parameter of authorization and token
// requests, the audience of tokens, and the resource a resource server says
// it is. Two identifiers name the same resource when their canonical forms
// are equal.
//
// The canonical form applies RFC 3986 §6.2.2 and §6.2.3 and nothing more:
//
//   - scheme and host in lower case; the default port (80 for http, 443 for
//     https) and an empty port removed; other ports in decimal without
//     leading zeros;
//   - percent-encodings of unreserved characters decoded, the others with
//     upper-case hex digits; "." and ".." segments removed (after
//     decoding, so that %2E%2E is one);
//   - an empty path and the path "/" are the same and written as none:
//     https://mcp.example.com/ is https://mcp.example.com, the form without
//     the slash that the MCP authorization specification asks for.
//
// The trailing-slash policy is RFC 3986's: only the root path is
// equivalent to none. A slash at the end of any other path is significant,
// so https://h/mcp and https://h/mcp/ are two resources, and a token issued
// for one is refused by the other.
//
// Only http and https identifiers with a host are accepted (whether http is
// allowed at all, on loopback, is the caller's policy). Refused outright,
// because no resource identifier needs them and each can hide what it
// names: a fragment (RFC 8707 §2 forbids it; an empty "#" too), userinfo,
// an empty query ("?" with nothing after it), percent-encoding or other
// characters outside letters, digits, "-", "." and "_" in the host name,
// characters outside the RFC 3986 grammar, non-ASCII (an IRI must be
// percent-encoded), and anything longer than MaxLen.
package resource

import (
	"errors"
	"net/netip"
	"strconv"
	"strings"
)

// MaxLen bounds an identifier, in bytes.
const MaxLen = 2048

// ErrInvalid is wrapped by every error of Canonical.
var ErrInvalid = errors.New("resource: invalid resource identifier")

func invalid(reason string) error { return errors.Join(ErrInvalid, errors.New("resource: "+reason)) }

// Canonical returns the canonical form of the resource identifier s, or an
// error wrapping ErrInvalid.
func Canonical(s string) (string, error) {
	if len(s) > MaxLen {
		return "", invalid("longer than 2048 bytes")
	}
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] >= 0x7f {
			return "", invalid("a control, space or non-ASCII character")
		}
	}
	if strings.Contains(s, "#") {
		return "", invalid("a fragment")
	}
	scheme, rest, ok := strings.Cut(s, "://")
	scheme = strings.ToLower(scheme)
	if !ok || scheme != "http" && scheme != "https" {
		return "", invalid("not an absolute http or https URL")
	}
	end := strings.IndexAny(rest, "/?")
	if end < 0 {
		end = len(rest)
	}
	host, err := canonicalAuthority(scheme, rest[:end])
	if err != nil {
		return "", err
	}
	path, query, hasQuery := strings.Cut(rest[end:], "?")
	if path, err = normalizeEscapes(path, isPathChar); err != nil {
		return "", err
	}
	path = removeDotSegments(path)
	if path == "/" {
		path = ""
	}
	var b strings.Builder
	b.Grow(len(s))
	b.WriteString(scheme)
	b.WriteString("://")
	b.WriteString(host)
	b.WriteString(path)
	if hasQuery {
		if query == "" {
			return "", invalid("an empty query")
		}
		if query, err = normalizeEscapes(query, isQueryChar); err != nil {
			return "", err
		}
		b.WriteByte('?')
		b.WriteString(query)
	}
	return b.String(), nil
}

// Equal reports whether a and b are valid identifiers of the same resource.
func Equal(a, b string) bool {
	if a == b {
		_, err := Canonical(a)
		return err == nil
	}
	ca, err := Canonical(a)
	if err != nil {
		return false
	}
	cb, err := Canonical(b)
	return err == nil && ca == cb
}

// canonicalAuthority checks host[:port] and returns it in canonical form.
func canonicalAuthority(scheme, auth string) (string, error) {
	if strings.Contains(auth, "@") {
		return "", invalid("userinfo")
	}
	host, port := auth, ""
	if strings.HasPrefix(auth, "[") {
		i := strings.IndexByte(auth, ']')
		if i < 0 {
			return "", invalid("an unterminated IPv6 literal")
		}
		host, port = auth[:i+1], auth[i+1:]
		a, err := netip.ParseAddr(host[1 : len(host)-1])
		if err != nil || !a.Is6() || a.Zone() != "" {
			return "", invalid("a bad IPv6 literal")
		}
		host = "[" + a.String() + "]"
		if port != "" && port[0] != ':' {
			return "", invalid("a bad port")
		}
	} else {
		if i := strings.LastIndexByte(auth, ':'); i >= 0 {
			host, port = auth[:i], auth[i:]
		}
		host = strings.ToLower(host)
		if host == "" || !validHostName(host) {
			return "", invalid("a bad host name")
		}
	}
	port = strings.TrimPrefix(port, ":")
	if port == "" {
		return host, nil
	}
	n, err := strconv.ParseUint(port, 10, 16)
	if err != nil || n == 0 || strings.TrimLeft(port, "0123456789") != "" {
		return "", invalid("a bad port")
	}
	if scheme == "http" && n == 80 || scheme == "https" && n == 443 {
		return host, nil
	}
	return host + ":" + strconv.FormatUint(n, 10), nil
}

// validHostName accepts a lower-case host name or IPv4 literal: letters,
// digits, "-", "." and "_", no empty label.
func validHostName(h string) bool {
	for _, label := range strings.Split(strings.TrimSuffix(h, "."), ".") {
		if label == "" {
			return false
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
				return false
			}
		}
	}
	return true
}

// normalizeEscapes checks that s has only characters ok accepts and valid
// percent-encodings, decodes those of unreserved characters and writes the
// others with upper-case hex digits (RFC 3986 §6.2.2.1, §6.2.2.2).
func normalizeEscapes(s string, ok func(byte) bool) (string, error) {
	if !strings.Contains(s, "%") {
		for i := 0; i < len(s); i++ {
			if !ok(s[i]) {
				return "", invalid("a character outside RFC 3986")
			}
		}
		return s, nil
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '%' {
			if !ok(c) {
				return "", invalid("a character outside RFC 3986")
			}
			b.WriteByte(c)
			continue
		}
		if i+2 >= len(s) || unhex(s[i+1]) < 0 || unhex(s[i+2]) < 0 {
			return "", invalid("a bad percent-encoding")
		}
		d := byte(unhex(s[i+1])<<4 | unhex(s[i+2]))
		if isUnreserved(d) {
			b.WriteByte(d)
		} else {
			const hexDigits = "0123456789ABCDEF"
			b.WriteByte('%')
			b.WriteByte(hexDigits[d>>4])
			b.WriteByte(hexDigits[d&15])
		}
		i += 2
	}
	return b.String(), nil
}

func unhex(c byte) int {
	switch {
	case '0' <= c && c <= '9':
		return int(c - '0')
	case 'a' <= c && c <= 'f':
		return int(c-'a') + 10
	case 'A' <= c && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}

// isUnreserved: ALPHA / DIGIT / "-" / "." / "_" / "~" (RFC 3986 §2.3).
func isUnreserved(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
		c == '-' || c == '.' || c == '_' || c == '~'
}

// isPathChar: pchar / "/" without pct-encoded (RFC 3986 §3.3).
func isPathChar(c byte) bool {
	return isUnreserved(c) || strings.IndexByte("!$&'()*+,;=:@/", c) >= 0
}

// isQueryChar: pchar / "/" / "?" without pct-encoded (RFC 3986 §3.4).
func isQueryChar(c byte) bool { return isPathChar(c) || c == '?' }

// removeDotSegments is RFC 3986 §5.2.4 for an absolute path (or none).
func removeDotSegments(p string) string {
	if !strings.Contains(p, ".") {
		return p
	}
	var out []string
	segs := strings.Split(p, "/")[1:] // p starts with "/"
	for i, s := range segs {
		last := i == len(segs)-1
		switch s {
		case ".":
			if last {
				out = append(out, "")
			}
		case "..":
			if len(out) > 0 {
				out = out[:len(out)-1]
			}
			if last {
				out = append(out, "")
			}
		default:
			out = append(out, s)
		}
	}
	return "/" + strings.Join(out, "/")
}
