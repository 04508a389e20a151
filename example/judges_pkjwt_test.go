package main

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"testing"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/oauthkit/oauthkit/internal/judges"
)

// TestJudgePrivateKeyJWT: oauth4webapi (internal/judges/pkjwt.mjs) gets a
// client_credentials token from the example with private_key_jwt, for a
// client of the -clients file holding the public half of a key generated
// here, calls /api/data with it, introspects and revokes it with fresh
// assertions, and sees a reused jti and an explicitly typed assertion for
// the token endpoint refused.
func TestJudgePrivateKeyJWT(t *testing.T) {
	node := judges.Require(t)
	for _, alg := range []string{"ES256", "EdDSA"} {
		t.Run(alg, func(t *testing.T) {
			var priv crypto.Signer
			var err error
			if alg == "ES256" {
				priv, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
			} else {
				_, priv, err = ed25519.GenerateKey(rand.Reader)
			}
			if err != nil {
				t.Fatal(err)
			}
			public, _ := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: priv.Public(), KeyID: "judge-" + alg, Algorithm: alg, Use: "sig"}}})
			private, _ := json.Marshal(jose.JSONWebKey{Key: priv, KeyID: "judge-" + alg, Algorithm: alg})
			path := filepath.Join(t.TempDir(), "clients.json")
			file := `[{"client_id": "judge-service", "token_endpoint_auth_method": "private_key_jwt", "jwks": ` + string(public) + `,
			  "grant_types": ["client_credentials"], "scope": "read"}]`
			if err := os.WriteFile(path, []byte(file), 0o600); err != nil {
				t.Fatal(err)
			}
			base, _ := startExample(t, "-clients", path)
			raw := judges.Run(t.Context(), t, node, "pkjwt.mjs", "ISSUER="+base, "CLIENT_ID=judge-service", "CLIENT_JWK="+string(private))
			var out struct {
				Methods, Algs []string
				TokenType     string `json:"token_type"`
				Scope         string
				API           struct{ Status int }
				Introspection struct {
					Active   bool
					ClientID string `json:"client_id"`
				}
				AfterRevocation int    `json:"after_revocation"`
				FixedJTIFirst   string `json:"fixed_jti_first"`
				FixedJTIAgain   string `json:"fixed_jti_again"`
				TypedTokenEP    string `json:"typed_token_endpoint"`
			}
			if err := json.Unmarshal(raw, &out); err != nil {
				t.Fatalf("%v: %s", err, raw)
			}
			switch {
			case !slices.Contains(out.Methods, "private_key_jwt") || !slices.Contains(out.Algs, alg):
				t.Errorf("metadata as oauth4webapi read it: %v %v", out.Methods, out.Algs)
			case out.TokenType != "bearer" && out.TokenType != "Bearer" || out.Scope != "read":
				t.Errorf("token: %+v", out)
			case out.API.Status != 200:
				t.Errorf("/api/data: %d", out.API.Status)
			case !out.Introspection.Active || out.Introspection.ClientID != "judge-service":
				t.Errorf("introspection: %+v", out.Introspection)
			case out.AfterRevocation != 401:
				t.Errorf("after revocation: %d", out.AfterRevocation)
			case out.FixedJTIFirst != "accepted" || out.FixedJTIAgain != "invalid_client":
				t.Errorf("one jti twice: %q then %q, want accepted then invalid_client", out.FixedJTIFirst, out.FixedJTIAgain)
			case out.TypedTokenEP != "invalid_client":
				t.Errorf("typed assertion for the token endpoint: %q", out.TypedTokenEP)
			}
			t.Logf("oauth4webapi: %s", raw)
		})
	}
}
