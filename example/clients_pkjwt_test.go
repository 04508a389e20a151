package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	josejwt "github.com/go-jose/go-jose/v4/jwt"
)

// TestClientsFilePrivateKeyJWT: a -clients entry may carry jwks with
// token_endpoint_auth_method private_key_jwt; the metadata lists
// private_key_jwt and the signing algorithms; a Go client on go-jose gets
// a client_credentials token with an assertion and calls /api/data.
func TestClientsFilePrivateKeyJWT(t *testing.T) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	set, _ := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: key.Public(), KeyID: "k1", Use: "sig"}}})
	path := filepath.Join(t.TempDir(), "clients.json")
	err = os.WriteFile(path, []byte(`[{"client_id": "keyed", "token_endpoint_auth_method": "private_key_jwt", "jwks": `+string(set)+`,
	  "grant_types": ["client_credentials"], "scope": "read"}]`), 0o600)
	if err != nil {
		t.Fatal(err)
	}
	base, stdout := startExample(t, "-clients", path)
	if !strings.Contains(stdout.String(), "keyed") {
		t.Fatalf("banner:\n%s", stdout)
	}
	_, _, body := call(t, "GET", base+"/.well-known/oauth-authorization-server", "", "", "")
	var md map[string]any
	if err := json.Unmarshal([]byte(body), &md); err != nil {
		t.Fatal(err)
	}
	methods, _ := md["token_endpoint_auth_methods_supported"].([]any)
	algs, _ := md["token_endpoint_auth_signing_alg_values_supported"].([]any)
	if !slices.Contains(methods, any("private_key_jwt")) || !slices.Contains(algs, any("ES256")) {
		t.Fatalf("metadata: methods %v, algs %v", methods, algs)
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: key}, (&jose.SignerOptions{}).WithHeader("kid", "k1").WithType("client-authentication+jwt"))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	assertion, err := josejwt.Signed(signer).Claims(josejwt.Claims{
		Issuer: "keyed", Subject: "keyed", ID: "jti-1", Expiry: josejwt.NewNumericDate(now.Add(time.Minute)),
		IssuedAt: josejwt.NewNumericDate(now),
	}).Claims(map[string]any{"aud": md["issuer"]}).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	form := url.Values{"grant_type": {"client_credentials"}, "client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"}, "client_assertion": {assertion}}
	status, _, body := call(t, "POST", md["token_endpoint"].(string), "application/x-www-form-urlencoded", "", form.Encode())
	var tok tokenJSON
	if err := json.Unmarshal([]byte(body), &tok); status != 200 || err != nil || tok.AccessToken == "" {
		t.Fatalf("token with an assertion: %d %s", status, body)
	}
	if s := apiData(t, base, tok.AccessToken); s != 200 {
		t.Fatalf("/api/data: %d", s)
	}
	if status, _, _ := call(t, "POST", md["token_endpoint"].(string), "application/x-www-form-urlencoded", "", form.Encode()); status != http.StatusUnauthorized {
		t.Errorf("the assertion replayed: %d", status)
	}
}

func TestClientsFilePrivateKeyJWTInvalid(t *testing.T) {
	dir := t.TempDir()
	secret := strings.Repeat("s", 40)
	set := `{"keys": [{"kty": "EC", "crv": "P-256", "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU", "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}]}`
	for name, content := range map[string]string{
		"no keys":           `[{"client_id": "x", "token_endpoint_auth_method": "private_key_jwt", "grant_types": ["client_credentials"]}]`,
		"keys and a secret": `[{"client_id": "x", "token_endpoint_auth_method": "private_key_jwt", "client_secret": "` + secret + `", "jwks": ` + set + `, "grant_types": ["client_credentials"]}]`,
		"keys for a secret": `[{"client_id": "x", "token_endpoint_auth_method": "client_secret_basic", "client_secret": "` + secret + `", "jwks": ` + set + `, "grant_types": ["client_credentials"]}]`,
		"jwks not a set":    `[{"client_id": "x", "token_endpoint_auth_method": "private_key_jwt", "jwks": {"kty": "EC"}, "grant_types": ["client_credentials"]}]`,
		"jwks and jwks_uri": `[{"client_id": "x", "token_endpoint_auth_method": "private_key_jwt", "jwks": ` + set + `, "jwks_uri": "https://keys.example/jwks", "grant_types": ["client_credentials"]}]`,
		"jwks_uri http":     `[{"client_id": "x", "token_endpoint_auth_method": "private_key_jwt", "jwks_uri": "http://keys.example/jwks", "grant_types": ["client_credentials"]}]`,
		"signing alg none":  `[{"client_id": "x", "token_endpoint_auth_method": "private_key_jwt", "jwks": ` + set + `, "token_endpoint_auth_signing_alg": "none", "grant_types": ["client_credentials"]}]`,
	} {
		path := filepath.Join(dir, strings.ReplaceAll(name, " ", "_")+".json")
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		var stdout, stderr bytes.Buffer
		code := run(context.Background(), []string{"-addr", "127.0.0.1:0", "-clients", path}, &stdout, &stderr)
		if code != 2 || !strings.Contains(stderr.String(), "-clients") {
			t.Errorf("%s: exit %d, stderr %q", name, code, stderr.String())
		}
	}
}
