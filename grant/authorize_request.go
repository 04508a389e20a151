package grant

import (
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/oauthkit/oauthkit/store"
)

// authRequest is a validated authorization request (RFC 6749 §4.1.1).
type authRequest struct {
	client      *store.Client
	redirectURI string       // where the response goes
	sentURI     string       // redirect_uri as sent; "" when omitted (RFC 6749 §4.1.3)
	state       string       // returned unchanged
	scopes      []string     // what the client asked for, resolved
	challenge   string       // PKCE S256 code_challenge; "" only when PKCE is optional
	dpopJKT     string       // RFC 9449 §10 dpop_jkt: the DPoP key the code is bound to, if any
	oidc        *oidcRequest // the OpenID Connect parameters; nil for a plain OAuth request (oidc_authorize.go)
	authTime    time.Time    // when the signed-in user authenticated; zero when unknown
	resources   []string     // RFC 8707 resources asked for, canonical (resource.go)
}

// parseAuthorizeQuery parses the authorization request's query string. It
// reports false when a parameter appears twice (RFC 6749 §3.1), but
// resource (RFC 8707 §2).
func parseAuthorizeQuery(raw string) (url.Values, bool, error) {
	q, err := url.ParseQuery(raw)
	if err != nil {
		return nil, false, err
	}
	for k, v := range q {
		if len(v) > 1 && k != "resource" {
			return q, false, nil
		}
	}
	return q, true, nil
}

// validateAuthorize checks an authorization request for client c, the one
// named by its client_id (nil when unknown), in the order RFC 6749 §4.1.2.1
// requires. A non-nil page error must be shown to the user, never
// redirected (audit row 2): the client is unknown or the redirect URI is not
// one it registered. Only after both checks pass may an error be sent to the
// redirect URI (the request is then returned with it).
func validateAuthorize(q url.Values, unique bool, c *store.Client, pkceOptional bool) (req *authRequest, page, redirect *Error) {
	if len(q["client_id"]) != 1 || q.Get("client_id") == "" {
		return nil, errRequest("the request has no client_id, or more than one"), nil
	}
	if c == nil {
		return nil, errRequest("the client is not registered"), nil
	}
	if len(q["redirect_uri"]) > 1 {
		return nil, errRequest("the request has more than one redirect_uri"), nil
	}
	target, ok := matchRedirectURI(c.RedirectURIs, q.Get("redirect_uri"), c.Public())
	if !ok {
		return nil, errRequest("the redirect_uri is not one the client registered"), nil
	}
	req = &authRequest{client: c, redirectURI: target, sentURI: q.Get("redirect_uri"), state: q.Get("state")}
	// From here on, errors go back to the client.
	if !unique {
		return req, nil, errRequest("a parameter is included more than once")
	}
	if e := refuseRequestObjects(q); e != nil { // oidc_authorize.go
		return req, nil, e
	}
	switch rt := q.Get("response_type"); {
	case rt == "":
		return req, nil, errRequest("response_type is required")
	case rt != "code":
		return req, nil, newError(http.StatusBadRequest, CodeUnsupportedResponseType, "only response_type=code is supported")
	}
	if !c.AllowsGrant(store.GrantAuthorizationCode) {
		return req, nil, newError(http.StatusBadRequest, CodeUnauthorizedClient, "the client is not registered for the authorization code grant")
	}
	if e := req.pkce(q, pkceOptional && !c.Public()); e != nil {
		return req, nil, e
	}
	scopes, e := resolveScopes(q.Get("scope"), c.Scopes)
	if e != nil {
		return req, nil, e
	}
	req.scopes = scopes
	if jkt := q.Get("dpop_jkt"); jkt != "" {
		if !isS256Challenge(jkt) { // the same shape: a SHA-256, base64url
			return req, nil, errRequest("dpop_jkt must be the base64url SHA-256 JWK thumbprint of a DPoP key")
		}
		req.dpopJKT = jkt
	}
	return req, nil, nil
}

// pkce reads the RFC 7636 §4.3 parameters. Only S256 is accepted: a
// challenge without a method means plain (§4.3), which is refused too.
func (req *authRequest) pkce(q url.Values, optional bool) *Error {
	ch, method := q.Get("code_challenge"), q.Get("code_challenge_method")
	switch {
	case ch == "" && method == "" && optional:
		return nil
	case ch == "":
		return errRequest("code_challenge is required (PKCE with S256)")
	case method != "S256":
		return errRequest("code_challenge_method must be S256")
	case !isS256Challenge(ch):
		return errRequest("code_challenge must be the base64url SHA-256 of the code_verifier (43 characters)")
	}
	req.challenge = ch
	return nil
}

// isS256Challenge reports whether ch is 43 base64url characters, the length
// of an unpadded SHA-256.
func isS256Challenge(ch string) bool {
	if len(ch) != 43 {
		return false
	}
	return !slices.ContainsFunc([]byte(ch), func(c byte) bool {
		return !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_')
	})
}
