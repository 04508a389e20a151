// Package loopback decides what counts as a loopback host, for every
// "http only on loopback" rule of oauthkit: the issuer, the resource
// server's JWKS and introspection URLs, RFC 8252 §7.3 redirect URIs and
// CORS origins.
//
// A loopback host is an IP literal in 127.0.0.0/8 or ::1, written as
// net/netip parses it (dotted-decimal IPv4 without leading zeros; any IPv6
// spelling of ::1). Nothing else is:
//
//   - no host name: not 127.attacker.example, and not localhost itself,
//     which name resolution may send elsewhere (RFC 8252 §8.3 asks for the
//     IP literals);
//   - no IPv4-mapped IPv6 form (::ffff:127.0.0.1): whether it reaches the
//     loopback interface depends on the host's dual-stack settings, and no
//     client writes it;
//   - no zoned address (::1%lo);
//   - no shorthand that some resolvers expand (127.1, 0x7f.0.0.1, 2130706433).
package loopback

import "net/netip"

// Host reports whether host — a URL's host name, without port or
// brackets, as url.URL.Hostname returns it — is a loopback IP literal.
func Host(host string) bool {
	a, err := netip.ParseAddr(host)
	if err != nil || a.Zone() != "" || a.Is4In6() {
		return false
	}
	return a.IsLoopback()
}
