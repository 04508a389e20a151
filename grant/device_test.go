package grant_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/oauthkit/oauthkit/grant"
	"github.com/oauthkit/oauthkit/store"
	"github.com/oauthkit/oauthkit/store/memory"
)

var userCodeRE = regexp.MustCompile(`^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$`)

// TestDeviceFlow is the whole flow with golang.org/x/oauth2 as the device:
// DeviceAuth, the verification page driven as a browser would, then
// DeviceAccessToken's polling, the protected API and a refresh.
func TestDeviceFlow(t *testing.T) {
	e := newDevEnv(t, grant.DeviceOptions{}, func(c *grant.Config) { c.Device.Interval = time.Second })
	cfg := &oauth2.Config{ClientID: devTV, Scopes: []string{"read"}, Endpoint: oauth2.Endpoint{
		DeviceAuthURL: e.srv.URL + "/oauth/device_authorization", TokenURL: e.srv.URL + "/oauth/token",
		AuthStyle: oauth2.AuthStyleInParams,
	}}
	ctx := context.Background()
	da, err := cfg.DeviceAuth(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !userCodeRE.MatchString(da.UserCode) || len(da.DeviceCode) < 43 || da.VerificationURI != e.srv.URL+"/device" ||
		da.VerificationURIComplete != e.srv.URL+"/device?user_code="+da.UserCode || da.Interval != 1 {
		t.Fatalf("device authorization response %+v", da)
	}
	if left := time.Until(da.Expiry); left < 9*time.Minute || left > 10*time.Minute {
		t.Fatalf("expires in %v, want 10 minutes", left)
	}
	done := e.approve(da.VerificationURIComplete, "user1", "allow")
	if done.status != http.StatusOK || !strings.Contains(done.body, "Living-room TV") || !strings.Contains(done.body, "return to your device") {
		t.Fatalf("done page: %d %.400s", done.status, done.body)
	}
	tok, err := cfg.DeviceAccessToken(ctx, da)
	if err != nil {
		t.Fatal(err)
	}
	if tok.RefreshToken == "" || tok.Extra("scope") != "read" || tok.TokenType != "Bearer" {
		t.Fatalf("token %+v", tok)
	}
	if s := e.apiData(tok.AccessToken); s != http.StatusOK {
		t.Fatalf("/api/data: %d", s)
	}
	ti, err := e.p.ValidateToken(ctx, tok.AccessToken)
	if err != nil || ti.Subject != "1" || ti.Username != "user1" || ti.ClientID != devTV {
		t.Fatalf("the token's user and client: %+v %v", ti, err)
	}
	tok.Expiry = time.Now().Add(-time.Minute)
	fresh, err := cfg.TokenSource(ctx, tok).Token()
	if err != nil || fresh.RefreshToken == tok.RefreshToken {
		t.Fatalf("refresh: %v %v", fresh, err)
	}
}

// TestDeviceAuthorizationResponse: RFC 8628 §3.2's fields, the client's
// scopes by default, a confidential client by its secret.
func TestDeviceAuthorizationResponse(t *testing.T) {
	e := newDevEnv(t, grant.DeviceOptions{})
	a := e.deviceAuth(devTV, "")
	if a.body["expires_in"] != float64(600) || a.body["interval"] != float64(5) || !userCodeRE.MatchString(a.str("user_code")) ||
		!strings.HasPrefix(a.str("device_code"), grant.PrefixDeviceCode) || a.str("verification_uri") != e.srv.URL+"/device" ||
		a.str("verification_uri_complete") != e.srv.URL+"/device?user_code="+a.str("user_code") {
		t.Fatalf("device authorization response %v", a.body)
	}
	if ct := a.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("Content-Type %q", ct)
	}
	// Every code is new.
	b := e.deviceAuth(devTV, "write")
	if b.str("user_code") == a.str("user_code") || b.str("device_code") == a.str("device_code") {
		t.Fatal("two device authorizations share a code")
	}
	box := e.deviceAuth(devBox, "read")
	g, err := e.st.PollDeviceGrant(context.Background(), store.HashSecret(box.str("device_code")), devBox, e.clk.Now())
	if err != nil || g.ClientID != devBox || len(g.Scopes) != 1 || g.Scopes[0] != "read" {
		t.Fatalf("the confidential client's grant: %+v %v", g, err)
	}
	tv, _ := e.st.PollDeviceGrant(context.Background(), store.HashSecret(a.str("device_code")), devTV, e.clk.Now())
	if strings.Join(tv.Scopes, " ") != "read write" {
		t.Fatalf("default scopes %v, want the client's", tv.Scopes)
	}
}

// TestDeviceAuthorizationErrors: RFC 8628 §3.1 refers errors to RFC 6749
// §5.2; client authentication as at the token endpoint.
func TestDeviceAuthorizationErrors(t *testing.T) {
	e := newDevEnv(t, grant.DeviceOptions{})
	for _, tc := range []struct {
		name, id string
		form     url.Values
		status   int
		code     string
	}{
		{"no client", "", url.Values{}, 401, grant.CodeInvalidClient},
		{"unknown client", "", url.Values{"client_id": {"nobody"}}, 401, grant.CodeInvalidClient},
		{"confidential client without its secret", "", url.Values{"client_id": {devBox}}, 401, grant.CodeInvalidClient},
		{"wrong secret", "", url.Values{"client_id": {devBox}, "client_secret": {"okcs_wrong"}}, 401, grant.CodeInvalidClient},
		{"client not registered for the grant", devWeb, url.Values{}, 400, grant.CodeUnauthorizedClient},
		{"scope beyond the client's", devTV, url.Values{"scope": {"read admin"}}, 400, grant.CodeInvalidScope},
		{"malformed scope", devTV, url.Values{"scope": {"re\"ad"}}, 400, grant.CodeInvalidScope},
	} {
		a := e.post("/oauth/device_authorization", tc.id, tc.form)
		if a.status != tc.status || a.str("error") != tc.code {
			t.Errorf("%s: %d %v; want %d %s", tc.name, a.status, a.body, tc.status, tc.code)
		}
	}
	for _, tc := range []struct {
		method, url, ctype, body string
		status                   int
	}{
		{http.MethodGet, "/oauth/device_authorization?client_id=tv", "", "", http.StatusMethodNotAllowed},
		{http.MethodPost, "/oauth/device_authorization?client_id=tv", "application/x-www-form-urlencoded", "", http.StatusBadRequest},
		{http.MethodPost, "/oauth/device_authorization", "application/json", `{"client_id":"tv"}`, http.StatusUnsupportedMediaType},
		{http.MethodPost, "/oauth/device_authorization", "application/x-www-form-urlencoded", "client_id=tv&client_id=tv", http.StatusBadRequest},
	} {
		req, _ := http.NewRequest(tc.method, e.srv.URL+tc.url, strings.NewReader(tc.body))
		if tc.ctype != "" {
			req.Header.Set("Content-Type", tc.ctype)
		}
		if p := e.do(http.DefaultClient, req); p.status != tc.status || !strings.Contains(p.body, `"error":"invalid_request"`) {
			t.Errorf("%s %s %s: %d %s, want %d invalid_request", tc.method, tc.url, tc.body, p.status, p.body, tc.status)
		}
	}
}

// TestDevicePollingAnswers is RFC 8628 §3.5, answer by answer, each with
// status 400: authorization_pending until the user acts, slow_down for a
// poll sooner than the interval (which then grows by 5 s, for every later
// poll too), access_denied, expired_token; and RFC 6749 §5.2's
// invalid_request and invalid_grant for a missing, unknown or malformed
// device code or one of another client.
func TestDevicePollingAnswers(t *testing.T) {
	e := newDevEnv(t, grant.DeviceOptions{})
	a := e.deviceAuth(devTV, "read")
	dc := a.str("device_code")

	wantPoll(t, e.poll(devTV, dc), "authorization_pending")
	wantPoll(t, e.poll(devTV, dc), "slow_down") // at once: the clock stands still
	e.clk.Advance(5 * time.Second)
	wantPoll(t, e.poll(devTV, dc), "slow_down") // 5 s is less than the raised 10 s
	e.clk.Advance(14 * time.Second)
	wantPoll(t, e.poll(devTV, dc), "slow_down") // 14 s is less than the raised 15 s
	e.clk.Advance(20 * time.Second)
	wantPoll(t, e.poll(devTV, dc), "authorization_pending") // on time for the interval, now 20 s
	e.clk.Advance(20 * time.Second)
	wantPoll(t, e.poll(devTV, dc), "authorization_pending")

	// Another client may not poll it, nor learn anything by trying.
	e.clk.Advance(20 * time.Second)
	wantPoll(t, e.poll(devBox, dc), grant.CodeInvalidGrant)
	wantPoll(t, e.poll(devTV, dc), "authorization_pending") // no slow_down: the other client's poll did not count

	e.clk.Advance(20 * time.Second)
	for name, code := range map[string]string{
		"unknown":     dc[:10] + map[bool]string{true: "B", false: "A"}[dc[10] == 'A'] + dc[11:], // another random part
		"malformed":   "not-a-device-code",
		"truncated":   dc[:len(dc)-1],
		"a user code": a.str("user_code"),
	} {
		if got := e.poll(devTV, code); got.status != 400 || got.str("error") != grant.CodeInvalidGrant {
			t.Errorf("%s device code: %d %v, want 400 invalid_grant", name, got.status, got.body)
		}
	}
	missing := e.post("/oauth/token", devTV, url.Values{"grant_type": {store.GrantDeviceCode}})
	if missing.status != 400 || missing.str("error") != grant.CodeInvalidRequest {
		t.Errorf("no device_code: %d %v", missing.status, missing.body)
	}
	web := e.post("/oauth/token", devWeb, url.Values{"grant_type": {store.GrantDeviceCode}, "device_code": {dc}})
	if web.status != 400 || web.str("error") != grant.CodeUnauthorizedClient {
		t.Errorf("a client not registered for the grant: %d %v", web.status, web.body)
	}

	// The user denies: access_denied, for every later poll.
	if p := e.approve(a.str("verification_uri_complete"), "user1", "deny"); p.status != http.StatusOK || !strings.Contains(p.body, "denied") {
		t.Fatalf("deny: %d %.300s", p.status, p.body)
	}
	for range 2 {
		e.clk.Advance(20 * time.Second)
		wantPoll(t, e.poll(devTV, dc), grant.CodeAccessDenied)
	}

	// Unanswered until it expires: expired_token, also once the store has
	// forgotten it.
	b := e.deviceAuth(devTV, "")
	e.clk.Advance(10*time.Minute - time.Second)
	wantPoll(t, e.poll(devTV, b.str("device_code")), "authorization_pending")
	e.clk.Advance(time.Second)
	wantPoll(t, e.poll(devTV, b.str("device_code")), "expired_token")
	for range 10 { // new grants sweep the expired ones out of the memory store
		e.deviceAuth(devBox, "")
	}
	wantPoll(t, e.poll(devTV, b.str("device_code")), "expired_token")
	// An expired grant cannot be approved either.
	if p := e.enterCode(e.browser(), b.str("user_code")); p.status != http.StatusBadRequest || !strings.Contains(p.body, "expired") {
		t.Errorf("entering an expired code: %d %.300s", p.status, p.body)
	}
}

// TestDeviceCodeSingleUse: the device code gives its tokens once; a second
// redemption is invalid_grant and revokes what the first one got (as for
// authorization codes, RFC 6749 §4.1.2).
func TestDeviceCodeSingleUse(t *testing.T) {
	e := newDevEnv(t, grant.DeviceOptions{})
	a := e.deviceAuth(devTV, "read")
	e.approve(a.str("verification_uri_complete"), "user1", "allow")
	tok := e.poll(devTV, a.str("device_code"))
	if tok.status != http.StatusOK || tok.str("token_type") != "Bearer" || tok.str("scope") != "read" || tok.str("refresh_token") == "" {
		t.Fatalf("poll after approval: %d %v", tok.status, tok.body)
	}
	if s := e.apiData(tok.str("access_token")); s != http.StatusOK {
		t.Fatalf("/api/data: %d", s)
	}
	e.clk.Advance(5 * time.Second)
	wantPoll(t, e.poll(devTV, a.str("device_code")), grant.CodeInvalidGrant)
	if s := e.apiData(tok.str("access_token")); s != http.StatusUnauthorized {
		t.Fatalf("the access token after a replay: %d, want 401 (revoked)", s)
	}
	r := e.post("/oauth/token", devTV, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.str("refresh_token")}})
	if r.status != http.StatusBadRequest || r.str("error") != grant.CodeInvalidGrant {
		t.Fatalf("the refresh token after a replay: %d %v", r.status, r.body)
	}
}

// TestDeviceCodeConcurrentRedemption: of many racing polls of an approved
// grant, one at most gets tokens, and those are revoked by the others.
func TestDeviceCodeConcurrentRedemption(t *testing.T) {
	e := newDevEnv(t, grant.DeviceOptions{})
	a := e.deviceAuth(devTV, "read")
	e.approve(a.str("verification_uri_complete"), "user1", "allow")
	const n = 20
	res := make([]jsonAnswer, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { res[i] = e.poll(devTV, a.str("device_code")) })
	}
	wg.Wait()
	var issued []string
	for _, r := range res {
		switch {
		case r.status == http.StatusOK:
			issued = append(issued, r.str("access_token"))
		case r.status != http.StatusBadRequest || r.str("error") != grant.CodeInvalidGrant:
			t.Errorf("racing poll: %d %v", r.status, r.body)
		}
	}
	if len(issued) > 1 {
		t.Fatalf("%d racing polls got tokens", len(issued))
	}
	for _, at := range issued {
		if s := e.apiData(at); s != http.StatusUnauthorized {
			t.Fatalf("the winner's token after the racing replays: %d, want 401", s)
		}
	}
}

// recordingDevices records every value the Provider hands the device and
// token stores.
type recordingDevices struct {
	*memory.Store
	mu   sync.Mutex
	seen []string
}

func (r *recordingDevices) record(v ...any) {
	r.mu.Lock()
	r.seen = append(r.seen, fmt.Sprintf("%+v %x", v, v))
	r.mu.Unlock()
}

func (r *recordingDevices) CreateDeviceGrant(ctx context.Context, g *store.DeviceGrant) error {
	r.record(*g, g.DeviceCodeHash, g.UserCodeHash)
	return r.Store.CreateDeviceGrant(ctx, g)
}

func (r *recordingDevices) DeviceGrantByUserCode(ctx context.Context, h store.Hash, now time.Time) (store.DeviceGrant, error) {
	r.record(h)
	return r.Store.DeviceGrantByUserCode(ctx, h, now)
}

func (r *recordingDevices) DecideDeviceGrant(ctx context.Context, h store.Hash, d store.DeviceDecision, now time.Time) error {
	r.record(h, d)
	return r.Store.DecideDeviceGrant(ctx, h, d, now)
}

func (r *recordingDevices) PollDeviceGrant(ctx context.Context, h store.Hash, id string, now time.Time) (store.DeviceGrant, error) {
	r.record(h, id)
	return r.Store.PollDeviceGrant(ctx, h, id, now)
}

func (r *recordingDevices) CreateToken(ctx context.Context, t *store.Token) error {
	r.record(*t)
	return r.Store.CreateToken(ctx, t)
}

// TestDeviceCodesHashedAtRest: neither code reaches the store, in any
// spelling; the user code's hash is keyed (a plain SHA-256 of 34.6 bits
// would be reversed in seconds).
func TestDeviceCodesHashedAtRest(t *testing.T) {
	var rec *recordingDevices
	e := newDevEnv(t, grant.DeviceOptions{}, func(c *grant.Config) {
		rec = &recordingDevices{Store: c.Tokens.(*memory.Store)}
		c.Tokens = rec
	})
	a := e.deviceAuth(devTV, "read")
	uc, dc := a.str("user_code"), a.str("device_code")
	plain := strings.ReplaceAll(uc, "-", "")
	e.approve(a.str("verification_uri_complete"), "user1", "allow")
	if r := e.poll(devTV, dc); r.status != http.StatusOK {
		t.Fatalf("poll: %d %v", r.status, r.body)
	}
	if len(rec.seen) < 4 {
		t.Fatalf("the store saw %d calls", len(rec.seen))
	}
	for _, s := range rec.seen {
		for _, raw := range []string{uc, plain, strings.ToLower(plain), dc, strings.TrimPrefix(dc, grant.PrefixDeviceCode)} {
			if strings.Contains(s, raw) || strings.Contains(strings.ToLower(s), fmt.Sprintf("%x", raw)) {
				t.Fatalf("raw code %q reached the store: %.300s", raw, s)
			}
		}
		for _, h := range []store.Hash{store.HashSecret(plain), store.HashSecret(uc)} {
			if strings.Contains(s, fmt.Sprintf("%x", h[:])) {
				t.Fatalf("the user code is kept as its plain SHA-256: %.300s", s)
			}
		}
	}
	g, err := rec.Store.PollDeviceGrant(context.Background(), store.HashSecret(dc), devTV, e.clk.Now())
	if !errors.Is(err, store.ErrConsumed) || g.UserCodeHash == store.HashSecret(plain) {
		t.Fatalf("the stored grant: %v, user code hash plain: %v", err, g.UserCodeHash == store.HashSecret(plain))
	}
}

// TestDeviceUserCodeKeyedBySecret: two Providers sharing Config.Secret
// recognise each other's user codes; another secret does not.
func TestDeviceUserCodeKeyedBySecret(t *testing.T) {
	secret := []byte(strings.Repeat("k", 32))
	e := newDevEnv(t, grant.DeviceOptions{}, func(c *grant.Config) { c.Secret = secret })
	a := e.deviceAuth(devTV, "read")
	for _, tc := range []struct {
		secret []byte
		found  bool
	}{{secret, true}, {[]byte(strings.Repeat("x", 32)), false}} {
		other := newDevEnv(t, grant.DeviceOptions{}, func(c *grant.Config) {
			c.Secret = tc.secret
			c.Tokens, c.Clients, c.Users = e.st, e.st, e.st
			c.Now = e.clk.Now
		})
		p := other.enterCode(other.browser(), a.str("user_code"))
		if got := strings.Contains(p.body, `name="password"`); got != tc.found {
			t.Errorf("secret %q: code found %v, want %v (%d %.200s)", tc.secret[:1], got, tc.found, p.status, p.body)
		}
	}
}

// TestDeviceAuthorizationThrottled: device authorizations are limited per
// address, so that nobody fills the store from one address.
func TestDeviceAuthorizationThrottled(t *testing.T) {
	e := newDevEnv(t, grant.DeviceOptions{}, func(c *grant.Config) {
		c.Device.Requests = store.Limit{Burst: 3, Every: time.Minute}
	})
	for range 3 {
		e.deviceAuth(devTV, "")
	}
	a := e.post("/oauth/device_authorization", devTV, url.Values{})
	if a.status != http.StatusTooManyRequests || a.str("error") != grant.CodeSlowDown || a.header.Get("Retry-After") != "60" {
		t.Fatalf("beyond the limit: %d %v Retry-After %q", a.status, a.body, a.header.Get("Retry-After"))
	}
	e.clk.Advance(time.Minute)
	e.deviceAuth(devTV, "")
}

// TestDeviceConfig: the device grant needs a store that keeps device
// grants, and bounded lifetimes and intervals.
func TestDeviceConfig(t *testing.T) {
	st := memory.New()
	base := grant.Config{Issuer: "https://as.example", Clients: st, Tokens: st, Users: st,
		GrantTypes: []string{store.GrantDeviceCode}}
	for name, mutate := range map[string]func(*grant.Config){
		"token store without device grants": func(c *grant.Config) { c.Tokens = tokensOnly{st} },
		"lifetime over 30 minutes":          func(c *grant.Config) { c.Device.CodeTTL = 31 * time.Minute },
		"negative lifetime":                 func(c *grant.Config) { c.Device.CodeTTL = -time.Minute },
		"interval under a second":           func(c *grant.Config) { c.Device.Interval = 500 * time.Millisecond },
		"interval of a fraction":            func(c *grant.Config) { c.Device.Interval = 1500 * time.Millisecond },
		"bad wrong-code limit":              func(c *grant.Config) { c.Device.WrongCodes = store.Limit{Burst: 0, Every: time.Second} },
		"bad request limit":                 func(c *grant.Config) { c.Device.Requests = store.Limit{Burst: 1} },
	} {
		c := base
		mutate(&c)
		if _, err := grant.NewProvider(c); err == nil {
			t.Errorf("%s: NewProvider accepted it", name)
		}
	}
	c := base
	c.Tokens, c.Device.Store = tokensOnly{st}, st
	if _, err := grant.NewProvider(c); err != nil {
		t.Errorf("an explicit Device.Store: %v", err)
	}
	p, err := grant.NewProvider(grant.Config{Issuer: "https://as.example", Clients: st, Tokens: st, Users: st})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.DeviceHandler(grant.DeviceOptions{}); err == nil {
		t.Error("DeviceHandler without the device grant in GrantTypes")
	}
	p, err = grant.NewProvider(grant.Config{Issuer: "https://as.example", Clients: st, Tokens: st, GrantTypes: []string{store.GrantDeviceCode}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.DeviceHandler(grant.DeviceOptions{}); err == nil {
		t.Error("DeviceHandler without Config.Users or Authenticate")
	}
	for _, r := range p.Routes(grant.Pages{}) {
		if r.Pattern == "/oauth/device_authorization" {
			return
		}
	}
	t.Error("Routes does not mount the device authorization endpoint")
}

// tokensOnly hides every method of a store but TokenStore's.
type tokensOnly struct{ store.TokenStore }

// TestDeviceMetadata: RFC 8628 §4.
func TestDeviceMetadata(t *testing.T) {
	e := newDevEnv(t, grant.DeviceOptions{})
	p := e.get(http.DefaultClient, e.p.MetadataURL())
	if !strings.Contains(p.body, `"device_authorization_endpoint":"`+e.srv.URL+`/oauth/device_authorization"`) ||
		!strings.Contains(p.body, `"urn:ietf:params:oauth:grant-type:device_code"`) {
		t.Fatalf("metadata: %s", p.body)
	}
	off := newAZEnv(t, grant.AuthorizeOptions{})
	if p := off.get(http.DefaultClient, off.p.MetadataURL()); strings.Contains(p.body, "device") {
		t.Fatalf("metadata without the device grant: %s", p.body)
	}
}
