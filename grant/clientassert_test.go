package grant_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/oauthkit/oauthkit/grant"
	"github.com/oauthkit/oauthkit/store"
	"github.com/oauthkit/oauthkit/store/memory"
)

// TestPrivateKeyJWT: a client registered for private_key_jwt gets a
// client_credentials token with an assertion signed by a go-jose client,
// with each supported algorithm, with or without client_id and kid, and
// the token works at /api/data.
func TestPrivateKeyJWT(t *testing.T) {
	var clients []*keyClient
	var regs []*store.Client
	for _, alg := range []jose.SignatureAlgorithm{jose.EdDSA, jose.ES256, jose.RS256, jose.PS256} {
		k := newKeyClient(t, "kc-"+string(alg), alg, "k1")
		clients, regs = append(clients, k), append(regs, k.registration(t))
	}
	nokid := newKeyClient(t, "kc-nokid", jose.ES256, "")
	clients, regs = append(clients, nokid), append(regs, nokid.registration(t))
	e := newEPServer(t, withClients(t, regs...))
	for _, k := range clients {
		for _, id := range []string{"", k.id} {
			r := e.assertionToken(k.assertion(e, nil), url.Values{"client_id": {id}, "scope": {"read"}})
			if r.status != 200 {
				t.Fatalf("%s (client_id %q): %d %v", k.id, id, r.status, r.body)
			}
			if s := e.api(r.body["access_token"].(string)); s != 200 {
				t.Fatalf("%s: /api/data with the token: %d", k.id, s)
			}
		}
	}
	if ev := lastEvent(e, grant.EventIssued); ev.ClientID != nokid.id {
		t.Errorf("issued event: %+v", ev)
	}
}

// noThrottle lifts the throttle, for tests that fail many times on purpose.
func noThrottle(c *grant.Config) {
	c.Throttle.PerAccount = store.Limit{Burst: 1000, Every: time.Millisecond}
	c.Throttle.PerAddress = store.Limit{Burst: 1000, Every: time.Millisecond}
}

func lastEvent(e *epServer, kind grant.EventKind) grant.Event {
	var last grant.Event
	for {
		select {
		case ev := <-e.events:
			if ev.Kind == kind {
				last = ev
			}
		default:
			return last
		}
	}
}

// TestPrivateKeyJWTAudience: aud is the issuer identifier (draft-ietf-
// oauth-rfc7523bis), alone; for compatibility an assertion that is not
// explicitly typed may name the token endpoint URL instead, and hold its
// one value in an array, unless ClientAuth.IssuerAudienceOnly.
func TestPrivateKeyJWTAudience(t *testing.T) {
	k := newKeyClient(t, "kc", jose.ES256, "k1")
	for _, strict := range []bool{false, true} {
		e := newEPServer(t, withClients(t, k.registration(t)), func(c *grant.Config) { c.ClientAuth.IssuerAudienceOnly = strict }, noThrottle)
		iss, tokenURL := e.p.Issuer(), e.srv.URL+e.p.Endpoints().Token
		typed := map[jose.HeaderKey]any{"typ": "client-authentication+jwt"}
		for _, c := range []struct {
			name   string
			aud    any
			header map[jose.HeaderKey]any
			ok     bool // when not strict; strict accepts the issuer string alone
		}{
			{"issuer", iss, nil, true},
			{"issuer, typ JWT", iss, map[jose.HeaderKey]any{"typ": "JWT"}, true},
			{"issuer, explicitly typed", iss, typed, true},
			{"issuer, explicitly typed, media type form", iss, map[jose.HeaderKey]any{"typ": "application/client-authentication+jwt"}, true},
			{"token endpoint", tokenURL, nil, true},
			{"[issuer]", []string{iss}, nil, true},
			{"[token endpoint]", []string{tokenURL}, nil, true},
			{"token endpoint, explicitly typed", tokenURL, typed, false},
			{"[issuer], explicitly typed", []string{iss}, typed, false},
			{"[issuer, other]", []string{iss, "https://other.example"}, nil, false},
			{"[other, issuer]", []string{"https://other.example", iss}, nil, false},
			{"[issuer, token endpoint]", []string{iss, tokenURL}, nil, false},
			{"[]", []string{}, nil, false},
			{"other server", "https://other.example", nil, false},
			{"issuer with a slash", iss + "/", nil, false},
			{"issuer in upper case", strings.ToUpper(iss), nil, false},
			{"revocation endpoint", e.srv.URL + e.p.Endpoints().Revocation, nil, false},
			{"number", 1, nil, false},
			{"missing", nil, nil, false},
		} {
			claims := k.claims(iss, e.clock.Now())
			claims["aud"] = c.aud
			if c.aud == nil {
				delete(claims, "aud")
			}
			want := c.ok && (!strict || c.name == "issuer" || strings.HasPrefix(c.name, "issuer,"))
			r := e.assertionToken(k.sign(t, claims, c.header), nil)
			switch {
			case want && r.status != 200:
				t.Errorf("strict=%v %s: %d %v, want a token", strict, c.name, r.status, r.body)
			case !want:
				wantInvalidClient(t, c.name, r)
			}
		}
	}
}

// TestPrivateKeyJWTRefused: every check of RFC 7523 §3 and RFC 7521 §4.2,
// each failing on its own: each case breaks one thing in an otherwise
// good assertion or request, and gets 401 invalid_client (400
// invalid_request for a malformed request). The good request in the middle
// shows the rest passes.
func TestPrivateKeyJWTRefused(t *testing.T) {
	k := newKeyClient(t, "kc", jose.ES256, "k1")
	other := newKeyClient(t, "other-kc", jose.ES256, "k1")    // another private_key_jwt client
	attacker := newKeyClient(t, "kc", jose.ES256, "k1")       // not the client's key, same kid
	ed := newKeyClient(t, "kc-es-only", jose.EdDSA, "ed")     // a key the ES256-only client also lists
	esOnly := newKeyClient(t, "kc-es-only", jose.ES256, "es") // registered with ES256 as its alg
	esReg := esOnly.registration(t, esOnly, ed)               //
	esReg.TokenEndpointAuthSigningAlg = "ES256"               //
	secretClient := &store.Client{ID: "secret-kc", AuthMethod: store.AuthSecretBasic, SecretHash: store.HashSecret("s3cret-s3cret-s3cret-s3cret-s3cret"),
		JWKS: jwks(t, k), GrantTypes: []string{store.GrantClientCredentials}} // has keys, registered for secrets
	e := newEPServer(t, withClients(t, k.registration(t), other.registration(t), esReg, secretClient), noThrottle)
	now := e.clock.Now()
	a := func(edit map[string]any) string { return k.assertion(e, edit) }
	good := a(nil)
	sigFlip := func(raw string) string { // the last signature byte changed, still canonical
		b, _ := base64.RawURLEncoding.DecodeString(raw[strings.LastIndexByte(raw, '.')+1:])
		b[len(b)-1] ^= 1
		return raw[:strings.LastIndexByte(raw, '.')+1] + base64.RawURLEncoding.EncodeToString(b)
	}
	unsigned := func(header string, claims map[string]any) string {
		c, _ := json.Marshal(claims)
		return base64.RawURLEncoding.EncodeToString([]byte(header)) + "." + base64.RawURLEncoding.EncodeToString(c) + "."
	}
	hs256 := func(secret []byte) string { // the HMAC "key confusion" forgery
		c, _ := json.Marshal(k.claims(e.p.Issuer(), now))
		input := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"HS256","kid":"k1"}`)) + "." + base64.RawURLEncoding.EncodeToString(c)
		m := hmac.New(sha256.New, secret)
		m.Write([]byte(input))
		return input + "." + base64.RawURLEncoding.EncodeToString(m.Sum(nil))
	}
	pub, _ := json.Marshal(k.jwk())

	cases := []struct {
		name      string
		assertion string
		extra     url.Values
		edit      func(*http.Request)
		status    int
	}{
		// RFC 7523 §3 item 1 and 2: iss and sub are the client_id.
		{name: "iss missing", assertion: a(map[string]any{"iss": nil})},
		{name: "sub missing", assertion: a(map[string]any{"sub": nil})},
		{name: "sub another client", assertion: a(map[string]any{"sub": other.id})},
		{name: "iss another client", assertion: a(map[string]any{"iss": other.id, "sub": other.id})},
		{name: "iss not a string", assertion: a(map[string]any{"iss": 7})},
		{name: "client_id another client", assertion: good, extra: url.Values{"client_id": {other.id}}},
		{name: "client_id malformed", assertion: good, extra: url.Values{"client_id": {"kc\x01"}}},
		// item 3: aud (more in TestPrivateKeyJWTAudience).
		{name: "aud missing", assertion: a(map[string]any{"aud": nil})},
		{name: "aud another server", assertion: a(map[string]any{"aud": "https://other.example"})},
		{name: "aud two values", assertion: a(map[string]any{"aud": []string{e.p.Issuer(), "https://other.example"}})},
		// item 4: exp, required, not past, not far ahead.
		{name: "exp missing", assertion: a(map[string]any{"exp": nil})},
		{name: "exp past", assertion: a(map[string]any{"exp": now.Add(-time.Minute).Unix(), "iat": now.Add(-2 * time.Minute).Unix()})},
		{name: "exp too far ahead", assertion: a(map[string]any{"exp": now.Add(10 * time.Minute).Unix()})},
		{name: "exp a day ahead", assertion: a(map[string]any{"exp": now.Add(24 * time.Hour).Unix(), "iat": nil})},
		{name: "exp not a number", assertion: a(map[string]any{"exp": "soon"})},
		// item 5: nbf.
		{name: "nbf future", assertion: a(map[string]any{"nbf": now.Add(2 * time.Minute).Unix(), "exp": now.Add(3 * time.Minute).Unix()})},
		// item 6: iat.
		{name: "iat future", assertion: a(map[string]any{"iat": now.Add(2 * time.Minute).Unix(), "exp": now.Add(3 * time.Minute).Unix()})},
		{name: "iat long past", assertion: a(map[string]any{"iat": now.Add(-10 * time.Minute).Unix()})},
		// item 7: jti.
		{name: "jti missing", assertion: a(map[string]any{"jti": nil})},
		{name: "jti too long", assertion: a(map[string]any{"jti": strings.Repeat("j", 300)})},
		// item 9: the signature, by the client's key, with an allowed algorithm.
		{name: "another key, same kid", assertion: attacker.sign(t, k.claims(e.p.Issuer(), now), nil)},
		{name: "signature altered", assertion: sigFlip(good)},
		{name: "embedded jwk", assertion: attacker.sign(t, k.claims(e.p.Issuer(), now), map[jose.HeaderKey]any{"jwk": attacker.jwk()})},
		{name: "jku", assertion: attacker.sign(t, k.claims(e.p.Issuer(), now), map[jose.HeaderKey]any{"jku": e.srv.URL + "/keys"})},
		{name: "alg none", assertion: unsigned(`{"alg":"none","kid":"k1"}`, k.claims(e.p.Issuer(), now))},
		{name: "alg HS256 with the public key as secret", assertion: hs256(pub)},
		{name: "kid unknown", assertion: (&keyClient{id: k.id, alg: k.alg, key: k.key, kid: "k2"}).sign(t, k.claims(e.p.Issuer(), now), nil)},
		{name: "alg other than the registered one", assertion: ed.sign(t, ed.claims(e.p.Issuer(), now), nil)},
		// RFC 8725: no crit, typ of no other kind of JWT.
		{name: "crit", assertion: k.sign(t, k.claims(e.p.Issuer(), now), map[jose.HeaderKey]any{"crit": []string{"exp"}, "exp": 1})},
		{name: "typ at+jwt", assertion: k.sign(t, k.claims(e.p.Issuer(), now), map[jose.HeaderKey]any{"typ": "at+jwt"})},
		{name: "typ dpop+jwt", assertion: k.sign(t, k.claims(e.p.Issuer(), now), map[jose.HeaderKey]any{"typ": "dpop+jwt"})},
		{name: "not a JWS", assertion: "a.b.c"},
		{name: "padded", assertion: good + "="},
		// Clients: registered for private_key_jwt, known.
		{name: "client registered for secrets", assertion: (&keyClient{id: secretClient.ID, alg: k.alg, key: k.key, kid: "k1"}).assertion(e, nil)},
		{name: "unknown client", assertion: (&keyClient{id: "nobody", alg: k.alg, key: k.key, kid: "k1"}).assertion(e, nil)},
		// RFC 7521 §4.2: both parameters, the jwt-bearer type, one method.
		{name: "client_assertion_type other", assertion: good, extra: url.Values{"client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:saml2-bearer"}}},
		{name: "client_assertion_type missing", assertion: good, extra: url.Values{"client_assertion_type": {""}}, status: 400},
		{name: "client_assertion missing", assertion: "", status: 400},
		{name: "with client_secret", assertion: good, extra: url.Values{"client_id": {k.id}, "client_secret": {"x"}}, status: 400},
		{name: "with Basic", assertion: good, edit: func(r *http.Request) { r.SetBasicAuth(k.id, "x") }, status: 400},
	}
	for i, c := range cases {
		if i == len(cases)/2 {
			// a good assertion, in the middle of the refusals
			if r := e.assertionToken(a(nil), nil); r.status != 200 {
				t.Fatalf("a good assertion after %d refusals: %d %v", i, r.status, r.body)
			}
		}
		r := e.postForm(e.p.Endpoints().Token, assertionForm(c.assertion, c.extra), c.edit)
		switch c.status {
		case 0:
			wantInvalidClient(t, c.name, r)
		default:
			if r.status != c.status || r.body["error"] != grant.CodeInvalidRequest {
				t.Errorf("%s: %d %v, want %d invalid_request", c.name, r.status, r.body, c.status)
			}
		}
		if d, _ := r.body["error_description"].(string); strings.Contains(d, "kid") || strings.Contains(d, "key") {
			t.Errorf("%s: the description tells about keys: %q", c.name, d)
		}
	}
	// A secret never authenticates a private_key_jwt client.
	r := e.postForm(e.p.Endpoints().Token, url.Values{"grant_type": {"client_credentials"}}, func(r *http.Request) { r.SetBasicAuth(k.id, "") })
	wantInvalidClient(t, "private_key_jwt client with Basic and no secret", r)
}

// TestPrivateKeyJWTReplay: an assertion is used once (RFC 7523 §3 item
// 7): sent again, or signed again with the same jti, it is refused, at
// the token endpoint and at the others alike; a new jti passes.
func TestPrivateKeyJWTReplay(t *testing.T) {
	k := newKeyClient(t, "kc", jose.EdDSA, "k1")
	e := newEPServer(t, withClients(t, k.registration(t)))
	claims := k.claims(e.p.Issuer(), e.clock.Now())
	first := k.sign(t, claims, nil)
	if r := e.assertionToken(first, nil); r.status != 200 {
		t.Fatalf("first use: %d %v", r.status, r.body)
	}
	wantInvalidClient(t, "the same assertion again", e.assertionToken(first, nil))
	claims["iat"] = e.clock.Now().Unix() + 1 // another signature, the same jti
	resigned := k.sign(t, claims, nil)
	wantInvalidClient(t, "the same jti signed again", e.assertionToken(resigned, nil))
	r := e.postForm(e.p.Endpoints().Introspection, url.Values{"token": {"x"}, "client_assertion_type": {grant.AssertionTypeJWTBearer}, "client_assertion": {first}}, nil)
	wantInvalidClient(t, "the same assertion at introspection", r)
	if r := e.assertionToken(k.assertion(e, nil), nil); r.status != 200 {
		t.Fatalf("a new jti: %d %v", r.status, r.body)
	}
	if d, _ := e.assertionToken(first, nil).body["error_description"].(string); !strings.Contains(d, "jti") {
		t.Errorf("the replay's description: %q", d)
	}
}

// TestPrivateKeyJWTThrottled: failed assertions are throttled as wrong
// secrets are: per client and address, then the client's good assertions
// from that address wait too, while another address is not held back; a
// good assertion is never counted.
func TestPrivateKeyJWTThrottled(t *testing.T) {
	k := newKeyClient(t, "kc", jose.EdDSA, "k1")
	attacker := newKeyClient(t, "kc", jose.EdDSA, "k1")
	e := newEPServer(t, withClients(t, k.registration(t)), func(c *grant.Config) {
		c.ClientAddr = func(r *http.Request) string { return r.Header.Get("X-Test-Addr") }
	})
	from := func(addr string) func(*http.Request) {
		return func(r *http.Request) { r.Header.Set("X-Test-Addr", addr) }
	}
	token := func(assertion, addr string) epResponse {
		return e.postForm(e.p.Endpoints().Token, assertionForm(assertion, nil), from(addr))
	}
	for i := range 10 { // good ones take nothing
		if r := token(k.assertion(e, nil), "203.0.113.5"); r.status != 200 {
			t.Fatalf("good assertion %d: %d %v", i, r.status, r.body)
		}
	}
	limited := false
	for range 8 {
		r := token(attacker.assertion(e, map[string]any{"iss": k.id, "sub": k.id}), "203.0.113.5")
		if r.status == http.StatusTooManyRequests {
			limited = true
			break
		}
		wantInvalidClient(t, "forged assertion", r)
	}
	if !limited {
		t.Fatal("forged assertions were never throttled")
	}
	if r := token(k.assertion(e, nil), "203.0.113.5"); r.status != http.StatusTooManyRequests || r.body["error"] != "slow_down" {
		t.Errorf("the client from the attacked address during the wait: %d %v", r.status, r.body)
	}
	if r := token(k.assertion(e, nil), "198.51.100.9"); r.status != 200 {
		t.Errorf("the client from another address: %d %v", r.status, r.body)
	}
	e.clock.Advance(2 * time.Minute)
	if r := token(k.assertion(e, nil), "203.0.113.5"); r.status != 200 {
		t.Errorf("after the wait: %d %v", r.status, r.body)
	}
}

// TestPrivateKeyJWTEndpoints: the client authenticates with assertions at
// the revocation and introspection endpoints too (RFC 7009 §2.1, RFC 7662
// §2.1), each assertion used once.
func TestPrivateKeyJWTEndpoints(t *testing.T) {
	k := newKeyClient(t, "kc", jose.ES256, "k1")
	e := newEPServer(t, withClients(t, k.registration(t)))
	r := e.assertionToken(k.assertion(e, nil), url.Values{"scope": {"read"}})
	if r.status != 200 {
		t.Fatalf("token: %d %v", r.status, r.body)
	}
	at := r.body["access_token"].(string)
	with := func(form url.Values) url.Values {
		form.Set("client_assertion_type", grant.AssertionTypeJWTBearer)
		form.Set("client_assertion", k.assertion(e, nil))
		return form
	}
	in := e.postForm(e.p.Endpoints().Introspection, with(url.Values{"token": {at}}), nil)
	if in.status != 200 || in.body["active"] != true || in.body["client_id"] != k.id {
		t.Fatalf("introspection: %d %v", in.status, in.body)
	}
	if rv := e.postForm(e.p.Endpoints().Revocation, with(url.Values{"token": {at}}), nil); rv.status != 200 {
		t.Fatalf("revocation: %d %v", rv.status, rv.body)
	}
	if s := e.api(at); s != 401 {
		t.Errorf("the revoked token: %d", s)
	}
	in = e.postForm(e.p.Endpoints().Introspection, with(url.Values{"token": {at}}), nil)
	if in.status != 200 || in.body["active"] != false {
		t.Errorf("introspection after revocation: %d %v", in.status, in.body)
	}
}

// keysServer serves a JWK set that the test changes, counting fetches.
type keysServer struct {
	*httptest.Server
	mu          sync.Mutex
	set         []byte
	down        bool
	hits        atomic.Int64 // requests
	connections atomic.Int64
}

func newKeysServer(t *testing.T, tlsServer bool, set []byte) *keysServer {
	ks := &keysServer{set: set}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ks.hits.Add(1)
		ks.mu.Lock()
		defer ks.mu.Unlock()
		if ks.down {
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Content-Type", "application/jwk-set+json")
		w.Write(ks.set)
	})
	ks.Server = httptest.NewUnstartedServer(h)
	ks.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			ks.connections.Add(1)
		}
	}
	if tlsServer {
		ks.StartTLS()
	} else {
		ks.Start()
	}
	t.Cleanup(ks.Close)
	return ks
}

func (ks *keysServer) serve(set []byte, down bool) {
	ks.mu.Lock()
	ks.set, ks.down = set, down
	ks.mu.Unlock()
}

// TestPrivateKeyJWTKeysURI: keys from the client's jwks_uri are fetched
// once and cached; an unknown kid fetches again, at most once per 30
// seconds whatever the kids sent; concurrent requests share one fetch; a
// set older than 5 minutes is not used when it cannot be fetched again
// (and that failure, the server's, is not throttled); a key the client
// withdrew stops working.
func TestPrivateKeyJWTKeysURI(t *testing.T) {
	k1 := newKeyClient(t, "kc", jose.ES256, "k1")
	k2 := newKeyClient(t, "kc", jose.EdDSA, "k2")
	keys := newKeysServer(t, false, jwks(t, k1))
	e := newEPServer(t, withClients(t, &store.Client{
		ID: "kc", AuthMethod: store.AuthPrivateKeyJWT, JWKSURI: keys.URL + "/jwks.json",
		GrantTypes: []string{store.GrantClientCredentials}, Scopes: []string{"read"},
	}), noThrottle)
	ok := func(name string, k *keyClient) {
		t.Helper()
		if r := e.assertionToken(k.assertion(e, nil), nil); r.status != 200 {
			t.Fatalf("%s: %d %v", name, r.status, r.body)
		}
	}
	hits := func(want int64) {
		t.Helper()
		if n := keys.hits.Load(); n != want {
			t.Fatalf("%d fetches of the jwks_uri, want %d", n, want)
		}
	}
	for range 5 {
		ok("k1", k1)
	}
	hits(1)

	keys.serve(jwks(t, k2), false) // the client rotates to k2
	wantInvalidClient(t, "k2 within 30 s of the last fetch", e.assertionToken(k2.assertion(e, nil), nil))
	for i := range 20 {
		forged := &keyClient{id: "kc", alg: k1.alg, key: k1.key, kid: "forged-" + strconv.Itoa(i)}
		wantInvalidClient(t, "a forged kid", e.assertionToken(forged.assertion(e, nil), nil))
	}
	hits(1)
	e.clock.Advance(31 * time.Second)
	ok("k2 after 30 s", k2)
	hits(2)
	wantInvalidClient(t, "the withdrawn k1", e.assertionToken(k1.assertion(e, nil), nil))
	hits(2)

	// Stale and unreachable: refused.
	e.clock.Advance(6 * time.Minute)
	keys.serve(jwks(t, k2), true)
	wantInvalidClient(t, "a stale set that cannot be fetched", e.assertionToken(k2.assertion(e, nil), nil))
	keys.serve(jwks(t, k2), false)
	wantInvalidClient(t, "within the backoff after a failed fetch", e.assertionToken(k2.assertion(e, nil), nil))
	hits(3)
	e.clock.Advance(time.Second)
	// Concurrent requests share one fetch.
	before := keys.hits.Load()
	var wg sync.WaitGroup
	var failed atomic.Int64
	assertions := make([]string, 16)
	for i := range assertions {
		assertions[i] = k2.assertion(e, nil)
	}
	for _, a := range assertions {
		wg.Go(func() {
			if r := e.assertionToken(a, nil); r.status != 200 {
				failed.Add(1)
			}
		})
	}
	wg.Wait()
	if failed.Load() != 0 {
		t.Fatalf("%d of 16 concurrent requests failed", failed.Load())
	}
	hits(before + 1)
}

// TestPrivateKeyJWTKeysDownNotThrottled: when the client's jwks_uri cannot
// be fetched, its assertions are refused, but the failures are the
// server's, not guesses: they are not charged, and the client is not held
// back once its keys are reachable again.
func TestPrivateKeyJWTKeysDownNotThrottled(t *testing.T) {
	k := newKeyClient(t, "kc", jose.ES256, "k1")
	keys := newKeysServer(t, false, jwks(t, k))
	keys.serve(jwks(t, k), true)
	e := newEPServer(t, withClients(t, &store.Client{
		ID: "kc", AuthMethod: store.AuthPrivateKeyJWT, JWKSURI: keys.URL + "/jwks.json",
		GrantTypes: []string{store.GrantClientCredentials},
	}))
	for i := range 10 {
		wantInvalidClient(t, "keys unreachable "+strconv.Itoa(i), e.assertionToken(k.assertion(e, nil), nil))
		e.clock.Advance(31 * time.Second) // past the fetch backoff, within the throttle's minute
	}
	keys.serve(jwks(t, k), false)
	if r := e.assertionToken(k.assertion(e, nil), nil); r.status != 200 {
		t.Fatalf("once the keys are back: %d %v", r.status, r.body)
	}
}

// TestPrivateKeyJWTKeysURIGuarded: outside development (an https issuer),
// a jwks_uri on a loopback or private address is never fetched, whether
// the URL names it by IP literal or by a name that resolves to it.
func TestPrivateKeyJWTKeysURIGuarded(t *testing.T) {
	k := newKeyClient(t, "kc", jose.ES256, "k1")
	keys := newKeysServer(t, true, jwks(t, k))
	plain := newKeysServer(t, false, jwks(t, k))
	port := keys.URL[strings.LastIndexByte(keys.URL, ':')+1:]
	var regs []*store.Client
	for i, uri := range []string{keys.URL + "/jwks", "https://localhost:" + port + "/jwks", plain.URL + "/jwks"} {
		regs = append(regs, &store.Client{
			ID: "kc" + strconv.Itoa(i), AuthMethod: store.AuthPrivateKeyJWT, JWKSURI: uri,
			GrantTypes: []string{store.GrantClientCredentials},
		})
	}
	e := newEPServer(t, withClients(t, regs...), func(c *grant.Config) { c.Issuer = "https://as.example.com" })
	for _, reg := range regs {
		kc := &keyClient{id: reg.ID, alg: k.alg, key: k.key, kid: k.kid}
		wantInvalidClient(t, reg.JWKSURI, e.assertionToken(kc.assertion(e, nil), nil))
	}
	if n := keys.connections.Load() + plain.connections.Load(); n != 0 {
		t.Fatalf("the loopback key servers were connected to %d times", n)
	}
}

// TestPrivateKeyJWTRegistrationChange: inline keys are parsed once per
// registration, and a new registration's keys replace the old at once.
func TestPrivateKeyJWTRegistrationChange(t *testing.T) {
	k1 := newKeyClient(t, "kc", jose.ES256, "k1")
	k2 := newKeyClient(t, "kc", jose.ES256, "k2")
	var st *memory.Store
	e := newEPServer(t, withClients(t, k1.registration(t)), func(c *grant.Config) { st = c.Clients.(*memory.Store) })
	if r := e.assertionToken(k1.assertion(e, nil), nil); r.status != 200 {
		t.Fatalf("k1: %d %v", r.status, r.body)
	}
	if err := st.UpdateClient(t.Context(), k2.registration(t)); err != nil {
		t.Fatal(err)
	}
	wantInvalidClient(t, "k1 after the client registered k2 instead", e.assertionToken(k1.assertion(e, nil), nil))
	if r := e.assertionToken(k2.assertion(e, nil), nil); r.status != 200 {
		t.Fatalf("k2: %d %v", r.status, r.body)
	}
}
