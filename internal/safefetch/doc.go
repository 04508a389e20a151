// Package safefetch fetches small documents from URLs that clients choose
// (a client's jwks_uri, a client ID metadata document) without letting
// them point the server at itself or its network (server-side request
// forgery):
//
//   - https only; http only on a loopback IP literal, and only with
//     AllowLoopback (development), as the issuer rule does (package
//     loopback);
//   - the host is resolved once, and every address it resolves to must be
//     public (Public: no loopback, private, link-local, multicast,
//     unspecified, CGNAT, documentation, reserved, NAT64, 6to4, Teredo, nor
//     an IPv4-mapped form of one); a name with one such address is refused
//     whole, before any connection;
//   - the connection goes to the checked IP itself, never to the name
//     again, so that DNS rebinding cannot switch it, and the dialer's
//     Control hook checks the address actually connected to once more;
//   - no proxy from the environment, no redirects, no status but 200;
//   - a timeout and a size limit on every fetch, bounded headers, and
//     optionally a bound on fetches in flight (MaxInFlight).
//
// Lifetime reads a response's HTTP cache lifetime (RFC 9111). Resolver and
// Dial are injectable, so that tests can point names at any address and
// see every connection attempted. The package knows nothing of OAuth.
package safefetch
