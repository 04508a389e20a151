package grant

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"unicode/utf8"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/oauthkit/oauthkit/store"
)

// TestXOAuth2AutoDetectNeverLocksOut: golang.org/x/oauth2's default
// AuthStyleAutoDetect tries HTTP Basic first and the form body second. A
// fresh Config probes again every time, so a server that counted the probe
// as a wrong secret locked a client_secret_post client out after a few
// Configs (issue 9, item 1). Twenty fresh Configs in a row must all get a
// token, for either registered method.
func TestXOAuth2AutoDetectNeverLocksOut(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	for _, id := range []string{postClient, svcClient} {
		for i := range 20 {
			cc := clientcredentials.Config{ClientID: id, ClientSecret: f.secrets[id], TokenURL: f.srv.URL + "/oauth/token", Scopes: []string{"read"}}
			tok, err := cc.Token(ctx)
			if err != nil {
				t.Fatalf("%s: fresh Config %d: %v", id, i+1, err)
			}
			if s := f.api(tok.AccessToken); s != 200 {
				t.Fatalf("%s: /api/data: %d", id, s)
			}
		}
	}
}

// TestClientAuthEitherMethod: a confidential client may authenticate with
// client_secret_basic or client_secret_post, whichever it sends, as the
// common client libraries choose differently (x/oauth2 AuthStyleInHeader
// and AuthStyleInParams, openid-client's client_secret_post default,
// oauth4webapi's ClientSecretBasic, curl -u). Strict binding to the
// registered method is opt-in per client and per provider, and a correct
// secret sent by the other method is refused without counting as a failure.
func TestClientAuthEitherMethod(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	for _, c := range []struct {
		id    string
		style oauth2.AuthStyle
	}{
		{svcClient, oauth2.AuthStyleInParams}, {svcClient, oauth2.AuthStyleInHeader},
		{postClient, oauth2.AuthStyleInHeader}, {postClient, oauth2.AuthStyleInParams},
	} {
		cc := clientcredentials.Config{ClientID: c.id, ClientSecret: f.secrets[c.id], TokenURL: f.srv.URL + "/oauth/token", AuthStyle: c.style}
		if _, err := cc.Token(ctx); err != nil {
			t.Errorf("%s with auth style %d: %v", c.id, c.style, err)
		}
	}
	// curl -u id:secret sends the values as they are.
	if r := f.do("POST", "/oauth/token", "application/x-www-form-urlencoded", "grant_type=client_credentials", func(r *http.Request) {
		r.SetBasicAuth(postClient, f.secrets[postClient])
	}); r.status != 200 {
		t.Errorf("curl -u against a client_secret_post client: %d %s", r.status, r.raw)
	}

	// Strict per client.
	secret, hash, err := NewClientSecret()
	if err != nil {
		t.Fatal(err)
	}
	strict := &store.Client{ID: "strict", AuthMethod: store.AuthSecretPost, StrictAuthMethod: true, SecretHash: hash, GrantTypes: []string{store.GrantClientCredentials}}
	if err := f.st.CreateClient(ctx, strict); err != nil {
		t.Fatal(err)
	}
	checkStrict(t, f, "strict", secret, store.AuthSecretPost)

	// Strict for every client of the provider.
	g := newFixture(t, func(c *Config) { c.ClientAuth.StrictMethod = true })
	checkStrict(t, g, svcClient, g.secrets[svcClient], store.AuthSecretBasic)
	checkStrict(t, g, postClient, g.secrets[postClient], store.AuthSecretPost)
}

// checkStrict: the registered method works, the other is refused however
// often it is tried with the right secret, and the client is not locked out
// by those tries; x/oauth2's auto-detection still finds its way.
func checkStrict(t *testing.T, f *fixture, id, secret, method string) {
	t.Helper()
	ctx := context.Background()
	other, good := oauth2.AuthStyleInHeader, oauth2.AuthStyleInParams
	if method == store.AuthSecretBasic {
		other, good = good, other
	}
	cc := clientcredentials.Config{ClientID: id, ClientSecret: secret, TokenURL: f.srv.URL + "/oauth/token", AuthStyle: other}
	for range 3 * pairAttempts.Burst {
		if _, err := cc.Token(ctx); err == nil {
			t.Fatalf("%s: strict client accepted with the other method", id)
		}
	}
	cc.AuthStyle = good
	if _, err := cc.Token(ctx); err != nil {
		t.Fatalf("%s: registered method after tries with the other: %v", id, err)
	}
	cc.AuthStyle = oauth2.AuthStyleAutoDetect
	for range 10 {
		if _, err := (&clientcredentials.Config{ClientID: id, ClientSecret: secret, TokenURL: cc.TokenURL}).Token(ctx); err != nil {
			t.Fatalf("%s: auto-detect against a strict client: %v", id, err)
		}
	}
}

// oauth4webapiEncode is oauth4webapi's and openid-client's formUrlEncode for
// client_secret_basic: encodeURIComponent, then "-_.!~*'()" percent-encoded
// too and %20 as '+'.
func oauth4webapiEncode(s string) string {
	var b strings.Builder
	for _, c := range []byte(url.QueryEscape(s)) { // encodeURIComponent, with '+' for spaces
		if strings.IndexByte("-_.!~*'()", c) >= 0 {
			fmt.Fprintf(&b, "%%%02X", c)
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

// TestClientAuthBasicEncoding: RFC 6749 §2.3.1 has the client ID and secret
// form-encoded before Basic encoding; curl and many clients do not encode.
// Either form is accepted, whichever the bytes mean (issue 9, item 2).
func TestClientAuthBasicEncoding(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	for _, c := range []struct{ id, secret string }{
		{"svc+1%2", "p%41ss+wörd:x"},
		{"a:b", "sé cret%"},
		{"plain-id", "100%+real:ünïcode"},
		{"id.with-_~", "%zz+%2"}, // decoding fails: only the raw form means anything
	} {
		cl := &store.Client{ID: c.id, AuthMethod: store.AuthSecretBasic, SecretHash: store.HashSecret(c.secret), GrantTypes: []string{store.GrantClientCredentials}}
		if err := f.st.CreateClient(ctx, cl); err != nil {
			t.Fatal(err)
		}
		send := func(user, pass string) response {
			return f.do("POST", "/oauth/token", "application/x-www-form-urlencoded", "grant_type=client_credentials", func(r *http.Request) {
				r.Header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(user+":"+pass)))
			})
		}
		ways := map[string][2]string{
			"x/oauth2 (QueryEscape)": {url.QueryEscape(c.id), url.QueryEscape(c.secret)},
			"oauth4webapi":           {oauth4webapiEncode(c.id), oauth4webapiEncode(c.secret)},
		}
		if !strings.Contains(c.id, ":") {
			ways["curl -u (raw)"] = [2]string{c.id, c.secret}
			ways["raw id, encoded secret"] = [2]string{c.id, url.QueryEscape(c.secret)}
		}
		for name, w := range ways {
			if r := send(w[0], w[1]); r.status != 200 {
				t.Errorf("%q/%q sent %s: %d %s", c.id, c.secret, name, r.status, r.raw)
			}
		}
		// A wrong secret stays wrong in every form.
		for _, wrong := range []string{c.secret + "x", url.QueryEscape(c.secret) + "x", strings.ToUpper(c.secret)} {
			if r := send(url.QueryEscape(c.id), wrong); r.status != 401 {
				t.Errorf("%q: wrong secret %q accepted: %d", c.id, wrong, r.status)
			}
		}
	}
	cc := clientcredentials.Config{ClientID: "svc+1%2", ClientSecret: "p%41ss+wörd:x", TokenURL: f.srv.URL + "/oauth/token", AuthStyle: oauth2.AuthStyleInHeader}
	if _, err := cc.Token(ctx); err != nil {
		t.Errorf("x/oauth2 with special characters: %v", err)
	}
}

// TestRefusedEventClientIDAsClaimed: a refusal's Event names the client as
// claimed, whatever the method, Basic included (issue 9, item 18).
func TestRefusedEventClientIDAsClaimed(t *testing.T) {
	f := newFixture(t)
	f.post("/oauth/token", url.Values{"grant_type": {"client_credentials"}}, "somebody", "okcs_wrong")
	if e := <-f.events; e.Kind != EventRefused || e.ClientID != "somebody" {
		t.Fatalf("refusal via Basic: %+v, want ClientID as claimed", e)
	}
	f.post("/oauth/token", url.Values{"grant_type": {"client_credentials"}, "client_id": {"other"}, "client_secret": {"x"}}, "", "")
	if e := <-f.events; e.Kind != EventRefused || e.ClientID != "other" {
		t.Fatalf("refusal via the form: %+v", e)
	}
}

// countingClients counts client lookups.
type countingClients struct {
	store.ClientStore
	n atomic.Int64
}

func (c *countingClients) Client(ctx context.Context, id string) (*store.Client, error) {
	c.n.Add(1)
	return c.ClientStore.Client(ctx, id)
}

// TestSyntaxRefusedAtTheEdge: a client_id, username or scope outside RFC 6749
// Appendix A (control characters, NUL, invalid UTF-8) is refused with the
// RFC error before any store is asked (issue 9, item 4). The same against
// PostgreSQL, where NUL used to give 500, is in store/postgres.
func TestSyntaxRefusedAtTheEdge(t *testing.T) {
	clients, users := &countingClients{}, &countingUsers{}
	f := newFixture(t, func(c *Config) {
		clients.ClientStore, c.Clients = c.Clients, clients
		users.UserStore, c.Users = c.Users, users
	})
	clients.n.Store(0) // NewProvider looked up the login client
	bad := []string{"a\x00b", "a\nb", "\x7f", "caf\xe9", "\xff\xfe", "a\tb"}
	for _, id := range bad {
		r := f.post("/oauth/token", url.Values{"grant_type": {"client_credentials"}, "client_id": {id}, "client_secret": {"x"}}, "", "")
		wantError(t, r, 401, CodeInvalidClient)
		r = f.do("POST", "/oauth/token", "application/x-www-form-urlencoded", "grant_type=client_credentials", func(r *http.Request) {
			r.SetBasicAuth(id, "secret") // the raw bytes
		})
		wantError(t, r, 401, CodeInvalidClient)
		// Form-encoded, the bad bytes decode to nothing valid; only the
		// raw reading ("a%00b") is a syntactically valid client ID.
		r = f.post("/oauth/token", url.Values{"grant_type": {"client_credentials"}}, id, "secret")
		wantError(t, r, 401, CodeInvalidClient)
	}
	for _, name := range []string{"a\x00b", "a\nb", "a\rb", "\x01", "caf\xe9", strings.Repeat("u", maxUsernameBytes+1)} {
		form := url.Values{"grant_type": {"password"}, "username": {name}, "password": {"password1"}}
		wantError(t, f.post("/oauth/token", form, appClient, f.secrets[appClient]), 400, CodeInvalidRequest)
		if !utf8.ValidString(name) {
			continue // JSON cannot carry invalid UTF-8: it arrives as U+FFFD
		}
		body, _ := json.Marshal(map[string]string{"username": name, "password": "password1"})
		if r := f.login(string(body), "application/json", ""); r.status != 400 || r.str("error") != CodeInvalidRequest {
			t.Errorf("/login username %.20q: %d %s", name, r.status, r.raw)
		}
	}
	before := clients.n.Load() // the raw readings of the form-encoded IDs above
	if before != int64(len(bad)) {
		t.Errorf("%d client lookups for %d form-encoded bad IDs, want one each, of the raw reading", before, len(bad))
	}
	if users.n != 0 {
		t.Errorf("the user store was asked %d times about malformed usernames", users.n)
	}
	for _, scope := range []string{"read\x00", "re\x01ad", "caf\xe9", `"read"`} {
		form := url.Values{"grant_type": {"client_credentials"}, "scope": {scope}}
		wantError(t, f.post("/oauth/token", form, svcClient, f.secrets[svcClient]), 400, CodeInvalidScope)
	}
	if n := clients.n.Load() - before; n != 0 {
		t.Errorf("the client store was asked %d times about malformed input", n)
	}
}
