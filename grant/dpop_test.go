package grant

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/oauthkit/oauthkit/internal/dpop/dpoptest"
	"github.com/oauthkit/oauthkit/store"
	"github.com/oauthkit/oauthkit/store/memory"
)

const tokenURL = "https://as.example.com/oauth/token" // the fixture's token endpoint, as published

// dpopPost sends a token request with a DPoP proof by key (for POST
// tokenURL at the fixture's clock, changed by opts); a nil key sends none.
func (f *fixture) dpopPost(key *dpoptest.Key, form url.Values, user, pass string, opts ...dpoptest.Option) response {
	f.t.Helper()
	return f.do("POST", "/oauth/token", "application/x-www-form-urlencoded", form.Encode(), func(r *http.Request) {
		if user != "" {
			r.SetBasicAuth(url.QueryEscape(user), url.QueryEscape(pass))
		}
		if key != nil {
			r.Header.Set("DPoP", key.Proof(f.t, "POST", tokenURL, append([]dpoptest.Option{dpoptest.IssuedAt(f.clock.Now())}, opts...)...))
		}
	})
}

// dpopAPI calls the fixture's /api/data with token as a DPoP token and a
// proof by key (nil: as a bearer token), and returns the status and the
// first challenge.
func (f *fixture) dpopAPI(key *dpoptest.Key, token string) (int, string) {
	f.t.Helper()
	r := f.do("GET", "/api/data", "", "", func(r *http.Request) {
		if key == nil {
			r.Header.Set("Authorization", "Bearer "+token)
			return
		}
		r.Header.Set("Authorization", "DPoP "+token)
		r.Header.Set("DPoP", key.Proof(f.t, "GET", f.srv.URL+"/api/data", dpoptest.Token(token)))
	})
	return r.status, r.header.Get("WWW-Authenticate")
}

// stored returns the store's record of raw.
func (f *fixture) stored(raw string) store.Token {
	f.t.Helper()
	t, err := f.st.Token(context.Background(), store.HashSecret(raw))
	if err != nil {
		f.t.Fatalf("token not stored: %v", err)
	}
	return t
}

var ccForm = url.Values{"grant_type": {"client_credentials"}}

// TestDPoPTokenEndpoint is RFC 9449 §5 at the token endpoint: a request
// with a proof gets token_type DPoP and a token bound to the key, that the
// Provider's own validation reports and the resource server admits only
// with a proof by that key; without a proof, a bearer token as before.
func TestDPoPTokenEndpoint(t *testing.T) {
	f := newFixture(t)
	key := dpoptest.NewKey(t, "ES256")
	r := f.dpopPost(key, ccForm, svcClient, f.secrets[svcClient])
	if r.status != 200 || r.str("token_type") != "DPoP" {
		t.Fatalf("with a proof: %d %s", r.status, r.raw)
	}
	at := r.str("access_token")
	if got := f.stored(at).JKT; got != key.JKT {
		t.Fatalf("stored JKT %q, want %q", got, key.JKT)
	}
	if tok, err := f.p.ValidateToken(context.Background(), at); err != nil || tok.JKT != key.JKT {
		t.Fatalf("ValidateToken: %+v %v", tok, err)
	}
	if s, ch := f.dpopAPI(key, at); s != 200 {
		t.Fatalf("DPoP at /api/data: %d %q", s, ch)
	}
	if s, ch := f.dpopAPI(nil, at); s != 401 || !strings.Contains(ch, `error="invalid_token"`) {
		t.Fatalf("the bound token as Bearer: %d %q", s, ch)
	}
	if s, ch := f.dpopAPI(dpoptest.NewKey(t, "ES256"), at); s != 401 || !strings.Contains(ch, `error="invalid_dpop_proof"`) {
		t.Fatalf("a proof by another key: %d %q", s, ch)
	}
	r = f.dpopPost(nil, ccForm, svcClient, f.secrets[svcClient])
	if r.status != 200 || r.str("token_type") != "Bearer" || f.stored(r.str("access_token")).JKT != "" {
		t.Fatalf("without a proof: %d %s", r.status, r.raw)
	}
	if s, _ := f.dpopAPI(nil, r.str("access_token")); s != 200 {
		t.Fatalf("the bearer token: %d", s)
	}
	if s, ch := f.dpopAPI(key, r.str("access_token")); s != 401 || !strings.Contains(ch, `DPoP `) {
		t.Fatalf("an unbound token with the DPoP scheme: %d %q", s, ch)
	}
}

// TestDPoPTokenEndpointRefusals: proofs that break a rule are refused with
// 400 invalid_dpop_proof, before any token is issued; the htu must be the
// token endpoint's published URL.
func TestDPoPTokenEndpointRefusals(t *testing.T) {
	f := newFixture(t)
	key := dpoptest.NewKey(t, "ES256")
	used := key.Proof(t, "POST", tokenURL, dpoptest.IssuedAt(f.clock.Now()))
	send := func(proofs ...string) response {
		return f.do("POST", "/oauth/token", "application/x-www-form-urlencoded", ccForm.Encode(), func(r *http.Request) {
			r.SetBasicAuth(svcClient, f.secrets[svcClient])
			for _, p := range proofs {
				r.Header.Add("DPoP", p)
			}
		})
	}
	if r := send(used); r.status != 200 {
		t.Fatalf("first use: %d %s", r.status, r.raw)
	}
	now := f.clock.Now()
	for name, proofs := range map[string][]string{
		"replayed":              {used},
		"htu of the server":     {key.Proof(t, "POST", f.srv.URL+"/oauth/token", dpoptest.IssuedAt(now))},
		"htu of another path":   {key.Proof(t, "POST", "https://as.example.com/oauth/revoke", dpoptest.IssuedAt(now))},
		"htm GET":               {key.Proof(t, "GET", tokenURL, dpoptest.IssuedAt(now))},
		"stale iat":             {key.Proof(t, "POST", tokenURL, dpoptest.IssuedAt(now.Add(-10*time.Minute)))},
		"typ JWT":               {key.Proof(t, "POST", tokenURL, dpoptest.IssuedAt(now), dpoptest.Header("typ", "JWT"))},
		"signed by another key": {key.Proof(t, "POST", tokenURL, dpoptest.IssuedAt(now), dpoptest.SignedBy(dpoptest.NewKey(t, "ES256")))},
		"two headers":           {key.Proof(t, "POST", tokenURL, dpoptest.IssuedAt(now)), key.Proof(t, "POST", tokenURL, dpoptest.IssuedAt(now))},
		"garbage":               {"garbage"},
	} {
		t.Run(name, func(t *testing.T) {
			wantError(t, send(proofs...), 400, CodeInvalidDPoPProof)
		})
	}
	// The client is authenticated first: a bad proof from an
	// unauthenticated caller learns nothing about it.
	r := f.do("POST", "/oauth/token", "application/x-www-form-urlencoded", ccForm.Encode(), func(r *http.Request) {
		r.SetBasicAuth(svcClient, "wrong")
		r.Header.Set("DPoP", "garbage")
	})
	wantError(t, r, 401, CodeInvalidClient)
}

// TestDPoPRequired: a client registered with dpop_bound_access_tokens, or
// any client when Config.DPoP.Required, must send a proof (RFC 9449 §5.2).
func TestDPoPRequired(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	c, _ := f.st.Client(ctx, svcClient)
	bound := *c
	bound.ID, bound.DPoPBoundAccessTokens = "bound-svc", true
	if err := f.st.CreateClient(ctx, &bound); err != nil {
		t.Fatal(err)
	}
	wantError(t, f.dpopPost(nil, ccForm, "bound-svc", f.secrets[svcClient]), 400, CodeInvalidDPoPProof)
	if r := f.dpopPost(dpoptest.NewKey(t, "EdDSA"), ccForm, "bound-svc", f.secrets[svcClient]); r.status != 200 || r.str("token_type") != "DPoP" {
		t.Fatalf("bound client with a proof: %d %s", r.status, r.raw)
	}
	if r := f.dpopPost(nil, ccForm, svcClient, f.secrets[svcClient]); r.status != 200 {
		t.Fatalf("another client without a proof: %d %s", r.status, r.raw)
	}

	g := newFixture(t, func(c *Config) { c.DPoP.Required = true })
	wantError(t, g.dpopPost(nil, ccForm, svcClient, g.secrets[svcClient]), 400, CodeInvalidDPoPProof)
	wantError(t, g.dpopPost(nil, url.Values{"grant_type": {"password"}, "username": {"user1"}, "password": {"password1"}}, appClient, g.secrets[appClient]), 400, CodeInvalidDPoPProof)
	if r := g.dpopPost(dpoptest.NewKey(t, "ES256"), ccForm, svcClient, g.secrets[svcClient]); r.status != 200 || r.str("token_type") != "DPoP" {
		t.Fatalf("with Required and a proof: %d %s", r.status, r.raw)
	}
}

var passwordForm = url.Values{"grant_type": {"password"}, "username": {"user1"}, "password": {"password1"}, "client_id": {publicClient}}

func refreshForm(client, rt string) url.Values {
	return url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}, "client_id": {client}}
}

// TestDPoPPublicRefreshBound: a public client's refresh token is bound to
// the key of its proof (RFC 9449 §5): refreshing it without a proof, or
// with another key's, is refused and leaves it usable; with the key, it
// rotates into tokens bound to it again.
func TestDPoPPublicRefreshBound(t *testing.T) {
	f := newFixture(t)
	key := dpoptest.NewKey(t, "ES256")
	r := f.dpopPost(key, passwordForm, "", "")
	if r.status != 200 || r.str("token_type") != "DPoP" {
		t.Fatalf("password grant: %d %s", r.status, r.raw)
	}
	rt := r.str("refresh_token")
	if f.stored(rt).JKT != key.JKT {
		t.Fatal("the public client's refresh token is not bound")
	}
	wantError(t, f.dpopPost(nil, refreshForm(publicClient, rt), "", ""), 400, CodeInvalidDPoPProof)
	wantError(t, f.dpopPost(dpoptest.NewKey(t, "ES256"), refreshForm(publicClient, rt), "", ""), 400, CodeInvalidGrant)
	r = f.dpopPost(key, refreshForm(publicClient, rt), "", "")
	if r.status != 200 || r.str("token_type") != "DPoP" {
		t.Fatalf("refresh with the key, after the refusals: %d %s", r.status, r.raw)
	}
	if f.stored(r.str("access_token")).JKT != key.JKT || f.stored(r.str("refresh_token")).JKT != key.JKT {
		t.Fatal("the rotated tokens are not bound to the key")
	}
}

// TestDPoPConfidentialRefreshNotBound: a confidential client's refresh
// token is not bound (RFC 9449 §5: it authenticates); each refresh binds
// its access token to the key of that request's proof.
func TestDPoPConfidentialRefreshNotBound(t *testing.T) {
	f := newFixture(t)
	k1, k2 := dpoptest.NewKey(t, "ES256"), dpoptest.NewKey(t, "PS256")
	r := f.dpopPost(k1, url.Values{"grant_type": {"password"}, "username": {"user1"}, "password": {"password1"}}, appClient, f.secrets[appClient])
	if r.status != 200 || f.stored(r.str("refresh_token")).JKT != "" || f.stored(r.str("access_token")).JKT != k1.JKT {
		t.Fatalf("password grant: %d %s", r.status, r.raw)
	}
	r = f.dpopPost(k2, refreshForm(appClient, r.str("refresh_token")), appClient, f.secrets[appClient])
	if r.status != 200 || r.str("token_type") != "DPoP" || f.stored(r.str("access_token")).JKT != k2.JKT {
		t.Fatalf("refresh with another key: %d %s", r.status, r.raw)
	}
	r = f.dpopPost(nil, refreshForm(appClient, r.str("refresh_token")), appClient, f.secrets[appClient])
	if r.status != 200 || r.str("token_type") != "Bearer" {
		t.Fatalf("refresh without a proof: %d %s", r.status, r.raw)
	}
}

// TestDPoPRefreshNoGrace: a DPoP-bound refresh token presented again after
// its rotation is reuse, not a retry: the whole family is revoked at once,
// within the grace that a bearer refresh token gets.
func TestDPoPRefreshNoGrace(t *testing.T) {
	f := newFixture(t)
	key := dpoptest.NewKey(t, "ES256")
	r := f.dpopPost(key, passwordForm, "", "")
	rt := r.str("refresh_token")
	first := f.dpopPost(key, refreshForm(publicClient, rt), "", "")
	if first.status != 200 {
		t.Fatalf("refresh: %d %s", first.status, first.raw)
	}
	wantError(t, f.dpopPost(key, refreshForm(publicClient, rt), "", ""), 400, CodeInvalidGrant)
	if _, err := f.st.Token(context.Background(), store.HashSecret(first.str("refresh_token"))); err == nil {
		t.Fatal("the family survived the reuse of a DPoP-bound refresh token")
	}
	// A confidential client's refresh token is not bound, but a refresh
	// made with a proof gets no grace either.
	r = f.dpopPost(key, url.Values{"grant_type": {"password"}, "username": {"user1"}, "password": {"password1"}}, appClient, f.secrets[appClient])
	crt := r.str("refresh_token")
	if r := f.dpopPost(key, refreshForm(appClient, crt), appClient, f.secrets[appClient]); r.status != 200 {
		t.Fatalf("confidential refresh: %d %s", r.status, r.raw)
	}
	wantError(t, f.dpopPost(key, refreshForm(appClient, crt), appClient, f.secrets[appClient]), 400, CodeInvalidGrant)
	// A bearer refresh token of the same client, within the grace: a retry.
	r = f.dpopPost(nil, passwordForm, "", "")
	first = f.dpopPost(nil, refreshForm(publicClient, r.str("refresh_token")), "", "")
	again := f.dpopPost(nil, refreshForm(publicClient, r.str("refresh_token")), "", "")
	if again.status != 200 || again.str("refresh_token") != first.str("refresh_token") {
		t.Fatalf("bearer retry within the grace: %d %s", again.status, again.raw)
	}
}

// TestDPoPCodeBinding: dpop_jkt at the authorization endpoint binds the
// code (RFC 9449 §10): it is redeemed only with a proof by that key.
func TestDPoPCodeBinding(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	key := dpoptest.NewKey(t, "ES256")
	secret, sh, _ := NewClientSecret()
	web := &store.Client{ID: "web", AuthMethod: store.AuthSecretBasic, SecretHash: sh, Scopes: []string{"read"},
		GrantTypes: []string{store.GrantAuthorizationCode}, RedirectURIs: []string{"https://web.example.com/cb"}}
	if err := f.st.CreateClient(ctx, web); err != nil {
		t.Fatal(err)
	}
	newCode := func() string {
		req := &authRequest{client: web, scopes: []string{"read"}, dpopJKT: key.JKT}
		code, err := f.p.newCode(ctx, req, &store.User{ID: "1", Username: "user1"})
		if err != nil {
			t.Fatal(err)
		}
		return code
	}
	form := func(code string) url.Values { return url.Values{"grant_type": {"authorization_code"}, "code": {code}} }
	wantError(t, f.dpopPost(nil, form(newCode()), "web", secret), 400, CodeInvalidDPoPProof)
	wantError(t, f.dpopPost(dpoptest.NewKey(t, "ES256"), form(newCode()), "web", secret), 400, CodeInvalidGrant)
	r := f.dpopPost(key, form(newCode()), "web", secret)
	if r.status != 200 || r.str("token_type") != "DPoP" || f.stored(r.str("access_token")).JKT != key.JKT {
		t.Fatalf("with the key: %d %s", r.status, r.raw)
	}
}

// TestDPoPJKTParameter: dpop_jkt is taken from the authorization request
// when it is a SHA-256 thumbprint, refused otherwise.
func TestDPoPJKTParameter(t *testing.T) {
	c := &store.Client{ID: "web", AuthMethod: store.AuthSecretBasic, RedirectURIs: []string{"https://web.example.com/cb"},
		GrantTypes: []string{store.GrantAuthorizationCode}, Scopes: []string{"read"}}
	jkt := dpoptest.NewKey(t, "ES256").JKT
	base := "response_type=code&client_id=web&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256"
	for _, tc := range []struct {
		query string
		want  string // dpopJKT, or "error"
	}{
		{base, ""},
		{base + "&dpop_jkt=" + jkt, jkt},
		{base + "&dpop_jkt=short", "error"},
		{base + "&dpop_jkt=" + jkt[:42] + "%2B", "error"},
	} {
		q, unique, _ := parseAuthorizeQuery(tc.query)
		req, page, redirect := validateAuthorize(q, unique, c, false)
		switch {
		case page != nil:
			t.Errorf("%s: page error %v", tc.query, page)
		case tc.want == "error" && redirect == nil:
			t.Errorf("%s: accepted", tc.query)
		case tc.want != "error" && (redirect != nil || req.dpopJKT != tc.want):
			t.Errorf("%s: %v, dpop_jkt %q", tc.query, redirect, req.dpopJKT)
		}
	}
}

// TestDPoPNonce: with Config.DPoP.Nonce, a proof without the server's nonce
// is answered 400 use_dpop_nonce with a DPoP-Nonce header (RFC 9449 §8);
// the retry carrying it passes, and so does one sent to another Provider
// with the same Secret (nonces are stateless); one with another Secret
// does not accept it.
func TestDPoPNonce(t *testing.T) {
	secret := bytes.Repeat([]byte{5}, 32)
	nonce := func(c *Config) { c.DPoP.Nonce = true; c.Secret = secret }
	f, g := newFixture(t, nonce), newFixture(t, nonce)
	h := newFixture(t, func(c *Config) { c.DPoP.Nonce = true })
	key := dpoptest.NewKey(t, "ES256")
	r := f.dpopPost(key, ccForm, svcClient, f.secrets[svcClient])
	wantError(t, r, 400, CodeUseDPoPNonce)
	n := r.header.Get("DPoP-Nonce")
	if n == "" {
		t.Fatal("no DPoP-Nonce header")
	}
	r = f.dpopPost(key, ccForm, svcClient, f.secrets[svcClient], dpoptest.Nonce(n))
	if r.status != 200 || r.header.Get("DPoP-Nonce") != n {
		t.Fatalf("with the nonce: %d %s, DPoP-Nonce %q", r.status, r.raw, r.header.Get("DPoP-Nonce"))
	}
	if r := g.dpopPost(key, ccForm, svcClient, g.secrets[svcClient], dpoptest.Nonce(n)); r.status != 200 {
		t.Fatalf("another instance with the secret: %d %s", r.status, r.raw)
	}
	wantError(t, h.dpopPost(key, ccForm, svcClient, h.secrets[svcClient], dpoptest.Nonce(n)), 400, CodeUseDPoPNonce)
	// Two steps on, the nonce is stale.
	f.clock.Advance(2 * time.Minute)
	wantError(t, f.dpopPost(key, ccForm, svcClient, f.secrets[svcClient], dpoptest.Nonce(n)), 400, CodeUseDPoPNonce)
	// Without a DPoP header, nonces are not involved.
	if r := f.dpopPost(nil, ccForm, svcClient, f.secrets[svcClient]); r.status != 200 || r.header.Get("DPoP-Nonce") != "" {
		t.Fatalf("bearer request: %d %q", r.status, r.header.Get("DPoP-Nonce"))
	}
}

// TestDPoPIntrospectionAndJWT: introspection shows cnf and token_type DPoP
// (RFC 9449 §6.2); a JWT access token carries cnf.jkt (§6.1).
func TestDPoPIntrospectionAndJWT(t *testing.T) {
	key := dpoptest.NewKey(t, "ES256")
	k, err := GenerateSigningKey(AlgEdDSA)
	if err != nil {
		t.Fatal(err)
	}
	f := newFixture(t, func(c *Config) {
		c.AccessTokenFormat, c.SigningKeys, c.Audience = FormatJWT, []SigningKey{k}, []string{"https://api.example.com"}
		c.Introspectors = []string{appClient}
	})
	at := f.dpopPost(key, ccForm, svcClient, f.secrets[svcClient]).str("access_token")
	payload, _ := base64.RawURLEncoding.DecodeString(strings.Split(at, ".")[1])
	var claims struct {
		Cnf map[string]string `json:"cnf"`
	}
	if err := json.Unmarshal(payload, &claims); err != nil || claims.Cnf["jkt"] != key.JKT || len(claims.Cnf) != 1 {
		t.Fatalf("JWT claims %s: cnf %v", payload, claims.Cnf)
	}
	introspect := func(tok string) response {
		req := httptest.NewRequest("POST", "/oauth/introspect", strings.NewReader(url.Values{"token": {tok}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth(appClient, f.secrets[appClient])
		w := httptest.NewRecorder()
		f.p.IntrospectHandler().ServeHTTP(w, req)
		out := response{status: w.Code, header: w.Header(), raw: w.Body.String()}
		_ = json.Unmarshal(w.Body.Bytes(), &out.body)
		return out
	}
	r := introspect(at)
	cnf, _ := r.body["cnf"].(map[string]any)
	if r.status != 200 || r.body["active"] != true || r.str("token_type") != "DPoP" || cnf["jkt"] != key.JKT {
		t.Fatalf("introspection: %d %s", r.status, r.raw)
	}
	bearer := f.dpopPost(nil, ccForm, svcClient, f.secrets[svcClient]).str("access_token")
	r = introspect(bearer)
	if r.str("token_type") != "Bearer" || r.body["cnf"] != nil || strings.Contains(bearer, "cnf") {
		t.Fatalf("bearer token introspected: %s", r.raw)
	}
}

// TestDPoPMetadata: dpop_signing_alg_values_supported lists the allowed
// algorithms, ES256 first.
func TestDPoPMetadata(t *testing.T) {
	md := newFixture(t).p.metadata()
	if strings.Join(md.DPoPSigningAlgs, " ") != "ES256 EdDSA PS256 RS256" {
		t.Errorf("dpop_signing_alg_values_supported = %v", md.DPoPSigningAlgs)
	}
	md = newFixture(t, func(c *Config) { c.DPoP.Algorithms = []string{"ES256", "ES384"} }).p.metadata()
	if strings.Join(md.DPoPSigningAlgs, " ") != "ES256 ES384" {
		t.Errorf("configured: %v", md.DPoPSigningAlgs)
	}
	if _, err := NewProvider(Config{Issuer: "https://as.example.com", Clients: newFixture(t).st, Tokens: newFixture(t).st,
		DPoP: DPoP{Algorithms: []string{"HS256"}}}); err == nil {
		t.Error("HS256 accepted for DPoP")
	}
}

// TestDPoPLogin: the JSON login takes a proof for its own URL and binds the
// tokens, as the token endpoint does.
func TestDPoPLogin(t *testing.T) {
	f := newFixture(t)
	key := dpoptest.NewKey(t, "EdDSA")
	login := func(htu string) response {
		return f.do("POST", "/login", "application/json", `{"username": "user1", "password": "password1"}`, func(r *http.Request) {
			r.Header.Set("DPoP", key.Proof(t, "POST", htu, dpoptest.IssuedAt(f.clock.Now())))
		})
	}
	r := login("https://as.example.com/login")
	if r.status != 200 || r.str("token_type") != "DPoP" || f.stored(r.str("access_token")).JKT != key.JKT {
		t.Fatalf("login with a proof: %d %s", r.status, r.raw)
	}
	wantError(t, login(tokenURL), 400, CodeInvalidDPoPProof)
}

// TestDPoPReplayAcrossProviders: two Providers on one store (two instances)
// share its replay cache: a proof used at one is refused at the other.
func TestDPoPReplayAcrossProviders(t *testing.T) {
	f := newFixture(t)
	g := newFixture(t, func(c *Config) { c.Tokens, c.Clients = f.st, f.st })
	key := dpoptest.NewKey(t, "ES256")
	proof := key.Proof(t, "POST", tokenURL, dpoptest.IssuedAt(f.clock.Now()))
	for i, x := range []*fixture{f, g} {
		r := x.do("POST", "/oauth/token", "application/x-www-form-urlencoded", ccForm.Encode(), func(r *http.Request) {
			r.SetBasicAuth(svcClient, f.secrets[svcClient])
			r.Header.Set("DPoP", proof)
		})
		if want := []int{200, 400}[i]; r.status != want {
			t.Fatalf("instance %d: %d %s, want %d", i, r.status, r.raw, want)
		}
	}
}

// hidingStore fails Token for one hash, as a store that errs at the wrong
// moment: the refresh grant's look before consuming.
type hidingStore struct {
	*memory.Store
	hide store.Hash
}

func (s *hidingStore) Token(ctx context.Context, h store.Hash) (store.Token, error) {
	if h == s.hide {
		return store.Token{}, errors.New("store down")
	}
	return s.Store.Token(ctx, h)
}

// TestDPoPBindingCheckedAfterConsume: a refresh whose first look (where
// the binding is checked before anything is consumed) fails is refused,
// and consumes nothing: the token still refreshes with its own key. (The
// binding is also checked again on the record ConsumeToken returns.)
func TestDPoPBindingCheckedAfterConsume(t *testing.T) {
	hs := &hidingStore{}
	f := newFixture(t, func(c *Config) { hs.Store = c.Tokens.(*memory.Store); c.Tokens = hs })
	key := dpoptest.NewKey(t, "ES256")
	rt := f.dpopPost(key, passwordForm, "", "").str("refresh_token")
	hs.hide = store.HashSecret(rt)
	if r := f.dpopPost(dpoptest.NewKey(t, "ES256"), refreshForm(publicClient, rt), "", ""); r.status < 500 {
		t.Fatalf("a refresh with another key whose first look failed: %d %s, want it refused by the server", r.status, r.raw)
	}
	hs.hide = store.Hash{}
	if r := f.dpopPost(key, refreshForm(publicClient, rt), "", ""); r.status != 200 {
		t.Fatalf("the refresh token with its own key afterwards: %d %s", r.status, r.raw)
	}
}
