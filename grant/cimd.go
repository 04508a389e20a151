package grant

import (
	"context"
	"crypto/x509"
	"errors"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/oauthkit/oauthkit/internal/logsample"
	"github.com/oauthkit/oauthkit/internal/loopback"
	"github.com/oauthkit/oauthkit/internal/safefetch"
	"github.com/oauthkit/oauthkit/store"
)

// Client ID Metadata Documents (draft-ietf-oauth-client-id-metadata-document,
// the MCP authorization specification's preferred registration): a
// client_id that is an https URL, and is not a client of Config.Clients,
// names the client's metadata document, which the provider fetches from
// that URL and reads as the client's registration.
//
//   - The URL: https, a path, no userinfo, fragment or dot segments, at
//     most store.MaxClientIDLen bytes. In development — while the issuer
//     itself is http on loopback — http URLs on a loopback IP literal are
//     accepted too, and documents may be served from loopback addresses;
//     never otherwise.
//   - The fetch goes through internal/safefetch: after DNS resolution only
//     public addresses (no private, loopback, link-local, CGNAT,
//     IPv4-mapped private…), the checked address dialed (no DNS
//     rebinding), no redirects, no proxy, at most MaxBytes (5 KiB) within
//     Timeout (5 s), a few fetches in flight at once. ClientIDMetadata.Allow
//     may refuse a URL before anything is fetched.
//   - The document: 200, JSON (application/json or application/*+json),
//     its client_id exactly its URL (RFC 3986 §6.2.1 simple string
//     comparison), without a shared secret: a public client's (none), or a
//     private_key_jwt client's with its keys in the document (jwks, or a
//     jwks_uri fetched as safely as the document). Its
//     metadata is read as a registration's (register_metadata.go,
//     store.Client.Validate), except that what the provider does not offer
//     is left out rather than refused: redirect URIs the registration rules
//     refuse (such as http://localhost:…, a name rather than an IP
//     literal), grant types other than ClientIDMetadata's, scopes not
//     offered. What is left must allow a grant, and the authorization code
//     grant needs a redirect URI.
//   - Documents are kept for their HTTP cache lifetime, within MinCache and
//     MaxCache; a fetch or a document that fails is never kept.
//   - Such clients are never first-party, and the consent page shows the
//     host of their URL plainly (ConsentPage.ClientHost): their name is
//     their own claim.

// ClientIDMetadata configures Client ID Metadata Documents. The zero value
// is off.
type ClientIDMetadata struct {
	// Enabled turns them on, and publishes
	// client_id_metadata_document_supported. Default false.
	Enabled bool
	// Allow, if set, is asked about every client ID URL before its
	// document is fetched: false makes the client unknown (a trust policy:
	// known hosts only, or none of a list). Default: every URL the
	// built-in rules accept.
	Allow func(ctx context.Context, clientID string) bool
	// GrantTypes the clients may use, among Config.GrantTypes. Default
	// authorization_code and refresh_token.
	GrantTypes []string
	// Scopes the clients may ask for: a document's scope is narrowed to
	// these, and a document without one gets them all. Default
	// Config.ScopesSupported.
	Scopes []string
	// MaxBytes bounds a document. Default 5 KiB (the draft's
	// recommendation).
	MaxBytes int64
	// Timeout bounds a fetch, connection to last byte. Default 5 seconds.
	Timeout time.Duration
	// MinCache and MaxCache bound how long a document is used: its HTTP
	// cache lifetime (Cache-Control max-age, Expires; no-store counts as
	// none), within these. Default 1 minute and 24 hours.
	MinCache, MaxCache time.Duration
	// MaxCached bounds the documents kept. Default 10000.
	MaxCached int
	// RootCAs verify the servers of documents. Default the system's.
	RootCAs *x509.CertPool

	resolver safefetch.Resolver                                                // tests: DNS
	dial     func(ctx context.Context, network, addr string) (net.Conn, error) // tests: connections
}

// cimdMaxInFlight bounds the documents fetched at once: more fail at once
// (the client is unknown until a fetch slot is free).
const cimdMaxInFlight = 8

// cimd finds clients by their metadata documents; nil when they are off.
type cimd struct {
	cfg    *ClientIDMetadata
	rules  metadataRules
	dev    bool // the issuer is http on loopback
	fetch  *safefetch.Fetcher
	now    func() time.Time
	log    func(ctx context.Context, msg string, e *Error, attrs ...any) // sampled (log.go)
	flight singleflight.Group

	mu    sync.Mutex
	cache map[string]cimdEntry
}

type cimdEntry struct {
	c     *store.Client
	until time.Time
}

func (c *Config) checkCIMD() {
	m := &c.ClientIDMetadata
	if !m.Enabled {
		return
	}
	if m.GrantTypes == nil {
		m.GrantTypes = []string{store.GrantAuthorizationCode, store.GrantRefreshToken}
	}
	m.GrantTypes = slices.DeleteFunc(slices.Clone(m.GrantTypes), func(g string) bool { return !slices.Contains(c.GrantTypes, g) })
	if m.Scopes == nil {
		m.Scopes = c.ScopesSupported
	}
	if m.MaxBytes <= 0 {
		m.MaxBytes = 5 << 10
	}
	if m.Timeout <= 0 {
		m.Timeout = 5 * time.Second
	}
	if m.MinCache <= 0 {
		m.MinCache = time.Minute
	}
	if m.MaxCache <= 0 {
		m.MaxCache = 24 * time.Hour
	}
	m.MaxCache = max(m.MaxCache, m.MinCache)
	if m.MaxCached <= 0 {
		m.MaxCached = 10000
	}
}

func newCIMD(p *Provider) *cimd {
	c := &p.cfg
	m := &c.ClientIDMetadata
	if !m.Enabled {
		return nil
	}
	dev := strings.HasPrefix(c.Issuer, "http://") // checkIssuer: only on loopback
	return &cimd{
		cfg: m, rules: cimdRules(m.GrantTypes, m.Scopes), dev: dev, now: c.Now, log: p.logRefusal,
		cache: make(map[string]cimdEntry),
		fetch: safefetch.New(safefetch.Options{
			AllowLoopback: dev, MaxBytes: m.MaxBytes, Timeout: m.Timeout, MaxInFlight: cimdMaxInFlight,
			RootCAs: m.RootCAs, Resolver: m.resolver, Dial: m.dial,
		}),
	}
}

// cimdRules are what a document may ask for.
func cimdRules(grants, scopes []string) metadataRules {
	return metadataRules{authMethods: []string{store.AuthNone, store.AuthPrivateKeyJWT}, defaultAuth: store.AuthNone, grantTypes: grants, scopes: scopes}
}

// cimdError says why a client ID URL names no usable client. It matches
// store.ErrNotFound: the client is unknown.
type cimdError struct{ why string }

func (e *cimdError) Error() string        { return "grant: client ID metadata document: " + e.why }
func (e *cimdError) Is(target error) bool { return target == store.ErrNotFound }

// client finds client id: in Config.Clients, or, when Client ID Metadata
// Documents are on and id is a URL the store does not know, by its
// document. Every endpoint looks clients up through it.
func (p *Provider) client(ctx context.Context, id string) (*store.Client, error) {
	c, err := p.clients.Client(ctx, id)
	if p.cimd == nil || !errors.Is(err, store.ErrNotFound) || !p.cimd.names(id) {
		return c, err
	}
	return p.cimd.client(ctx, id)
}

// names reports whether id has the scheme of a client ID URL.
func (d *cimd) names(id string) bool {
	return strings.HasPrefix(id, "https://") || d.dev && strings.HasPrefix(id, "http://")
}

func (d *cimd) client(ctx context.Context, id string) (*store.Client, error) {
	now := d.now()
	d.mu.Lock()
	e, ok := d.cache[id]
	d.mu.Unlock()
	if ok && now.Before(e.until) {
		return e.c, nil
	}
	if why := d.checkURL(id); why != "" {
		return nil, &cimdError{why}
	}
	if d.cfg.Allow != nil && !d.cfg.Allow(ctx, id) {
		return nil, &cimdError{"this server does not accept clients from that URL"}
	}
	// One fetch per URL at a time, on its own context: a caller that gives
	// up does not fail the others waiting for the same document.
	v, err, _ := d.flight.Do(id, func() (any, error) { return d.load(context.WithoutCancel(ctx), id) })
	if err != nil {
		return nil, err
	}
	return v.(*store.Client), nil
}

// load fetches and reads the document of id, and keeps it.
func (d *cimd) load(ctx context.Context, id string) (*store.Client, error) {
	res, err := d.fetch.Fetch(ctx, id, "application/json")
	if err != nil {
		ce := &cimdError{"the document could not be fetched"}
		e := cimdRefusal(ce)
		e.detail = err.Error()
		d.log(ctx, "grant: client ID metadata document not fetched", e, "client_id", logsample.Clip(id))
		return nil, ce
	}
	if !jsonMediaType(res.Header.Get("Content-Type")) {
		return nil, &cimdError{"the document is not served as JSON"}
	}
	c, e := parseDocument(id, res.Body, d.rules)
	if e != nil {
		d.log(ctx, "grant: client ID metadata document refused", e, "client_id", logsample.Clip(id))
		return nil, &cimdError{e.Description}
	}
	now := d.now()
	life := min(max(safefetch.Lifetime(res.Header, now), d.cfg.MinCache), d.cfg.MaxCache)
	d.mu.Lock()
	defer d.mu.Unlock()
	if len(d.cache) >= d.cfg.MaxCached {
		d.prune(now)
	}
	d.cache[id] = cimdEntry{c: c, until: now.Add(life)}
	return c, nil
}

// prune drops expired documents, then, if that freed too little, a random
// half of the others.
func (d *cimd) prune(now time.Time) {
	for k, e := range d.cache {
		if !now.Before(e.until) {
			delete(d.cache, k)
		}
	}
	for k := range d.cache {
		if len(d.cache) < d.cfg.MaxCached/2 {
			break
		}
		delete(d.cache, k)
	}
}

// checkURL says what keeps id from being a client ID URL, or "" (the
// draft's §3, with the development exception).
func (d *cimd) checkURL(id string) string {
	if len(id) > store.MaxClientIDLen {
		return "the client ID URL is too long"
	}
	for i := 0; i < len(id); i++ {
		if id[i] <= 0x20 || id[i] >= 0x7f || id[i] == '#' {
			return "the client ID URL must be printable ASCII without spaces or fragment"
		}
	}
	u, err := url.Parse(id)
	if err != nil || u.Host == "" || u.User != nil || u.Opaque != "" {
		return "the client ID must be an absolute URL with a host and no userinfo"
	}
	if u.Scheme == "http" && (!d.dev || !loopback.Host(u.Hostname())) {
		return "the client ID URL must use https"
	}
	if u.Path == "" || u.Path == "/" {
		return "the client ID URL must have a path"
	}
	for seg := range strings.SplitSeq(u.Path, "/") {
		if seg == "." || seg == ".." {
			return `the client ID URL must not have "." or ".." segments`
		}
	}
	return ""
}

// jsonMediaType reports whether ct is application/json or
// application/<something>+json.
func jsonMediaType(ct string) bool {
	mt, _, _ := strings.Cut(ct, ";")
	mt = strings.ToLower(strings.TrimSpace(mt))
	return mt == "application/json" || strings.HasPrefix(mt, "application/") && strings.HasSuffix(mt, "+json")
}

// parseDocument reads the client ID metadata document body fetched from
// id, under rules.
func parseDocument(id string, body []byte, rules metadataRules) (*store.Client, *Error) {
	m, e := parseClientMetadata(body)
	if e != nil {
		return nil, e
	}
	if m.ClientID != id {
		return nil, errMetadata("the document's client_id must be its URL exactly")
	}
	for _, k := range []string{"client_secret", "client_secret_expires_at"} {
		if _, ok := m.all[k]; ok {
			return nil, errMetadata("a client ID metadata document must not hold " + k)
		}
	}
	switch m.TokenEndpointAuthMethod {
	case "", store.AuthNone:
	case store.AuthPrivateKeyJWT: // with the document's jwks or jwks_uri (store.Client.Validate)
	default:
		return nil, errMetadata("a client ID metadata document cannot share a secret: token_endpoint_auth_method must be none or private_key_jwt")
	}
	// Leave out what this server does not offer, rather than refuse.
	m.RedirectURIs = slices.DeleteFunc(slices.Clone(m.RedirectURIs), func(u string) bool {
		r := store.Client{ID: "x", AuthMethod: store.AuthNone, RedirectURIs: []string{u}}
		return len(u) > maxURILen || r.Validate() != nil
	})
	if m.GrantTypes != nil {
		m.GrantTypes = slices.DeleteFunc(slices.Clone(m.GrantTypes), func(g string) bool { return !slices.Contains(rules.grantTypes, g) })
	}
	if m.ResponseTypes != nil {
		m.ResponseTypes = slices.DeleteFunc(slices.Clone(m.ResponseTypes), func(rt string) bool { return rt != "code" })
	}
	if scopes, ok := parseScope(m.Scope); ok && len(scopes) > 0 {
		offered := slices.DeleteFunc(scopes, func(s string) bool { return !slices.Contains(rules.scopes, s) })
		if len(offered) == 0 { // never widened to all by leaving every one out
			return nil, errMetadata("none of the document's scopes is offered here")
		}
		m.Scope = joinScopes(offered)
	}
	c, e := m.client(rules)
	if e != nil {
		return nil, e
	}
	if len(c.GrantTypes) == 0 {
		return nil, errMetadata("the document asks for no grant type this server offers")
	}
	if c.AllowsGrant(store.GrantAuthorizationCode) && len(c.RedirectURIs) == 0 {
		return nil, errRedirectURI("the document allows no redirect URI this server accepts for the authorization code grant")
	}
	c.ID = id
	if err := c.Validate(); err != nil {
		e, _ := asRegistrationError(err)
		return nil, e
	}
	return c, nil
}

// clientHost is what the consent page shows of a client whose ID is a URL
// (a client ID metadata document): the URL's host, port included. "" for
// other clients.
func clientHost(c *store.Client) string {
	if !strings.HasPrefix(c.ID, "https://") && !strings.HasPrefix(c.ID, "http://") {
		return ""
	}
	u, err := url.Parse(c.ID)
	if err != nil {
		return ""
	}
	return u.Host
}

// cimdRefusal is the error page for a client ID URL whose document could
// not be used, or nil when err is not about one.
func cimdRefusal(err error) *Error {
	var ce *cimdError
	if !errors.As(err, &ce) {
		return nil
	}
	return newError(http.StatusBadRequest, CodeInvalidClient, "The client's client ID metadata document cannot be used: "+ce.why)
}
