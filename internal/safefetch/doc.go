// Package safefetch fetches small documents from URLs that clients choose
// (a client's jwks_uri, for example) without letting them point the server
// at itself or its network (server-side request forgery): https only;
// connections only to public unicast addresses, checked on the address
// actually dialled, after name resolution, so that a name that resolves to
// a private address (or is re-bound to one) is refused; no proxy from the
// environment; no redirects; a timeout and a size limit on every fetch.
//
// For development, AllowLoopback lets URLs on loopback IP literals through
// (http or https), as the issuer rule does (package loopback). The package
// knows nothing of OAuth.
package safefetch
