package main

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	josejwt "github.com/go-jose/go-jose/v4/jwt"
)

// goClient is a DPoP client written on go-jose alone, as a Go program
// outside this project would write one (it shares no code with the
// server's proof checks or their test helpers): an ES256 key, proofs with
// the key embedded, typ dpop+jwt, a fresh jti each.
type goClient struct {
	signer jose.Signer
	jkt    string
}

func newGoClient(t *testing.T) *goClient {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: key},
		(&jose.SignerOptions{EmbedJWK: true}).WithType("dpop+jwt"))
	if err != nil {
		t.Fatal(err)
	}
	jwk := jose.JSONWebKey{Key: key.Public()}
	tp, err := jwk.Thumbprint(crypto.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	return &goClient{signer: s, jkt: base64.RawURLEncoding.EncodeToString(tp)}
}

// proof returns a proof for htm and htu, with the ath of token if set;
// edit may change the claims first.
func (c *goClient) proof(t *testing.T, htm, htu, token string, edit func(map[string]any)) string {
	t.Helper()
	jti := make([]byte, 16)
	_, _ = rand.Read(jti)
	claims := map[string]any{"jti": base64.RawURLEncoding.EncodeToString(jti), "htm": htm, "htu": htu, "iat": time.Now().Unix()}
	if token != "" {
		sum := sha256.Sum256([]byte(token))
		claims["ath"] = base64.RawURLEncoding.EncodeToString(sum[:])
	}
	if edit != nil {
		edit(claims)
	}
	raw, err := josejwt.Signed(c.signer).Claims(claims).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// send makes a request with the given Authorization and DPoP headers.
func send(t *testing.T, method, u, auth, dpop string, form url.Values) (int, http.Header, map[string]any) {
	t.Helper()
	var body *strings.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	} else {
		body = strings.NewReader("")
	}
	req, err := http.NewRequest(method, u, body)
	if err != nil {
		t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	if dpop != "" {
		req.Header.Set("DPoP", dpop)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(res.Body).Decode(&out)
	return res.StatusCode, res.Header, out
}

var serviceSecretRE = regexp.MustCompile(`(?m)^  demo-service .* secret=(okcs_\S+)`)

func basic(id, secret string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(id)+":"+url.QueryEscape(secret)))
}

// TestDPoPContract is the example's DPoP contract, driven by the go-jose
// client: the token endpoint with a DPoP header answers token_type DPoP;
// /api/data takes the token with the DPoP scheme and a valid proof, and
// refuses it as Bearer, and refuses with WWW-Authenticate: DPoP
// error="invalid_dpop_proof" a replayed proof, one from another key, wrong
// htm or htu, a stale iat and a missing ath; the metadata lists
// dpop_signing_alg_values_supported with ES256; with -access-token jwt the
// token carries cnf.jkt, and introspection shows cnf.
func TestDPoPContract(t *testing.T) {
	for _, format := range []string{"opaque", "jwt"} {
		t.Run(format, func(t *testing.T) {
			base, stdout := startExample(t, "-access-token", format)
			m := serviceSecretRE.FindStringSubmatch(stdout.String())
			rs := regexp.MustCompile(`(?m)^  demo-resource .* secret=(okcs_\S+)`).FindStringSubmatch(stdout.String())
			if m == nil || rs == nil {
				t.Fatalf("no secrets in the banner:\n%s", stdout)
			}
			c := newGoClient(t)
			tokenURL, api := base+"/oauth/token", base+"/api/data"
			status, _, tok := send(t, "POST", tokenURL, basic("demo-service", m[1]), c.proof(t, "POST", tokenURL, "", nil),
				url.Values{"grant_type": {"client_credentials"}, "scope": {"read"}})
			at, _ := tok["access_token"].(string)
			if status != 200 || tok["token_type"] != "DPoP" || at == "" {
				t.Fatalf("token request with DPoP: %d %v", status, tok)
			}
			if format == "jwt" {
				payload, _ := base64.RawURLEncoding.DecodeString(strings.Split(at, ".")[1])
				var cl struct {
					Cnf struct {
						JKT string `json:"jkt"`
					} `json:"cnf"`
				}
				if json.Unmarshal(payload, &cl) != nil || cl.Cnf.JKT != c.jkt {
					t.Fatalf("JWT payload %s: want cnf.jkt %s", payload, c.jkt)
				}
			}
			status, _, in := send(t, "POST", base+"/oauth/introspect", basic("demo-resource", rs[1]), "", url.Values{"token": {at}})
			cnf, _ := in["cnf"].(map[string]any)
			if status != 200 || in["active"] != true || cnf["jkt"] != c.jkt || in["token_type"] != "DPoP" {
				t.Fatalf("introspection: %d %v", status, in)
			}

			if status, _, body := send(t, "GET", api, "DPoP "+at, c.proof(t, "GET", api, at, nil), nil); status != 200 || body["data"] == nil {
				t.Fatalf("DPoP request: %d %v", status, body)
			}
			if status, hdr, _ := send(t, "GET", api, "Bearer "+at, "", nil); status != 401 || !strings.Contains(hdr.Get("WWW-Authenticate"), `error="invalid_token"`) {
				t.Fatalf("the bound token as Bearer: %d %q", status, hdr.Get("WWW-Authenticate"))
			}
			replayed := c.proof(t, "GET", api, at, nil)
			if status, _, _ := send(t, "GET", api, "DPoP "+at, replayed, nil); status != 200 {
				t.Fatalf("first use: %d", status)
			}
			for name, proof := range map[string]string{
				"replayed proof":     replayed,
				"another key":        newGoClient(t).proof(t, "GET", api, at, nil),
				"wrong htm":          c.proof(t, "POST", api, at, nil),
				"wrong htu":          c.proof(t, "GET", base+"/api/me", at, nil),
				"stale iat":          c.proof(t, "GET", api, at, func(m map[string]any) { m["iat"] = time.Now().Add(-10 * time.Minute).Unix() }),
				"missing ath":        c.proof(t, "GET", api, "", nil),
				"token's proof only": c.proof(t, "POST", tokenURL, "", nil),
			} {
				status, hdr, _ := send(t, "GET", api, "DPoP "+at, proof, nil)
				ch := hdr.Get("WWW-Authenticate")
				if status != 401 || !strings.HasPrefix(ch, "DPoP ") || !strings.Contains(ch, `error="invalid_dpop_proof"`) {
					t.Errorf("%s: %d %q, want 401 DPoP error=\"invalid_dpop_proof\"", name, status, ch)
				}
			}
			status, _, md := send(t, "GET", base+"/.well-known/oauth-authorization-server", "", "", nil)
			algs, _ := md["dpop_signing_alg_values_supported"].([]any)
			if status != 200 || !slices.Contains(algs, any("ES256")) {
				t.Fatalf("metadata: %d dpop_signing_alg_values_supported %v", status, algs)
			}
		})
	}
}

// TestDPoPBoundClientFromFile: a -clients entry with
// dpop_bound_access_tokens gets tokens only with a DPoP proof.
func TestDPoPBoundClientFromFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "clients.json")
	secret := strings.Repeat("s", 40)
	err := os.WriteFile(path, []byte(`[{"client_id": "dpop-svc", "client_secret": "`+secret+`", "grant_types": ["client_credentials"],
		"scope": "read", "dpop_bound_access_tokens": true}]`), 0o600)
	if err != nil {
		t.Fatal(err)
	}
	base, _ := startExample(t, "-clients", path)
	tokenURL := base + "/oauth/token"
	form := url.Values{"grant_type": {"client_credentials"}}
	if status, _, body := send(t, "POST", tokenURL, basic("dpop-svc", secret), "", form); status != 400 || body["error"] != "invalid_dpop_proof" {
		t.Fatalf("without a proof: %d %v", status, body)
	}
	c := newGoClient(t)
	if status, _, body := send(t, "POST", tokenURL, basic("dpop-svc", secret), c.proof(t, "POST", tokenURL, "", nil), form); status != 200 || body["token_type"] != "DPoP" {
		t.Fatalf("with a proof: %d %v", status, body)
	}
}
