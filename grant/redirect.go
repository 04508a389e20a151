package grant

import (
	"net/url"
	"strings"

	"github.com/oauthkit/oauthkit/internal/loopback"
)

// matchRedirectURI finds the registered redirect URI that sent designates,
// and returns the URI to send the response to (RFC 6749 §3.1.2.3, RFC 9700
// §2.1, audit row 1). The comparison is a plain string comparison, with no
// parsing, decoding or case folding: "look-alike" URIs (another port, scheme
// or path, a prefix, a suffix, userinfo, percent-encoded dot segments, a
// trailing slash, a change of case) never match. The only exception is RFC
// 8252 §7.3, for native apps, which listen on an ephemeral port: when
// anyLoopbackPort (the client is public), a registered http URI on a
// loopback IP literal (package loopback: 127.0.0.1, [::1], …) matches with
// any port, or none, the rest unchanged byte for byte.
//
// An omitted redirect_uri (sent == "") designates the registered URI when
// exactly one is registered (RFC 6749 §3.1.2.3).
func matchRedirectURI(registered []string, sent string, anyLoopbackPort bool) (string, bool) {
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
		if sent == reg || anyLoopbackPort && loopbackMatch(reg, sent) {
			return sent, true
		}
	}
	return "", false
}

// loopbackMatch reports whether sent equals the loopback URI reg except for
// the port.
func loopbackMatch(reg, sent string) bool {
	regHost, regRest, ok1 := splitLoopbackURI(reg)
	sentHost, sentRest, ok2 := splitLoopbackURI(sent)
	return ok1 && ok2 && regHost == sentHost && regRest == sentRest
}

// splitLoopbackURI splits an http URI whose host is a loopback IP literal
// into that host as written (brackets included) and what follows the port
// (path, query, fragment). The port, if any, is 1 to 5 digits, at most
// 65535.
func splitLoopbackURI(uri string) (host, rest string, ok bool) {
	after, ok := strings.CutPrefix(uri, "http://")
	if !ok {
		return "", "", false
	}
	end := strings.IndexAny(after, "/?#")
	if end < 0 {
		end = len(after)
	}
	authority, rest := after[:end], after[end:]
	host, name, port := authority, authority, ""
	if strings.HasPrefix(authority, "[") {
		i := strings.IndexByte(authority, ']')
		if i < 0 {
			return "", "", false
		}
		host, name, port = authority[:i+1], authority[1:i], authority[i+1:]
	} else if i := strings.IndexByte(authority, ':'); i >= 0 {
		host, name, port = authority[:i], authority[:i], authority[i:]
	}
	if !loopback.Host(name) || !validPort(port) {
		return "", "", false
	}
	return host, rest, true
}

// validPort reports whether p is empty or ":" and 1 to 5 digits, at most
// 65535.
func validPort(p string) bool {
	if p == "" {
		return true
	}
	if p[0] != ':' || len(p) < 2 || len(p) > 6 {
		return false
	}
	n := 0
	for i := 1; i < len(p); i++ {
		if p[i] < '0' || p[i] > '9' {
			return false
		}
		n = n*10 + int(p[i]-'0')
	}
	return n <= 65535
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
