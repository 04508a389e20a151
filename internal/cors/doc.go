// Package cors answers the CORS protocol of the Fetch standard for
// oauthkit's endpoints, and parses and compares web origins (RFC 6454). It
// knows nothing of OAuth: which origins an endpoint lets read its answers
// is the caller's decision, taken per request.
//
// A [Policy] wraps a handler. A public policy lets every origin read every
// answer (Access-Control-Allow-Origin: *, never with credentials), for
// documents without secrets such as discovery metadata and key sets.
// Otherwise the wrapped handler calls [Allow] once it knows the request's
// origin may read the answer; preflights, which carry no credentials, are
// decided by Policy.AllowPreflight.
//
// [ParseOrigin] accepts only the serialization browsers send in the Origin
// header; [OriginOf] gives the origin of an http or https URI, such as a
// registered redirect URI; [Match] and [Set] compare them, with the RFC
// 8252 §7.3 exception — any port on a loopback IP literal — when the caller
// asks for it.
package cors
