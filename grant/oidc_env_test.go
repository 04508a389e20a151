package grant_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/oauthkit/oauthkit/grant"
	"github.com/oauthkit/oauthkit/store"
)

// The relying parties of the OpenID Connect tests.
const (
	rpWeb   = "rp"       // confidential, client_secret_basic, RS256 ID tokens
	rpPost  = "rp-post"  // confidential, client_secret_post
	rpES    = "rp-es"    // confidential, ES256 ID tokens
	rpEd    = "rp-ed"    // confidential, EdDSA ID tokens
	rpFirst = "rp-first" // public, first-party: no consent page
	rpOther = "rp-other" // confidential, a second RP for single sign-on

	rpRedirect = "https://rp.example/cb"
	rpLogout   = "https://rp.example/bye"
)

// rpScopes are what the relying parties may ask for.
var rpScopes = []string{"openid", "profile", "email", "address", "phone", "offline_access", "read"}

// testKeys are the signing keys of the OpenID tests, one per algorithm,
// made once per test binary (an RSA key takes about a second).
var testKeys = sync.OnceValues(func() ([]grant.SigningKey, error) {
	var keys []grant.SigningKey
	for _, alg := range []string{grant.AlgRS256, grant.AlgES256, grant.AlgEdDSA} {
		k, err := grant.GenerateSigningKey(alg)
		if err != nil {
			return nil, err
		}
		keys = append(keys, k)
	}
	return keys, nil
})

func signingKeys(t testing.TB) []grant.SigningKey {
	t.Helper()
	keys, err := testKeys()
	if err != nil {
		t.Fatal(err)
	}
	return keys
}

// userOneClaims are what the host knows of user1.
var userOneClaims = &grant.UserClaims{
	Name: "User One", GivenName: "User", FamilyName: "One", PreferredUsername: "user1",
	Email: "user1@example.com", EmailVerified: true,
	Address:     &grant.Address{Formatted: "1 Main St, Springfield", Country: "US"},
	PhoneNumber: "+1 555 0100", PhoneNumberVerified: false,
}

// newOIDCEnv is newAZEnv with OpenID Connect on and the relying parties
// registered.
func newOIDCEnv(t *testing.T, opts grant.AuthorizeOptions, mutate ...func(*grant.Config)) *azEnv {
	t.Helper()
	keys := signingKeys(t)
	m := append([]func(*grant.Config){func(c *grant.Config) {
		c.SigningKeys = keys
		c.ScopesSupported = rpScopes
		c.OIDC = grant.OIDC{Enabled: true, Claims: func(_ context.Context, u *store.User) (*grant.UserClaims, error) {
			if u.ID != "1" {
				return nil, store.ErrNotFound
			}
			return userOneClaims, nil
		}}
	}}, mutate...)
	e := newAZEnv(t, opts, m...)
	if err := e.st.AddUser("2", "user2", "password2"); err != nil {
		t.Fatal(err)
	}
	code := []string{store.GrantAuthorizationCode, store.GrantRefreshToken}
	for _, c := range []*store.Client{
		{ID: rpWeb, Name: "Relying party", AuthMethod: store.AuthSecretBasic, StrictAuthMethod: true},
		{ID: rpPost, Name: "Posting RP", AuthMethod: store.AuthSecretPost, StrictAuthMethod: true},
		{ID: rpES, Name: "ES256 RP", AuthMethod: store.AuthSecretBasic, IDTokenSignedResponseAlg: grant.AlgES256},
		{ID: rpEd, Name: "EdDSA RP", AuthMethod: store.AuthSecretBasic, IDTokenSignedResponseAlg: grant.AlgEdDSA},
		{ID: rpFirst, Name: "First-party RP", AuthMethod: store.AuthNone, FirstParty: true},
		{ID: rpOther, Name: "Other RP", AuthMethod: store.AuthSecretBasic},
	} {
		c.RedirectURIs, c.PostLogoutRedirectURIs, c.GrantTypes, c.Scopes = []string{rpRedirect}, []string{rpLogout}, code, rpScopes
		if c.AuthMethod != store.AuthNone {
			secret, hash, err := grant.NewClientSecret()
			if err != nil {
				t.Fatal(err)
			}
			c.SecretHash, e.secrets[c.ID] = hash, secret
		}
		if err := e.st.CreateClient(context.Background(), c); err != nil {
			t.Fatal(err)
		}
	}
	return e
}

// oidcURL is an OpenID request of client id for scope, with PKCE, state
// "st", and the extra parameters; it returns the URL and the verifier.
func (e *azEnv) oidcURL(id, scope string, extra url.Values) (string, string) {
	verifier := oauth2.GenerateVerifier()
	sum := sha256.Sum256([]byte(verifier))
	q := url.Values{
		"client_id": {id}, "response_type": {"code"}, "redirect_uri": {rpRedirect}, "scope": {scope}, "state": {"st"},
		"code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])}, "code_challenge_method": {"S256"},
	}
	for k, v := range extra {
		q[k] = v
	}
	return e.srv.URL + "/oauth/authorize?" + q.Encode(), verifier
}

// signIn runs the browser part of an OpenID request in browser c (signing
// in as user1 if the login page comes, allowing on the consent page), and
// returns the redirect to the client.
func (e *azEnv) signIn(c *http.Client, authURL string) *url.URL {
	e.t.Helper()
	p := e.get(c, authURL)
	if p.status == http.StatusOK && strings.Contains(p.body, `name="password"`) {
		p = e.login(c, p)
	}
	if p.status == http.StatusOK && strings.Contains(p.body, `value="allow"`) {
		p = e.submit(c, p, url.Values{"consent": {"allow"}})
	}
	return e.redirectTo(p)
}

// tokens is a token response.
type tokens struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
	IDToken      string `json:"id_token"`
	Scope        string `json:"scope"`
	Error        string `json:"error"`
}

// token posts form to the token endpoint as client id: Basic, or the
// secret in the body for client_secret_post, or client_id alone.
func (e *azEnv) token(id string, form url.Values) (int, tokens) {
	e.t.Helper()
	form.Set("client_id", id)
	secret := e.secrets[id]
	if secret != "" && id == rpPost {
		form.Set("client_secret", secret)
	}
	req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/oauth/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if secret != "" && id != rpPost {
		req.SetBasicAuth(id, secret)
	}
	p := e.do(http.DefaultClient, req)
	var out tokens
	if err := json.Unmarshal([]byte(p.body), &out); err != nil {
		e.t.Fatalf("token response %d: %s", p.status, p.body)
	}
	return p.status, out
}

// exchange redeems the code of redirect u for client id.
func (e *azEnv) exchange(id string, u *url.URL, verifier string) tokens {
	e.t.Helper()
	code := u.Query().Get("code")
	if code == "" {
		e.t.Fatalf("no code in %s", u)
	}
	status, tok := e.token(id, url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {rpRedirect}, "code_verifier": {verifier}})
	if status != http.StatusOK {
		e.t.Fatalf("code exchange: %d %+v", status, tok)
	}
	return tok
}

// flow is one whole OpenID request of client id in a new browser.
func (e *azEnv) flow(id, scope string, extra url.Values) tokens {
	e.t.Helper()
	authURL, verifier := e.oidcURL(id, scope, extra)
	return e.exchange(id, e.signIn(e.browser(), authURL), verifier)
}

// verifier is go-oidc's ID token verifier for client id, by discovery, on
// the env's clock.
func (e *azEnv) verifier(id string, algs ...string) *oidc.IDTokenVerifier {
	e.t.Helper()
	p, err := oidc.NewProvider(e.t.Context(), e.srv.URL)
	if err != nil {
		e.t.Fatal(err)
	}
	return p.Verifier(&oidc.Config{ClientID: id, Now: e.clk.Now, SupportedSigningAlgs: algs})
}

// claims decodes a JWT's payload, unverified: tests verify it otherwise.
func claims(t *testing.T, jwt string) map[string]any {
	t.Helper()
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWS: %q", jwt)
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// header decodes a JWT's protected header.
func header(t *testing.T, jwt string) map[string]any {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(strings.Split(jwt, ".")[0])
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// userinfo calls the UserInfo endpoint with req's method, the token in the
// header.
func (e *azEnv) userinfo(method, tok string) (page, map[string]any) {
	e.t.Helper()
	req, _ := http.NewRequest(method, e.srv.URL+"/oauth/userinfo", nil)
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	p := e.do(http.DefaultClient, req)
	var m map[string]any
	_ = json.Unmarshal([]byte(p.body), &m)
	return p, m
}
