package grant

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/oauthkit/oauthkit/internal/jwtverify"
	"github.com/oauthkit/oauthkit/internal/logsample"
	"github.com/oauthkit/oauthkit/store"
)

// clientForm reads the request of an endpoint that clients authenticate to
// (token, revocation, introspection): the strict POST form, then the client.
// It fills ev.ClientID as it learns it: as claimed (a short escaped prefix)
// until the client is authenticated. When it reports false it has already
// answered the request with the error.
func (p *Provider) clientForm(w http.ResponseWriter, r *http.Request, ev *Event, confidentialOnly bool) (url.Values, *store.Client, bool) {
	ctx := r.Context()
	form, e := parseForm(w, r)
	if e != nil {
		p.refuse(ctx, w, *ev, e)
		return nil, nil, false
	}
	if ev.GrantType == "" {
		ev.GrantType = logsample.Clip(form.Get("grant_type")) // the token endpoint's
	}
	cr, e := clientCredentials(r, form)
	if e == nil && cr.method == store.AuthPrivateKeyJWT {
		p.readAssertion(&cr) // clientassert.go
	}
	ev.ClientID = logsample.Clip(cr.claimed)
	if e == nil {
		e = checkSyntax(form)
	}
	var c *store.Client
	if e == nil {
		c, e = p.authenticateClient(ctx, cr, ev.Addr)
	}
	if e == nil && confidentialOnly && c.Public() {
		e = errClient(cr.basic)
	}
	if e != nil {
		p.refuse(ctx, w, *ev, e)
		return nil, nil, false
	}
	ev.ClientID = c.ID
	return form, c, true
}

// credentials are what a request presents to authenticate its client.
type credentials struct {
	claimed string   // the client ID as sent, for events and logs
	ids     []string // the client ID's readings, most likely first
	secrets []string // the secret's readings; none for a public client
	method  string   // store.AuthSecretBasic, AuthSecretPost, AuthPrivateKeyJWT or AuthNone
	basic   bool     // sent with HTTP Basic: refusals carry a challenge

	// For AuthPrivateKeyJWT (clientassert.go): the client_assertion as
	// sent, then parsed, or why it cannot be.
	assertionRaw string
	assertion    *jwtverify.JWT
	assertionErr *Error
}

// authenticateClient establishes which client is calling (RFC 6749 §2.3):
// a confidential client by its secret, with client_secret_basic or
// client_secret_post, whichever it sends (exactly its registered method if
// it or the Provider is strict), or by a private_key_jwt assertion if it
// is registered for that (clientassert.go); a public client by sending no
// secret.
// Secrets are compared as SHA-256 hashes in constant time; an unknown
// client costs the same hash and gets the same invalid_client as a wrong
// secret.
//
// Secret guessing is throttled like password guessing, per client and
// address, but the check is cheap and a service may run many at once: so
// no attempt is reserved. A client or address in its wait is refused
// before the secret is looked at; a correct secret takes nothing and
// clears the client's count at that address (it never counts as a
// failure, whichever method carried it); every wrong one is charged in
// full, beyond the limit as a debt (internal/throttle).
func (p *Provider) authenticateClient(ctx context.Context, cr credentials, addr string) (*store.Client, *Error) {
	if cr.method == store.AuthPrivateKeyJWT {
		return p.authenticateAssertion(ctx, cr, addr)
	}
	c, err := p.lookupClient(ctx, cr.ids)
	if err != nil {
		return nil, p.failure(ctx, "grant: client lookup failed", err)
	}
	confidential := c != nil && !c.Public()
	if len(cr.secrets) > 0 {
		// An unknown client's attempts count against the address only,
		// so that guessing client IDs fills no table.
		account := ""
		if confidential {
			account = "client\x00" + c.ID
		}
		if e := p.throttleWait(ctx, account, addr); e != nil {
			return nil, e
		}
		if !secretMatches(c, cr.secrets) || !confidential {
			p.throttleFailed(ctx, account, addr)
			return nil, errClient(cr.basic)
		}
		p.throttleSucceeded(ctx, account, addr)
	}
	if c == nil || !p.methodAllowed(c, cr.method) {
		return nil, errClient(cr.basic)
	}
	return c, nil
}

// lookupClient returns the client of the first of ids that is registered,
// or nil if none is.
func (p *Provider) lookupClient(ctx context.Context, ids []string) (*store.Client, error) {
	for _, id := range ids {
		c, err := p.client(ctx, id) // cimd.go
		if err == nil {
			return c, nil
		}
		if !errors.Is(err, store.ErrNotFound) {
			return nil, err
		}
	}
	return nil, nil
}

// secretMatches compares every reading of the presented secret with c's
// hash, in constant time, all of them whatever the outcome; an unknown
// client is compared with a zero hash, which no secret matches.
func secretMatches(c *store.Client, secrets []string) bool {
	want := hashOf(c)
	match := false
	for _, s := range secrets {
		eq := store.HashSecret(s).Equal(want)
		match = eq || match
	}
	return match && !want.IsZero()
}

// methodAllowed reports whether c may authenticate with a secret sent by
// method: a public client with none; a secret client with either secret
// method, or only its registered one when it or the Provider is strict. A
// private_key_jwt client never authenticates with a secret.
func (p *Provider) methodAllowed(c *store.Client, method string) bool {
	switch c.AuthMethod {
	case store.AuthNone:
		return method == store.AuthNone
	case store.AuthSecretBasic, store.AuthSecretPost:
		if method != store.AuthSecretBasic && method != store.AuthSecretPost {
			return false
		}
		return !(c.StrictAuthMethod || p.cfg.ClientAuth.StrictMethod) || method == c.AuthMethod
	}
	return false
}

func hashOf(c *store.Client) store.Hash {
	if c == nil {
		return store.Hash{}
	}
	return c.SecretHash
}

// clientCredentials reads the client's identity and secret from the
// request. The client ID must be RFC 6749 Appendix A.1 syntax; anything
// else is invalid_client before any store is asked. cr.claimed is set
// whenever an ID was sent, also with an error.
func clientCredentials(r *http.Request, form url.Values) (cr credentials, e *Error) {
	auth := r.Header.Values("Authorization")
	if form.Has("client_assertion") || form.Has("client_assertion_type") {
		return assertionCredentials(form, len(auth) > 0)
	}
	if len(auth) == 0 {
		id, secret := form.Get("client_id"), form.Get("client_secret")
		cr = credentials{claimed: id, ids: []string{id}, method: store.AuthNone}
		if !validClientID(id) {
			return cr, errClient(false)
		}
		if secret != "" {
			cr.secrets, cr.method = []string{secret}, store.AuthSecretPost
		}
		return cr, nil
	}
	cr.basic = true
	if len(auth) > 1 || !hasScheme(auth[0], "basic") {
		return cr, errClient(false)
	}
	u, pw, ok := r.BasicAuth()
	cr.claimed = u
	if !ok {
		return cr, errClient(true)
	}
	cr.ids = slices.DeleteFunc(basicReadings(u), func(id string) bool { return !validClientID(id) })
	if len(cr.ids) == 0 {
		return cr, errClient(true)
	}
	cr.claimed = cr.ids[0]
	if form.Has("client_secret") {
		return cr, errRequest("use one client authentication method, not two")
	}
	if fid := form.Get("client_id"); fid != "" {
		if !slices.Contains(cr.ids, fid) {
			return cr, errClient(true)
		}
		cr.ids = []string{fid}
	}
	cr.method = store.AuthNone
	if pw != "" {
		cr.secrets, cr.method = basicReadings(pw), store.AuthSecretBasic
	}
	return cr, nil
}

// assertionCredentials reads a client assertion (RFC 7521 §4.2): both
// client_assertion_type and client_assertion, and no other method beside
// them; a client_id, if sent, must be syntactically valid here and the
// assertion's iss later (readAssertion).
func assertionCredentials(form url.Values, header bool) (credentials, *Error) {
	id := form.Get("client_id")
	cr := credentials{claimed: id, method: store.AuthPrivateKeyJWT, assertionRaw: form.Get("client_assertion")}
	switch typ := form.Get("client_assertion_type"); {
	case header || form.Has("client_secret"):
		return cr, errRequest("use one client authentication method, not two")
	case typ == "":
		return cr, errRequest("client_assertion_type is required with client_assertion")
	case cr.assertionRaw == "":
		return cr, errRequest("client_assertion is required with client_assertion_type")
	case typ != AssertionTypeJWTBearer:
		e := errClient(false)
		e.Description = "client_assertion_type must be " + AssertionTypeJWTBearer
		return cr, e
	}
	if id != "" {
		if !validClientID(id) {
			return cr, errClient(false)
		}
		cr.ids = []string{id}
	}
	return cr, nil
}

// basicReadings returns what a value from HTTP Basic credentials may
// mean. RFC 6749 §2.3.1 has client IDs and secrets form-encoded before
// Basic encoding, but curl -u and many clients send them as they are: the
// decoded value comes first, then the raw one when it differs (or alone
// when it does not decode).
func basicReadings(raw string) []string {
	dec, err := url.QueryUnescape(raw)
	switch {
	case err != nil:
		return []string{raw}
	case dec == raw:
		return []string{dec}
	}
	return []string{dec, raw}
}

func hasScheme(h, scheme string) bool {
	return len(h) > len(scheme) && h[len(scheme)] == ' ' && strings.EqualFold(h[:len(scheme)], scheme)
}
