package grant_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"net/http"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	josejwt "github.com/go-jose/go-jose/v4/jwt"
	"golang.org/x/oauth2"

	"github.com/oauthkit/oauthkit/grant"
	"github.com/oauthkit/oauthkit/middleware"
	"github.com/oauthkit/oauthkit/store"
	"github.com/oauthkit/oauthkit/store/memory"
)

// The tokens are signed with go-jose (grant/sign.go) and verified here
// against the key set the JWKS endpoint publishes: with go-jose's JWT
// package, with the standard library's crypto alone (verifyStdlib, an
// implementation independent of go-jose), and with middleware's
// JWKSValidator, as a resource server would.

func withJWT(t *testing.T, alg string) (func(*grant.Config), grant.SigningKey) {
	t.Helper()
	k, err := grant.GenerateSigningKey(alg)
	if err != nil {
		t.Fatal(err)
	}
	return func(c *grant.Config) {
		c.AccessTokenFormat = grant.FormatJWT
		c.SigningKeys = []grant.SigningKey{k}
	}, k
}

func (e *epServer) jwks() jose.JSONWebKeySet {
	e.t.Helper()
	res, err := http.Get(e.srv.URL + e.p.Endpoints().JWKS)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	var set jose.JSONWebKeySet
	if err := json.NewDecoder(res.Body).Decode(&set); err != nil {
		e.t.Fatal(err)
	}
	return set
}

// rfc9068 are the claims RFC 9068 §2.2 requires, as go-jose reads them.
type rfc9068 struct {
	josejwt.Claims
	ClientID string `json:"client_id"`
	Scope    string `json:"scope"`
}

func (e *epServer) verifyJOSE(raw string) (rfc9068, jose.Header) {
	e.t.Helper()
	tok, err := josejwt.ParseSigned(raw, []jose.SignatureAlgorithm{jose.EdDSA, jose.ES256, jose.RS256})
	if err != nil {
		e.t.Fatalf("go-jose cannot parse the token: %v", err)
	}
	h := tok.Headers[0]
	set := e.jwks()
	keys := set.Key(h.KeyID)
	if len(keys) != 1 {
		e.t.Fatalf("kid %q: %d keys in the JWKS", h.KeyID, len(keys))
	}
	var cl rfc9068
	if err := tok.Claims(keys[0].Key, &cl); err != nil {
		e.t.Fatalf("go-jose rejects the signature: %v", err)
	}
	verifyStdlib(e.t, raw, h.Algorithm, keys[0].Key)
	return cl, h
}

// verifyStdlib checks a compact JWS's signature with crypto/* alone (RFC
// 7515 §5.2, RFC 7518 §3.3-3.4, RFC 8037 §3.1).
func verifyStdlib(t *testing.T, raw, alg string, key any) {
	t.Helper()
	i := strings.LastIndexByte(raw, '.')
	input := []byte(raw[:i])
	sig, err := base64.RawURLEncoding.Strict().DecodeString(raw[i+1:])
	if err != nil {
		t.Fatalf("signature encoding: %v", err)
	}
	h := sha256.Sum256(input)
	ok := false
	switch k := key.(type) {
	case ed25519.PublicKey:
		ok = alg == "EdDSA" && ed25519.Verify(k, input, sig)
	case *ecdsa.PublicKey:
		ok = alg == "ES256" && len(sig) == 64 &&
			ecdsa.Verify(k, h[:], new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:]))
	case *rsa.PublicKey:
		ok = alg == "RS256" && rsa.VerifyPKCS1v15(k, crypto.SHA256, h[:], sig) == nil
	}
	if !ok {
		t.Fatalf("%s signature does not verify with the standard library (key %T)", alg, key)
	}
}

func TestJWTAccessTokensVerifiedByGoJOSE(t *testing.T) {
	for _, alg := range []string{grant.AlgEdDSA, grant.AlgES256, grant.AlgRS256} {
		t.Run(alg, func(t *testing.T) {
			opt, key := withJWT(t, alg)
			e := newEPServer(t, opt)
			now := e.clock.Now()
			user := e.userToken(epApp)
			cl, h := e.verifyJOSE(user.AccessToken)
			if h.Algorithm != alg || h.KeyID != key.ID || h.ExtraHeaders["typ"] != "at+jwt" {
				t.Errorf("header alg=%s kid=%s typ=%v", h.Algorithm, h.KeyID, h.ExtraHeaders["typ"])
			}
			err := cl.Claims.ValidateWithLeeway(josejwt.Expected{
				Issuer: e.srv.URL, Subject: "1", AnyAudience: josejwt.Audience{"https://api.example.com"}, Time: now,
			}, 0)
			if err != nil {
				t.Error(err)
			}
			if cl.ClientID != epApp || cl.Scope != "read write" || len(cl.ID) < 43 ||
				!cl.IssuedAt.Time().Equal(now) || !cl.Expiry.Time().Equal(now.Add(time.Hour)) {
				t.Errorf("claims %+v", cl)
			}
			// client_credentials: the client is the subject (RFC 9068 §2.2),
			// in its own namespace (§5)
			svc := e.clientToken(epSvc, "read")
			if cl, _ := e.verifyJOSE(svc.AccessToken); cl.Subject != grant.ClientSubjectPrefix+epSvc || cl.ClientID != epSvc || cl.Scope != "read" {
				t.Errorf("client_credentials claims %+v", cl)
			}
			// the Provider accepts its own JWTs, and introspection reports the jti
			if got := e.api(svc.AccessToken); got != http.StatusOK {
				t.Errorf("api: %d", got)
			}
			if r := e.introspect(epRS, user.AccessToken); r.body["active"] != true || r.body["jti"] != cl.ID {
				t.Errorf("introspection %v, jti %s", r.body, cl.ID)
			}
			tok, err := e.p.ValidateToken(context.Background(), user.AccessToken)
			if err != nil || tok.ID != cl.ID || tok.Subject != "1" || tok.Audience[0] != "https://api.example.com" {
				t.Errorf("ValidateToken: %+v %v", tok, err)
			}
		})
	}
}

// RFC 9068 §5: a user whose ID is a client's ID holds tokens that no
// resource server can take for that client's own — not by sub, not by
// introspection, not through the JWKS validator.
func TestJWTClientSubjectNamespace(t *testing.T) {
	for _, alg := range []string{grant.AlgEdDSA, grant.AlgES256} {
		t.Run(alg, func(t *testing.T) {
			opt, _ := withJWT(t, alg)
			e := newEPServer(t, opt, func(c *grant.Config) {
				if err := c.Users.(*memory.Store).AddUser(epSvc, "svcuser", "password2"); err != nil {
					t.Fatal(err)
				}
			})
			app := oauth2.Config{ClientID: epApp, ClientSecret: e.secrets[epApp], Endpoint: oauth2.Endpoint{TokenURL: e.srv.URL + e.p.Endpoints().Token, AuthStyle: oauth2.AuthStyleInHeader}}
			user, err := app.PasswordCredentialsToken(context.Background(), "svcuser", "password2")
			if err != nil {
				t.Fatal(err)
			}
			client := e.clientToken(epSvc, "read")
			ucl, _ := e.verifyJOSE(user.AccessToken)
			ccl, _ := e.verifyJOSE(client.AccessToken)
			if ucl.Subject != epSvc || ccl.Subject == ucl.Subject || ccl.Subject != grant.ClientSubjectPrefix+epSvc {
				t.Errorf("user %q's token has sub %q, client %q's has sub %q", epSvc, ucl.Subject, epSvc, ccl.Subject)
			}
			if r := e.introspect(epRS, client.AccessToken); r.body["active"] != true || r.body["sub"] != nil {
				t.Errorf("introspection of the client's token: %v", r.body)
			}
			if r := e.introspect(epRS, user.AccessToken); r.body["sub"] != epSvc {
				t.Errorf("introspection of the user's token: %v", r.body)
			}
			v, err := middleware.NewJWKSValidator(middleware.JWKSConfig{
				URL: e.srv.URL + e.p.Endpoints().JWKS, Issuer: e.srv.URL, Audience: "https://api.example.com", Now: e.clock.Now,
			})
			if err != nil {
				t.Fatal(err)
			}
			for name, c := range map[string]struct{ raw, clientID, subject string }{
				"user":   {user.AccessToken, epApp, epSvc},
				"client": {client.AccessToken, epSvc, ""},
			} {
				remote, err := v.ValidateToken(context.Background(), c.raw)
				if err != nil || remote.Subject != c.subject || remote.ClientID != c.clientID {
					t.Errorf("JWKS validator, %s token: %+v %v", name, remote, err)
				}
				local, err := e.p.ValidateToken(context.Background(), c.raw)
				if err != nil || local.Subject != c.subject || local.ClientID != c.clientID {
					t.Errorf("ValidateToken, %s token: %+v %v", name, local, err)
				}
			}
		})
	}
}

func TestJWTRevocationHonouredLocally(t *testing.T) {
	opt, _ := withJWT(t, grant.AlgEdDSA)
	e := newEPServer(t, opt)
	tok := e.userToken(epApp)
	if got := e.api(tok.AccessToken); got != 200 {
		t.Fatalf("api: %d", got)
	}
	if r := e.revoke(epApp, tok.RefreshToken, "refresh_token"); r.status != 200 {
		t.Fatalf("revoke: %d", r.status)
	}
	if got := e.api(tok.AccessToken); got != http.StatusUnauthorized {
		t.Errorf("api after revoking the grant: %d, want 401", got)
	}
	if r := e.introspect(epRS, tok.AccessToken); r.body["active"] != false {
		t.Errorf("introspection after revocation: %v", r.body)
	}
	// a JWT with a valid signature but unknown to the store: refused
	other := e.clientToken(epSvc, "read")
	parts := strings.Split(other.AccessToken, ".")
	if got := e.api(parts[0] + "." + parts[1] + "x." + parts[2]); got != http.StatusUnauthorized {
		t.Errorf("altered JWT: %d", got)
	}
}

func TestJWTKeyRotation(t *testing.T) {
	opt, oldKey := withJWT(t, grant.AlgEdDSA)
	e := newEPServer(t, opt)
	old := e.clientToken(epSvc, "read")
	newKey, err := grant.GenerateSigningKey(grant.AlgES256)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.p.SetSigningKeys(newKey, oldKey); err != nil {
		t.Fatal(err)
	}
	if n := len(e.jwks().Keys); n != 2 {
		t.Fatalf("JWKS has %d keys, want current and previous", n)
	}
	fresh := e.clientToken(epSvc, "read")
	if _, h := e.verifyJOSE(fresh.AccessToken); h.KeyID != newKey.ID {
		t.Errorf("new token signed by %s", h.KeyID)
	}
	e.verifyJOSE(old.AccessToken)
	if e.api(old.AccessToken) != 200 || e.api(fresh.AccessToken) != 200 {
		t.Fatal("a live token was invalidated by the rotation")
	}
	if err := e.p.SetSigningKeys(newKey); err != nil {
		t.Fatal(err)
	}
	if got := e.api(old.AccessToken); got != http.StatusUnauthorized {
		t.Errorf("token of a withdrawn key: %d, want 401", got)
	}
	req, _ := http.NewRequest(http.MethodGet, e.srv.URL+grant.MetadataPath, nil)
	if r := e.send(req); r.body["jwks_uri"] != e.srv.URL+"/.well-known/jwks.json" {
		t.Errorf("jwks_uri = %v", r.body["jwks_uri"])
	}
}

func TestJWTConfigErrors(t *testing.T) {
	k, _ := grant.GenerateSigningKey(grant.AlgEdDSA)
	st := newMemoryForConfig()
	for name, cfg := range map[string]grant.Config{
		"no audience": {AccessTokenFormat: grant.FormatJWT, SigningKeys: []grant.SigningKey{k}},
		"no keys":     {AccessTokenFormat: grant.FormatJWT, Audience: []string{"a"}},
		"no kid":      {AccessTokenFormat: grant.FormatJWT, Audience: []string{"a"}, SigningKeys: []grant.SigningKey{{Key: k.Key}}},
		"two kids":    {AccessTokenFormat: grant.FormatJWT, Audience: []string{"a"}, SigningKeys: []grant.SigningKey{k, k}},
		"format":      {AccessTokenFormat: "jwe"},
	} {
		cfg.Issuer, cfg.Clients, cfg.Tokens = "https://as.example.com", st, st
		if _, err := grant.NewProvider(cfg); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, err := grant.GenerateSigningKey("HS256"); err == nil {
		t.Error("HS256 key generated")
	}
}

func newMemoryForConfig() interface {
	store.ClientStore
	store.TokenStore
} {
	return newEPMemory()
}
