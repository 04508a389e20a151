package cors

import (
	"net/netip"
	"net/url"
	"strconv"
	"strings"

	"github.com/oauthkit/oauthkit/internal/loopback"
)

// Origin is a web origin (RFC 6454) of the http or https scheme.
type Origin struct {
	Scheme string // "http" or "https"
	Host   string // a lower-case host name or IP literal, IPv6 without brackets
	Port   string // decimal, "" for the scheme's default port
}

// maxOrigin bounds the Origin values parsed: a host name has at most 253
// characters.
const maxOrigin = 300

// String returns o serialized as browsers send it in the Origin header.
func (o Origin) String() string {
	h := o.Host
	if strings.Contains(h, ":") {
		h = "[" + h + "]"
	}
	if o.Port != "" {
		h += ":" + o.Port
	}
	return o.Scheme + "://" + h
}

// Loopback reports whether o is an http origin on a loopback IP literal
// (see package loopback).
func (o Origin) Loopback() bool { return o.Scheme == "http" && loopback.Host(o.Host) }

// ParseOrigin parses s, an Origin header value. It accepts only an http or
// https origin in the form browsers serialize it: lower-case scheme and
// host, IP literals in their canonical form, no default port, no path,
// userinfo or trailing dot. Anything else, "null" included, is refused:
// such a request is treated as having no usable origin.
func ParseOrigin(s string) (Origin, bool) {
	if len(s) > maxOrigin {
		return Origin{}, false
	}
	scheme, rest, ok := strings.Cut(s, "://")
	if !ok || scheme != "http" && scheme != "https" {
		return Origin{}, false
	}
	o := Origin{Scheme: scheme}
	var port string
	hasPort := false
	if strings.HasPrefix(rest, "[") {
		end := strings.IndexByte(rest, ']')
		if end < 0 {
			return Origin{}, false
		}
		o.Host, rest = rest[1:end], rest[end+1:]
		a, err := netip.ParseAddr(o.Host)
		if err != nil || !a.Is6() || a.Zone() != "" || a.String() != o.Host {
			return Origin{}, false
		}
		if rest != "" {
			if rest[0] != ':' {
				return Origin{}, false
			}
			port, hasPort = rest[1:], true
		}
	} else {
		o.Host, port, hasPort = strings.Cut(rest, ":")
		if !regName(o.Host) {
			return Origin{}, false
		}
	}
	if hasPort {
		if !canonicalPort(port, scheme) {
			return Origin{}, false
		}
		o.Port = port
	}
	return o, true
}

// regName reports whether h is a lower-case DNS name or a canonical IPv4
// literal. As in the URL standard, a host whose last label is a number is
// an IPv4 address, which browsers send only in dotted-decimal form.
func regName(h string) bool {
	if h == "" || h[0] == '.' || h[len(h)-1] == '.' || strings.Contains(h, "..") {
		return false
	}
	for i := 0; i < len(h); i++ {
		c := h[i]
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '.' || c == '-' || c == '_') {
			return false
		}
	}
	last := h[strings.LastIndexByte(h, '.')+1:]
	if !strings.HasPrefix(last, "0x") && strings.Trim(last, "0123456789") != "" {
		return true
	}
	a, err := netip.ParseAddr(h)
	return err == nil && a.Is4() && a.String() == h
}

// canonicalPort reports whether p is a port number as browsers write it:
// decimal without leading zeros, 1 to 65535, not the scheme's default.
func canonicalPort(p, scheme string) bool {
	if p == "" || len(p) > 5 || p[0] == '0' {
		return false
	}
	for i := 0; i < len(p); i++ {
		if p[i] < '0' || p[i] > '9' {
			return false
		}
	}
	n, _ := strconv.Atoi(p)
	return n <= 65535 && !(scheme == "http" && n == 80) && !(scheme == "https" && n == 443)
}

// OriginOf returns the origin of uri, an absolute http or https URI
// without userinfo, such as a registered redirect URI: its scheme and host
// lower-cased, the default port dropped. It reports false for any other
// URI, and for hosts a browser would not send as they are (international
// names not in their ASCII form, IPv4 shorthands).
func OriginOf(uri string) (Origin, bool) {
	u, err := url.Parse(uri)
	if err != nil || u.User != nil || u.Host == "" || u.Scheme != "http" && u.Scheme != "https" {
		return Origin{}, false
	}
	o := Origin{Scheme: u.Scheme, Host: strings.ToLower(u.Hostname()), Port: u.Port()}
	if o.Scheme == "http" && o.Port == "80" || o.Scheme == "https" && o.Port == "443" {
		o.Port = ""
	}
	if p, ok := ParseOrigin(o.String()); ok && p == o {
		return o, true
	}
	return Origin{}, false
}

// Match reports whether o is the origin reg, or, when anyLoopbackPort, an
// http origin on the same loopback IP literal with any port (RFC 8252
// §7.3, for native and browser apps that listen on an ephemeral port).
func Match(reg, o Origin, anyLoopbackPort bool) bool {
	if reg == o {
		return true
	}
	return anyLoopbackPort && reg.Loopback() && o.Scheme == "http" && o.Host == reg.Host
}

// Set is a set of origins, some standing for every port of their loopback
// host (see Match). The zero value is empty and ready to use; a Set is
// not safe for concurrent Adds, but any number of Contains may run at
// once once it is filled.
type Set struct {
	exact   map[Origin]struct{}
	anyPort map[string]struct{} // loopback hosts of http origins
}

// Add adds o; with anyLoopbackPort, and o a loopback origin, every port of
// its host.
func (s *Set) Add(o Origin, anyLoopbackPort bool) {
	if anyLoopbackPort && o.Loopback() {
		if s.anyPort == nil {
			s.anyPort = map[string]struct{}{}
		}
		s.anyPort[o.Host] = struct{}{}
		return
	}
	if s.exact == nil {
		s.exact = map[Origin]struct{}{}
	}
	s.exact[o] = struct{}{}
}

// Contains reports whether o is in s.
func (s *Set) Contains(o Origin) bool {
	if _, ok := s.exact[o]; ok {
		return true
	}
	_, ok := s.anyPort[o.Host]
	return ok && o.Scheme == "http"
}

// Len returns the number of entries in s.
func (s *Set) Len() int { return len(s.exact) + len(s.anyPort) }
