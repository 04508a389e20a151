package grant_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"maps"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/oauthkit/oauthkit/grant"
	"github.com/oauthkit/oauthkit/store"
	"github.com/oauthkit/oauthkit/store/memory"
)

// keyClient is a private_key_jwt client built on go-jose, as a Go client
// library would build one: it signs client assertions (RFC 7523 §2.2)
// with its private key, whose public half the authorization server has
// from the registration's jwks or jwks_uri.
type keyClient struct {
	id  string
	alg jose.SignatureAlgorithm
	key crypto.Signer
	kid string
}

var testRSAKey = func() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
}()

func newKeyClient(t testing.TB, id string, alg jose.SignatureAlgorithm, kid string) *keyClient {
	t.Helper()
	var key crypto.Signer
	var err error
	switch alg {
	case jose.EdDSA:
		_, key, err = ed25519.GenerateKey(rand.Reader)
	case jose.ES256:
		key, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case jose.RS256, jose.PS256:
		key = testRSAKey // RSA key generation is slow; tests share one
	default:
		t.Fatalf("no key for %s", alg)
	}
	if err != nil {
		t.Fatal(err)
	}
	return &keyClient{id: id, alg: alg, key: key, kid: kid}
}

// jwk is the client's public key as it registers it.
func (k *keyClient) jwk() jose.JSONWebKey {
	j := jose.JSONWebKey{Key: k.key.Public(), KeyID: k.kid, Use: "sig"}
	if k.alg == jose.PS256 {
		j.Algorithm = string(jose.PS256)
	}
	return j
}

// jwks returns the JWK set of the given clients' public keys.
func jwks(t testing.TB, clients ...*keyClient) []byte {
	t.Helper()
	var set jose.JSONWebKeySet
	for _, k := range clients {
		set.Keys = append(set.Keys, k.jwk())
	}
	b, err := json.Marshal(set)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// registration is the store.Client of k with its keys inline.
func (k *keyClient) registration(t testing.TB, keys ...*keyClient) *store.Client {
	if len(keys) == 0 {
		keys = []*keyClient{k}
	}
	return &store.Client{
		ID: k.id, AuthMethod: store.AuthPrivateKeyJWT, JWKS: jwks(t, keys...),
		GrantTypes: []string{store.GrantClientCredentials}, Scopes: []string{"read"},
	}
}

// claims are the claims of a good assertion at issuer iss, now.
func (k *keyClient) claims(iss string, now time.Time) map[string]any {
	var jti [16]byte
	_, _ = rand.Read(jti[:])
	return map[string]any{
		"iss": k.id, "sub": k.id, "aud": iss,
		"iat": now.Unix(), "exp": now.Add(time.Minute).Unix(),
		"jti": base64.RawURLEncoding.EncodeToString(jti[:]),
	}
}

// sign signs claims with k's key, kid and alg in the header, plus extra
// header members.
func (k *keyClient) sign(t testing.TB, claims map[string]any, extra map[jose.HeaderKey]any) string {
	t.Helper()
	opts := &jose.SignerOptions{}
	if k.kid != "" {
		opts = opts.WithHeader("kid", k.kid)
	}
	for h, v := range extra {
		opts = opts.WithHeader(h, v)
	}
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: k.alg, Key: k.key}, opts)
	if err != nil {
		t.Fatal(err)
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	obj, err := s.Sign(payload)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := obj.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// assertion is a good assertion of k for e, with the claims changed by
// edit (a nil value removes a claim).
func (k *keyClient) assertion(e *epServer, edit map[string]any) string {
	e.t.Helper()
	c := k.claims(e.p.Issuer(), e.clock.Now())
	maps.Copy(c, edit)
	maps.DeleteFunc(c, func(_ string, v any) bool { return v == nil })
	return k.sign(e.t, c, nil)
}

// withClients registers clients in the epServer's memory store.
func withClients(t testing.TB, clients ...*store.Client) func(*grant.Config) {
	return func(c *grant.Config) {
		st := c.Clients.(*memory.Store)
		for _, cl := range clients {
			if err := st.CreateClient(context.Background(), cl); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// assertionForm is the token request of client_credentials with a client
// assertion, plus extra parameters.
func assertionForm(assertion string, extra url.Values) url.Values {
	form := url.Values{
		"grant_type":            {"client_credentials"},
		"client_assertion_type": {grant.AssertionTypeJWTBearer},
		"client_assertion":      {assertion},
	}
	for k, v := range extra {
		form[k] = v
	}
	maps.DeleteFunc(form, func(_ string, v []string) bool { return len(v) == 0 || v[0] == "" })
	return form
}

// postAt sends form to path from the given address (X-Test-Addr, read by
// the epServer's ClientAddr when set so), with an optional editor.
func (e *epServer) postForm(path string, form url.Values, edit func(*http.Request)) epResponse {
	e.t.Helper()
	req, err := http.NewRequest(http.MethodPost, e.srv.URL+path, strings.NewReader(form.Encode()))
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if edit != nil {
		edit(req)
	}
	return e.send(req)
}

// assertionToken asks for a client_credentials token with assertion.
func (e *epServer) assertionToken(assertion string, extra url.Values) epResponse {
	e.t.Helper()
	return e.postForm(e.p.Endpoints().Token, assertionForm(assertion, extra), nil)
}

func wantInvalidClient(t *testing.T, name string, r epResponse) {
	t.Helper()
	if r.status != http.StatusUnauthorized || r.body["error"] != grant.CodeInvalidClient {
		t.Errorf("%s: %d %v, want 401 invalid_client", name, r.status, r.body)
	}
}
