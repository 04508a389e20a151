package dpop

import (
	"errors"
	"strconv"
	"strings"
)

// errHTU is returned for a URI that is not an absolute http(s) URI this
// package can compare.
var errHTU = errors.New("dpop: not an absolute http or https URI without userinfo")

// maxHTU bounds the URIs normalised.
const maxHTU = 2048

// NormalizeHTU returns the form of an http or https URI in which RFC 9449
// §4.3 compares a proof's htu with the request's target URI: the query and
// fragment dropped; RFC 3986 §6.2.2 syntax-based normalisation (scheme and
// host in lower case, percent-encodings of unreserved characters decoded
// and the others in upper case, dot segments removed) and §6.2.3
// scheme-based normalisation (the default port and an empty port dropped,
// an empty path made "/"). It refuses relative URIs, other schemes,
// userinfo, characters outside RFC 3986 and hosts that are not ASCII
// names or IP literals.
func NormalizeHTU(s string) (string, error) {
	if len(s) > maxHTU {
		return "", errHTU
	}
	scheme, rest, ok := strings.Cut(s, "://")
	scheme = strings.ToLower(scheme)
	if !ok || scheme != "http" && scheme != "https" {
		return "", errHTU
	}
	end := strings.IndexAny(rest, "/?#")
	if end < 0 {
		end = len(rest)
	}
	authority, path := rest[:end], rest[end:]
	if i := strings.IndexAny(path, "?#"); i >= 0 {
		path = path[:i]
	}
	host, err := normalizeAuthority(scheme, authority)
	if err != nil {
		return "", err
	}
	path, err = normalizePercent(path)
	if err != nil {
		return "", err
	}
	if path == "" {
		path = "/"
	}
	return scheme + "://" + host + removeDotSegments(path), nil
}

// normalizeAuthority checks host[:port], lower-cases the host and drops an
// empty or default port.
func normalizeAuthority(scheme, a string) (string, error) {
	host, port := a, ""
	if strings.HasPrefix(a, "[") {
		i := strings.IndexByte(a, ']')
		if i < 0 {
			return "", errHTU
		}
		host, port = a[:i+1], a[i+1:]
		if !validIPv6(host[1:i]) {
			return "", errHTU
		}
	} else if i := strings.IndexByte(a, ':'); i >= 0 {
		host, port = a[:i], a[i:]
	}
	if host == "" || !strings.HasPrefix(host, "[") && !validRegName(host) {
		return "", errHTU
	}
	host = strings.ToLower(host)
	if port == "" || port == ":" {
		return host, nil
	}
	if port[0] != ':' {
		return "", errHTU
	}
	n, err := strconv.ParseUint(port[1:], 10, 16)
	if err != nil || strings.ContainsAny(port[1:], "+-") {
		return "", errHTU
	}
	if scheme == "https" && n == 443 || scheme == "http" && n == 80 {
		return host, nil
	}
	return host + ":" + strconv.FormatUint(n, 10), nil
}

// validRegName accepts ASCII DNS names and IPv4 literals: letters, digits,
// '-' and '.'.
func validRegName(h string) bool {
	for i := 0; i < len(h); i++ {
		c := h[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '.') {
			return false
		}
	}
	return true
}

// validIPv6 accepts the characters of an IPv6 literal (no zone).
func validIPv6(h string) bool {
	if !strings.Contains(h, ":") {
		return false
	}
	for i := 0; i < len(h); i++ {
		c := h[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F' || c == ':' || c == '.') {
			return false
		}
	}
	return true
}

// normalizePercent checks that path holds only RFC 3986 path characters,
// decodes the percent-encodings of unreserved characters and writes the
// others' hex digits in upper case.
func normalizePercent(path string) (string, error) {
	var b strings.Builder
	b.Grow(len(path))
	for i := 0; i < len(path); i++ {
		c := path[i]
		switch {
		case c == '%':
			if i+2 >= len(path) || unhex(path[i+1]) < 0 || unhex(path[i+2]) < 0 {
				return "", errHTU
			}
			d := byte(unhex(path[i+1])<<4 | unhex(path[i+2]))
			if unreserved(d) {
				b.WriteByte(d)
			} else {
				b.WriteByte('%')
				b.WriteString(strings.ToUpper(path[i+1 : i+3]))
			}
			i += 2
		case unreserved(c) || strings.IndexByte("/!$&'()*+,;=:@", c) >= 0:
			b.WriteByte(c)
		default:
			return "", errHTU
		}
	}
	return b.String(), nil
}

func unreserved(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~'
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

// removeDotSegments is RFC 3986 §5.2.4's algorithm, for an absolute path.
func removeDotSegments(in string) string {
	var out []string // output segments, each with its leading "/"
	for in != "" {
		switch {
		case strings.HasPrefix(in, "/./"):
			in = in[2:]
		case in == "/.":
			in = "/"
		case strings.HasPrefix(in, "/../"):
			in = in[3:]
			if len(out) > 0 {
				out = out[:len(out)-1]
			}
		case in == "/..":
			in = "/"
			if len(out) > 0 {
				out = out[:len(out)-1]
			}
		default:
			i := strings.IndexByte(in[1:], '/')
			if i < 0 {
				out, in = append(out, in), ""
			} else {
				out, in = append(out, in[:i+1]), in[i+1:]
			}
		}
	}
	return strings.Join(out, "")
}
