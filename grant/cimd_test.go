package grant

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/oauthkit/oauthkit/store"
	"github.com/oauthkit/oauthkit/store/memory"
	"github.com/oauthkit/oauthkit/store/password"
)

// docServer serves client ID metadata documents by path, counting
// requests. A document's "client_id" of "{URL}" becomes its own URL.
type docServer struct {
	srv  *httptest.Server
	mu   sync.Mutex
	docs map[string]docAnswer
	hits atomic.Int32
}

type docAnswer struct {
	body   string
	ctype  string
	header http.Header
	status int
}

func newDocServer(t *testing.T) *docServer {
	d := &docServer{docs: map[string]docAnswer{}}
	d.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		d.hits.Add(1)
		d.mu.Lock()
		a, ok := d.docs[r.URL.Path]
		d.mu.Unlock()
		if !ok {
			http.NotFound(w, r)
			return
		}
		for k, v := range a.header {
			w.Header()[k] = v
		}
		if a.ctype == "" {
			a.ctype = "application/json"
		}
		w.Header().Set("Content-Type", a.ctype)
		if a.status != 0 {
			w.WriteHeader(a.status)
		}
		io.WriteString(w, strings.ReplaceAll(a.body, "{URL}", d.srv.URL+r.URL.Path))
	}))
	t.Cleanup(d.srv.Close)
	return d
}

func (d *docServer) set(path string, a docAnswer) string {
	d.mu.Lock()
	d.docs[path] = a
	d.mu.Unlock()
	return d.srv.URL + path
}

// mcpClientDoc is a document as an MCP client publishes it (the MCP
// specification's example), redirect URIs on loopback by IP and by name.
const mcpClientDoc = `{"client_id":"{URL}","client_name":"Example MCP Client","client_uri":"https://app.example.com",
 "redirect_uris":["http://127.0.0.1:3000/callback","http://localhost:3000/callback"],
 "grant_types":["authorization_code","refresh_token"],"response_types":["code"],"token_endpoint_auth_method":"none",
 "scope":"read admin","application_type":"native"}`

// cimdEnv is a Provider in development mode (issuer http on loopback) with
// client ID metadata documents on, its authorization endpoint and token
// endpoint served.
type cimdEnv struct {
	t   *testing.T
	p   *Provider
	st  *memory.Store
	clk *clock
	srv *httptest.Server
}

func newCIMDEnv(t *testing.T, mutate ...func(*Config)) *cimdEnv {
	t.Helper()
	clk := &clock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	st := memory.New(memory.WithClock(clk.Now), memory.WithPasswordParams(password.Params{Memory: 1024, Time: 1, Threads: 1}))
	if err := st.AddUser("1", "user1", "password1"); err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	e := &cimdEnv{t: t, st: st, clk: clk, srv: httptest.NewServer(mux)}
	t.Cleanup(e.srv.Close)
	cfg := Config{
		Issuer: e.srv.URL, Clients: st, Tokens: st, Users: st, Now: clk.Now,
		Logger:           slog.New(slog.DiscardHandler),
		ScopesSupported:  []string{"read", "write"},
		ClientIDMetadata: ClientIDMetadata{Enabled: true},
	}
	for _, m := range mutate {
		m(&cfg)
	}
	p, err := NewProvider(cfg)
	if err != nil {
		t.Fatal(err)
	}
	e.p = p
	az, err := p.AuthorizeHandler(AuthorizeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	p.Mount(mux, Pages{Authorize: az})
	return e
}

const cimdVerifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXkdBjftJeZ4CVP"

func cimdChallenge() string {
	s := sha256.Sum256([]byte(cimdVerifier))
	return base64.RawURLEncoding.EncodeToString(s[:])
}

// authURL is an authorization request of client id.
func (e *cimdEnv) authURL(id, redirect string) string {
	return e.srv.URL + "/oauth/authorize?" + url.Values{
		"client_id": {id}, "redirect_uri": {redirect}, "response_type": {"code"}, "state": {"st"},
		"code_challenge": {cimdChallenge()}, "code_challenge_method": {"S256"},
	}.Encode()
}

type cimdPage struct {
	status   int
	body     string
	location string
	url      string
}

var cimdInputRE = regexp.MustCompile(`<input type="hidden" name="([a-z_]+)" value="([^"]*)">`)

// browse runs the browser part for authURL: login, then consent, and
// returns the last page (a redirect to the client when all went well).
func (e *cimdEnv) browse(authURL string) (consent, last cimdPage) {
	e.t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, CheckRedirect: func(req *http.Request, _ []*http.Request) error {
		if !strings.HasPrefix(req.URL.String(), e.srv.URL) {
			return http.ErrUseLastResponse
		}
		return nil
	}}
	do := func(req *http.Request) cimdPage {
		res, err := c.Do(req)
		if err != nil {
			e.t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return cimdPage{status: res.StatusCode, body: string(b), location: res.Header.Get("Location"), url: res.Request.URL.String()}
	}
	post := func(pg cimdPage, extra url.Values) cimdPage {
		form := url.Values{}
		for _, m := range cimdInputRE.FindAllStringSubmatch(pg.body, -1) {
			form.Set(m[1], html.UnescapeString(m[2]))
		}
		for k, v := range extra {
			form[k] = v
		}
		req, _ := http.NewRequest(http.MethodPost, pg.url, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		return do(req)
	}
	req, _ := http.NewRequest(http.MethodGet, authURL, nil)
	pg := do(req)
	if !strings.Contains(pg.body, `name="password"`) {
		return pg, pg
	}
	consent = post(pg, url.Values{"username": {"user1"}, "password": {"password1"}})
	if !strings.Contains(consent.body, `value="allow"`) {
		return consent, consent
	}
	return consent, post(consent, url.Values{"consent": {"allow"}})
}

func (e *cimdEnv) tokenRequest(form url.Values) (int, map[string]any) {
	e.t.Helper()
	res, err := http.PostForm(e.srv.URL+"/oauth/token", form)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	var m map[string]any
	json.NewDecoder(res.Body).Decode(&m)
	return res.StatusCode, m
}

// TestCIMDAuthorizationCodeFlow: a client_id that is the URL of a client
// ID metadata document gets the document's registration: the consent page
// shows the document's host plainly, the code and tokens are the client's,
// its scopes are the document's narrowed to what the provider offers, a
// redirect URI the registration rules refuse (localhost by name) is left
// out, and the metadata says the provider supports documents.
func TestCIMDAuthorizationCodeFlow(t *testing.T) {
	e := newCIMDEnv(t)
	d := newDocServer(t)
	id := d.set("/oauth/client.json", docAnswer{body: mcpClientDoc})
	consent, last := e.browse(e.authURL(id, "http://127.0.0.1:3000/callback"))
	host := strings.TrimPrefix(d.srv.URL, "http://")
	if !strings.Contains(consent.body, "Example MCP Client") || !strings.Contains(consent.body, "<strong>"+host+"</strong>") {
		t.Fatalf("consent page does not show the client's host %s plainly: %.2000s", host, consent.body)
	}
	loc, _ := url.Parse(last.location)
	code := loc.Query().Get("code")
	if last.status != http.StatusSeeOther || code == "" {
		t.Fatalf("authorization: %d %s %.300s", last.status, last.location, last.body)
	}
	status, tok := e.tokenRequest(url.Values{"grant_type": {"authorization_code"}, "client_id": {id}, "code": {code},
		"code_verifier": {cimdVerifier}, "redirect_uri": {"http://127.0.0.1:3000/callback"}})
	if status != 200 || tok["scope"] != "read" || tok["refresh_token"] == nil {
		t.Fatalf("token: %d %v", status, tok)
	}
	v, err := e.p.ValidateToken(context.Background(), tok["access_token"].(string))
	if err != nil || v.ClientID != id {
		t.Fatalf("token's client %v, %v", v, err)
	}
	if hits := d.hits.Load(); hits != 1 {
		t.Errorf("document fetched %d times, want once (cached)", hits)
	}
	_, last = e.browse(e.authURL(id, "http://localhost:3000/callback"))
	if last.status != http.StatusBadRequest || last.location != "" {
		t.Errorf("redirect to the dropped localhost URI: %d %q", last.status, last.location)
	}
	var md map[string]any
	res, _ := http.Get(e.p.MetadataURL())
	json.NewDecoder(res.Body).Decode(&md)
	res.Body.Close()
	if md["client_id_metadata_document_supported"] != true {
		t.Errorf("metadata: %v", md)
	}
}

// TestCIMDDocumentRules: the document must be JSON served with 200, name
// itself as client_id exactly, and be a public client's (no secret, no
// shared-secret authentication); the client is then unknown, shown an
// error page and never redirected to.
func TestCIMDDocumentRules(t *testing.T) {
	e := newCIMDEnv(t)
	d := newDocServer(t)
	good := `{"client_id":"{URL}","client_name":"C","redirect_uris":["http://127.0.0.1:3000/cb"]}`
	for name, a := range map[string]docAnswer{
		"client_id of another URL":  {body: strings.Replace(good, "{URL}", "https://other.example/c.json", 1)},
		"client_id with a slash":    {body: strings.Replace(good, `"{URL}"`, `"{URL}/"`, 1)},
		"client_id missing":         {body: `{"client_name":"C","redirect_uris":["http://127.0.0.1:3000/cb"]}`},
		"client_secret":             {body: strings.Replace(good, `"C"`, `"C","client_secret":"s3cret"`, 1)},
		"client_secret_basic":       {body: strings.Replace(good, `"C"`, `"C","token_endpoint_auth_method":"client_secret_basic"`, 1)},
		"client_secret_post":        {body: strings.Replace(good, `"C"`, `"C","token_endpoint_auth_method":"client_secret_post"`, 1)},
		"private_key_jwt, no keys":  {body: strings.Replace(good, `"C"`, `"C","token_endpoint_auth_method":"private_key_jwt"`, 1)},
		"client_secret_jwt":         {body: strings.Replace(good, `"C"`, `"C","token_endpoint_auth_method":"client_secret_jwt"`, 1)},
		"not JSON":                  {body: `<html>`},
		"JSON array":                {body: `[]`},
		"text/html":                 {body: good, ctype: "text/html"},
		"status 404":                {body: good, status: 404},
		"status 500":                {body: good, status: 500},
		"no usable redirect URI":    {body: strings.Replace(good, "http://127.0.0.1:3000/cb", "http://localhost:3000/cb", 1)},
		"client_credentials only":   {body: strings.Replace(good, `"C"`, `"C","grant_types":["client_credentials"]`, 1)},
		"control characters":        {body: strings.Replace(good, `"C"`, `"C\u0000"`, 1)},
		"over 5 KiB":                {body: strings.Replace(good, `"C"`, `"`+strings.Repeat("C", 6000)+`"`, 1)},
		"redirect to a good client": {status: http.StatusFound, header: http.Header{"Location": {d.srv.URL + "/good"}}},
	} {
		path := "/bad/" + strings.ReplaceAll(name, " ", "-")
		id := d.set(path, a)
		_, pg := e.browse(e.authURL(id, "http://127.0.0.1:3000/cb"))
		if pg.status != http.StatusBadRequest || pg.location != "" || !strings.Contains(pg.body, "metadata document") {
			t.Errorf("%s: %d %q %.200s", name, pg.status, pg.location, pg.body)
		}
		if status, body := e.tokenRequest(url.Values{"grant_type": {"refresh_token"}, "client_id": {id}, "refresh_token": {"okrt_" + strings.Repeat("A", 43)}}); status != 401 || body["error"] != "invalid_client" {
			t.Errorf("%s at the token endpoint: %d %v", name, status, body)
		}
	}
	d.set("/good", docAnswer{body: good})
}

// TestCIMDURLRules: only https URLs with a path and without userinfo, fragment or dot
// segments name documents (http too in development, on a loopback IP
// literal); other client IDs are simply unknown, and nothing is fetched.
func TestCIMDURLRules(t *testing.T) {
	e := newCIMDEnv(t)
	d := newDocServer(t)
	d.set("/c.json", docAnswer{body: `{"client_id":"{URL}","redirect_uris":["http://127.0.0.1:3000/cb"]}`})
	base := d.srv.URL
	port := strings.TrimPrefix(base, "http://127.0.0.1:")
	for _, id := range []string{
		base, base + "/", base + "/./c.json", base + "/x/../c.json", base + "/%2e/c.json", base + "/c.json#x",
		"http://u:p@127.0.0.1:" + port + "/c.json", "http://localhost:" + port + "/c.json",
		base + "/c.json?" + strings.Repeat("x", 600), "ftp://127.0.0.1:" + port + "/c.json",
	} {
		_, pg := e.browse(e.authURL(id, "http://127.0.0.1:3000/cb"))
		if pg.status != http.StatusBadRequest || pg.location != "" {
			t.Errorf("%s: %d %q", id, pg.status, pg.location)
		}
	}
	if n := d.hits.Load(); n != 0 {
		t.Errorf("%d documents fetched for client IDs that name none", n)
	}
	if _, pg := e.browse(e.authURL(base+"/c.json", "http://127.0.0.1:3000/cb")); pg.status != http.StatusSeeOther || !strings.HasPrefix(pg.location, "http://127.0.0.1:3000/cb?code=") {
		t.Errorf("the document itself: %d %q %.300s", pg.status, pg.location, pg.body)
	}
}

// counter is a TCP listener that counts the connections it accepts.
type counter struct {
	ln net.Listener
	n  atomic.Int32
}

func newCounter(t *testing.T) *counter {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	c := &counter{ln: ln}
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			c.n.Add(1)
			conn.Close()
		}
	}()
	t.Cleanup(func() { ln.Close() })
	return c
}

type mapResolver map[string][]string

func (m mapResolver) LookupNetIP(_ context.Context, _, host string) ([]netip.Addr, error) {
	var out []netip.Addr
	for _, s := range m[host] {
		out = append(out, netip.MustParseAddr(s))
	}
	if out == nil {
		return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
	}
	return out, nil
}

// TestCIMDProductionSSRF: with an https issuer, client ID URLs that are
// http, on loopback (by IP or by name), private, link-local or
// IPv4-mapped are refused, and no connection reaches the address; so is a
// redirect to one.
func TestCIMDProductionSSRF(t *testing.T) {
	c := newCounter(t)
	port := fmt.Sprint(c.ln.Addr().(*net.TCPAddr).Port)
	var dialed []string
	var mu sync.Mutex
	e := newCIMDEnv(t, func(cfg *Config) {
		cfg.Issuer = "https://as.example.com"
		cfg.ClientIDMetadata.resolver = mapResolver{
			"loop.example": {"127.0.0.1"}, "private.example": {"10.1.2.3"}, "meta.example": {"169.254.169.254"},
			"mapped.example": {"::ffff:127.0.0.1"}, "six.example": {"::1"}, "mixed.example": {"93.184.216.34", "127.0.0.1"},
		}
		cfg.ClientIDMetadata.dial = func(ctx context.Context, network, addr string) (net.Conn, error) {
			mu.Lock()
			dialed = append(dialed, addr)
			mu.Unlock()
			return nil, errors.New("no route")
		}
	})
	for _, id := range []string{
		"http://127.0.0.1:" + port + "/c.json", "https://127.0.0.1:" + port + "/c.json", "https://[::1]:" + port + "/c.json",
		"https://loop.example:" + port + "/c.json", "https://private.example/c.json", "https://meta.example/latest/meta-data",
		"https://mapped.example:" + port + "/c.json", "https://six.example:" + port + "/c.json", "https://mixed.example:" + port + "/c.json",
		"https://[::ffff:127.0.0.1]:" + port + "/c.json", "https://[::ffff:a01:203]/c.json",
	} {
		status, body := e.tokenRequest(url.Values{"grant_type": {"refresh_token"}, "client_id": {id}, "refresh_token": {"okrt_" + strings.Repeat("A", 43)}})
		if status != 401 || body["error"] != "invalid_client" {
			t.Errorf("%s: %d %v", id, status, body)
		}
	}
	time.Sleep(10 * time.Millisecond)
	if n := c.n.Load(); n != 0 {
		t.Errorf("%d connections reached loopback", n)
	}
	if len(dialed) != 0 {
		t.Errorf("dialed %v", dialed)
	}
}

// TestCIMDCache: a document is used for its HTTP cache lifetime, within
// MinCache and MaxCache; a document that failed is not kept, so that the
// client works as soon as it is fixed.
func TestCIMDCache(t *testing.T) {
	e := newCIMDEnv(t, func(c *Config) { c.ClientIDMetadata.MinCache, c.ClientIDMetadata.MaxCache = time.Minute, time.Hour })
	d := newDocServer(t)
	doc := `{"client_id":"{URL}","redirect_uris":["http://127.0.0.1:3000/cb"]}`
	use := func(id string) int {
		status, _ := e.tokenRequest(url.Values{"grant_type": {"refresh_token"}, "client_id": {id}, "refresh_token": {"okrt_" + strings.Repeat("A", 43)}})
		return status // 400 invalid_grant: the client is known; 401: it is not
	}
	for _, c := range []struct {
		name   string
		header http.Header
		fresh  time.Duration // still cached after this long
		stale  time.Duration // fetched again after this long
	}{
		{"max-age", http.Header{"Cache-Control": {"max-age=600"}}, 9 * time.Minute, 11 * time.Minute},
		{"no-store: MinCache", http.Header{"Cache-Control": {"no-store"}}, 50 * time.Second, 61 * time.Second},
		{"no header: MinCache", nil, 50 * time.Second, 61 * time.Second},
		{"a year: MaxCache", http.Header{"Cache-Control": {"max-age=31536000"}}, 59 * time.Minute, 61 * time.Minute},
	} {
		id := d.set("/"+strings.ReplaceAll(c.name, " ", "-"), docAnswer{body: doc, header: c.header})
		before := d.hits.Load()
		if use(id) != 400 {
			t.Fatalf("%s: client unknown", c.name)
		}
		e.clk.Advance(c.fresh)
		use(id)
		if n := d.hits.Load() - before; n != 1 {
			t.Errorf("%s: %d fetches within the lifetime", c.name, n)
		}
		e.clk.Advance(c.stale - c.fresh)
		use(id)
		if n := d.hits.Load() - before; n != 2 {
			t.Errorf("%s: %d fetches after the lifetime, want 2", c.name, n)
		}
	}
	id := d.set("/broken", docAnswer{body: `{`, header: http.Header{"Cache-Control": {"max-age=600"}}})
	if use(id) != 401 {
		t.Fatal("broken document accepted")
	}
	d.set("/broken", docAnswer{body: doc})
	if use(id) != 400 {
		t.Error("a fixed document is refused: the failure was cached")
	}
}

// TestCIMDStoreFirst: a client registered in the store under an https ID
// is used as registered; nothing is fetched. With documents off, a URL
// client_id is simply unknown.
func TestCIMDStoreFirst(t *testing.T) {
	e := newCIMDEnv(t)
	d := newDocServer(t)
	id := d.set("/c.json", docAnswer{body: `{"client_id":"{URL}","redirect_uris":["http://127.0.0.1:3000/cb"]}`})
	if err := e.st.CreateClient(context.Background(), &store.Client{ID: id, AuthMethod: store.AuthNone, Name: "Registered",
		RedirectURIs: []string{"http://127.0.0.1:4000/cb"}, GrantTypes: []string{store.GrantAuthorizationCode}}); err != nil {
		t.Fatal(err)
	}
	if _, pg := e.browse(e.authURL(id, "http://127.0.0.1:4000/cb")); pg.status != http.StatusSeeOther || !strings.HasPrefix(pg.location, "http://127.0.0.1:4000/cb?code=") {
		t.Errorf("registered URL client: %d %q", pg.status, pg.location)
	}
	if d.hits.Load() != 0 {
		t.Error("fetched a registered client's URL")
	}
	off := newCIMDEnv(t, func(c *Config) { c.ClientIDMetadata.Enabled = false })
	other := d.set("/other.json", docAnswer{body: `{"client_id":"{URL}","redirect_uris":["http://127.0.0.1:3000/cb"]}`})
	if _, pg := off.browse(off.authURL(other, "http://127.0.0.1:3000/cb")); pg.status != 400 || d.hits.Load() != 0 {
		t.Errorf("documents off: %d, %d fetches", pg.status, d.hits.Load())
	}
}

// FuzzClientMetadataDocument: whatever a document holds, parsing it never
// panics, and what it accepts is a valid public client named by the URL.
func FuzzClientMetadataDocument(f *testing.F) {
	const u = "https://app.example.com/oauth/client.json"
	f.Add(strings.ReplaceAll(mcpClientDoc, "{URL}", u))
	f.Add(`{"client_id":"` + u + `","redirect_uris":["myapp.example:/cb"],"scope":"read write x"}`)
	f.Add(`{"client_id":"` + u + `","client_secret":"x"}`)
	f.Add(`{"client_id":"` + u + `","redirect_uris":[1]}`)
	f.Add(`{"client_id":"` + u + `","jwks":{"keys":[{}]},"jwks_uri":"https://x"}`)
	f.Add(`[`)
	rules := cimdRules([]string{store.GrantAuthorizationCode, store.GrantRefreshToken}, []string{"read", "write"})
	f.Fuzz(func(t *testing.T, body string) {
		c, e := parseDocument(u, []byte(body), rules)
		if e != nil {
			if e.Status != 400 || e.Code == "" {
				t.Fatalf("refusal %+v", e)
			}
			return
		}
		if c.ID != u || !c.SecretHash.IsZero() || c.AuthMethod != store.AuthNone && c.AuthMethod != store.AuthPrivateKeyJWT ||
			c.FirstParty || len(c.GrantTypes) == 0 || c.AllowsGrant(store.GrantAuthorizationCode) && len(c.RedirectURIs) == 0 {
			t.Fatalf("accepted %+v", c)
		}
		if err := c.Validate(); err != nil {
			t.Fatalf("accepted an invalid client: %v", err)
		}
		for _, s := range c.Scopes {
			if s != "read" && s != "write" {
				t.Fatalf("scope %q not offered", s)
			}
		}
	})
}

// TestCIMDPrivateKeyJWT: a document may make its client confidential with
// private_key_jwt and its public keys: the client then authenticates with
// assertions signed by its key, never without one.
func TestCIMDPrivateKeyJWT(t *testing.T) {
	e := newCIMDEnv(t, func(c *Config) {
		c.ClientIDMetadata.GrantTypes = []string{store.GrantClientCredentials}
	})
	d := newDocServer(t)
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	set, _ := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: priv.Public(), KeyID: "k1", Use: "sig"}}})
	id := d.set("/agent.json", docAnswer{body: `{"client_id":"{URL}","client_name":"Agent","token_endpoint_auth_method":"private_key_jwt",
		"grant_types":["client_credentials"],"scope":"read","jwks":` + string(set) + `}`})
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.EdDSA, Key: priv}, (&jose.SignerOptions{}).WithHeader("kid", "k1"))
	if err != nil {
		t.Fatal(err)
	}
	now := e.clk.Now()
	claims, _ := json.Marshal(map[string]any{"iss": id, "sub": id, "aud": e.p.Issuer(), "iat": now.Unix(), "exp": now.Add(time.Minute).Unix(), "jti": "j-1"})
	obj, err := signer.Sign(claims)
	if err != nil {
		t.Fatal(err)
	}
	assertion, _ := obj.CompactSerialize()
	status, body := e.tokenRequest(url.Values{"grant_type": {"client_credentials"}, "client_assertion": {assertion},
		"client_assertion_type": {AssertionTypeJWTBearer}})
	if status != 200 || body["scope"] != "read" {
		t.Fatalf("client_credentials with the document's key: %d %v", status, body)
	}
	if status, body := e.tokenRequest(url.Values{"grant_type": {"client_credentials"}, "client_id": {id}}); status != 401 || body["error"] != "invalid_client" {
		t.Errorf("without an assertion: %d %v", status, body)
	}
}
