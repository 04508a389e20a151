package grant

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/oauthkit/oauthkit/store"
)

// clientForm reads the request of an endpoint that clients authenticate to
// (token, revocation, introspection): the strict POST form, then the client.
// It fills ev.ClientID as it learns it. When it reports false it has already
// answered the request with the error.
func (p *Provider) clientForm(w http.ResponseWriter, r *http.Request, ev *Event, confidentialOnly bool) (url.Values, *store.Client, bool) {
	ctx := r.Context()
	form, e := parseForm(w, r)
	if e != nil {
		p.refuse(ctx, w, *ev, e)
		return nil, nil, false
	}
	ev.ClientID = form.Get("client_id")
	if ev.GrantType == "" {
		ev.GrantType = form.Get("grant_type") // the token endpoint's
	}
	c, basic, e := p.authenticateClient(ctx, r, form, ev.Addr)
	if e == nil && confidentialOnly && c.Public() {
		e = errClient(basic)
	}
	if e != nil {
		p.refuse(ctx, w, *ev, e)
		return nil, nil, false
	}
	ev.ClientID = c.ID
	return form, c, true
}

// authenticateClient establishes which client is calling (RFC 6749 §2.3):
// client_secret_basic, client_secret_post, or none for public clients, each
// only as the client registered. One method per request; secrets compared as
// SHA-256 hashes in constant time; an unknown client costs the same hash and
// gets the same invalid_client as a wrong secret.
func (p *Provider) authenticateClient(ctx context.Context, r *http.Request, form url.Values, addr string) (*store.Client, bool, *Error) {
	id, secret, method, basic, e := clientCredentials(r, form)
	if e != nil {
		return nil, basic, e
	}
	// Secret guessing is throttled like password guessing, per client and
	// address; generated secrets are out of reach anyway, registered ones
	// may be weaker.
	account := "client\x00" + id
	if secret != "" {
		if wait := p.throttle.wait(account, addr); wait > 0 {
			return nil, basic, errSlowDown(wait)
		}
	}
	c, err := p.client(ctx, id) // cimd.go
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		p.cfg.Logger.ErrorContext(ctx, "grant: client lookup failed", "err", err)
		return nil, basic, errServer
	}
	// An unknown client costs the same hash as a known one.
	match := store.HashSecret(secret).Equal(hashOf(c))
	if c == nil || c.AuthMethod != method || method != store.AuthNone && !match {
		if secret != "" {
			p.throttle.fail(account, addr)
		}
		return nil, basic, errClient(basic)
	}
	return c, basic, nil
}

func hashOf(c *store.Client) store.Hash {
	if c == nil {
		return store.Hash{}
	}
	return c.SecretHash
}

// clientCredentials reads the client's identity and secret from the request.
func clientCredentials(r *http.Request, form url.Values) (id, secret, method string, basic bool, e *Error) {
	if auth := r.Header.Values("Authorization"); len(auth) > 0 {
		if len(auth) > 1 || !hasScheme(auth[0], "basic") {
			return "", "", "", false, errClient(false)
		}
		u, pw, ok := r.BasicAuth()
		if !ok {
			return "", "", "", true, errClient(true)
		}
		// RFC 6749 §2.3.1: both are form-encoded before Basic encoding.
		var err1, err2 error
		id, err1 = url.QueryUnescape(u)
		secret, err2 = url.QueryUnescape(pw)
		if err1 != nil || err2 != nil || id == "" {
			return "", "", "", true, errClient(true)
		}
		if form.Has("client_secret") {
			return "", "", "", true, errRequest("use one client authentication method, not two")
		}
		if fid := form.Get("client_id"); fid != "" && fid != id {
			return "", "", "", true, errClient(true)
		}
		if secret == "" {
			return id, "", store.AuthNone, true, nil
		}
		return id, secret, store.AuthSecretBasic, true, nil
	}
	id, secret = form.Get("client_id"), form.Get("client_secret")
	switch {
	case id == "":
		return "", "", "", false, errClient(false)
	case secret == "":
		return id, "", store.AuthNone, false, nil
	}
	return id, secret, store.AuthSecretPost, false, nil
}

func hasScheme(h, scheme string) bool {
	return len(h) > len(scheme) && h[len(scheme)] == ' ' && strings.EqualFold(h[:len(scheme)], scheme)
}
