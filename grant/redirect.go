package grant

import (
	"net/url"
	"strings"
)

// matchRedirectURI finds the registered redirect URI that sent designates,
// and returns the URI to send the response to (RFC 6749 §3.1.2.3, RFC 9700
// §2.1, audit row 1). The comparison is a plain string comparison, with no
// parsing, decoding or case folding: "look-alike" URIs (another port, scheme
// or path, a prefix, a suffix, userinfo, percent-encoded dot segments, a
// trailing slash, a change of case) never match. The only exception is RFC
// 8252 §7.3: for a registered http://127.0.0.1 or http://[::1] URI, any port
// (or none) matches, since native apps listen on an ephemeral port.
//
// An omitted redirect_uri (sent == "") designates the registered URI when
// exactly one is registered (RFC 6749 §3.1.2.3).
func matchRedirectURI(registered []string, sent string) (string, bool) {
	if sent == "" {
		if len(registered) == 1 && registered[0] != "" {
			return registered[0], true
		}
		return "", false
	}
	for _, reg := range registered {
		if reg == "" {
			continue
		}
		if sent == reg || loopbackMatch(reg, sent) {
			return sent, true
		}
	}
	return "", false
}

// loopbackPrefixes are the loopback IP literals of RFC 8252 §7.3. The name
// "localhost" is deliberately absent (§8.3: it may resolve elsewhere).
var loopbackPrefixes = [...]string{"http://127.0.0.1", "http://[::1]"}

// loopbackMatch reports whether sent equals the loopback URI reg except for
// the port.
func loopbackMatch(reg, sent string) bool {
	for _, pre := range loopbackPrefixes {
		if !strings.HasPrefix(reg, pre) || !strings.HasPrefix(sent, pre) {
			continue
		}
		regRest, ok1 := skipPort(reg[len(pre):])
		sentRest, ok2 := skipPort(sent[len(pre):])
		return ok1 && ok2 && regRest == sentRest && (regRest == "" || regRest[0] == '/' || regRest[0] == '?')
	}
	return false
}

// skipPort strips an optional ":port" (1 to 5 digits, at most 65535) from
// the start of s.
func skipPort(s string) (string, bool) {
	if s == "" || s[0] != ':' {
		return s, true
	}
	n, port := 1, 0
	for n < len(s) && n <= 5 && '0' <= s[n] && s[n] <= '9' {
		port = port*10 + int(s[n]-'0')
		n++
	}
	if n == 1 || port > 65535 || n < len(s) && '0' <= s[n] && s[n] <= '9' {
		return "", false
	}
	return s[n:], true
}

// redirectWith returns uri with params added to its query, keeping the
// query it already has byte for byte (RFC 6749 §3.1.2) and dropping any
// fragment.
func redirectWith(uri string, params url.Values) string {
	if i := strings.IndexByte(uri, '#'); i >= 0 {
		uri = uri[:i]
	}
	sep := "?"
	if strings.Contains(uri, "?") {
		sep = "&"
	}
	return uri + sep + params.Encode()
}

// webOrigin returns the RFC 6454 origin of an http or https URI, or "" for
// any other. For loopback URIs the port is dropped when anyPort, matching
// RFC 8252 §7.3.
func webOrigin(uri string, anyPort bool) string {
	u, err := url.Parse(uri)
	if err != nil || u.Host == "" || u.User != nil || u.Scheme != "http" && u.Scheme != "https" {
		return ""
	}
	host := strings.ToLower(u.Host)
	if anyPort && u.Scheme == "http" && (u.Hostname() == "127.0.0.1" || u.Hostname() == "::1") {
		host = strings.ToLower(u.Hostname())
		if strings.Contains(host, ":") {
			host = "[" + host + "]"
		}
	}
	return u.Scheme + "://" + host
}
