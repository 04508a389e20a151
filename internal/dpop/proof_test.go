package dpop

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/oauthkit/oauthkit/internal/dpop/dpoptest"
	"github.com/oauthkit/oauthkit/internal/replay"
)

const (
	asURL = "https://server.example.com/oauth/token"
	rsURL = "https://resource.example.org/api/data"
	token = "okt_access-token-value"
)

func clockAt(t time.Time) func() time.Time { return func() time.Time { return t } }

// newVerifier returns a Verifier on its own replay cache, at t0.
func newVerifier(t *testing.T, mutate ...func(*Config)) *Verifier {
	t.Helper()
	cfg := Config{Replay: replay.New(0, clockAt(t0)), Now: clockAt(t0)}
	for _, m := range mutate {
		m(&cfg)
	}
	v, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// proofCase is a request whose proof breaks one rule.
type proofCase struct {
	name string
	// skip is the check (or checks) that refuse it: with them off, the
	// proof is accepted, which shows that the case tests that check. Zero
	// for rules that go-jose or the syntax enforce whatever the checks.
	skip   check
	cfg    func(*Config)
	header func(t *testing.T) []string
	req    Request
	want   error // ErrInvalidProof or ErrUseNonce
}

var (
	es256 = dpoptest.NewKey(&testing.T{}, "ES256")
	other = dpoptest.NewKey(&testing.T{}, "ES256")
	ps256 = dpoptest.NewKey(&testing.T{}, "PS256")
	ed    = dpoptest.NewKey(&testing.T{}, "EdDSA")
)

// one returns a header function with one proof by k for POST asURL at t0.
func one(k *dpoptest.Key, opts ...dpoptest.Option) func(*testing.T) []string {
	return func(t *testing.T) []string {
		return []string{k.Proof(t, "POST", asURL, append([]dpoptest.Option{dpoptest.IssuedAt(t0)}, opts...)...)}
	}
}

func raw(s ...string) func(*testing.T) []string { return func(*testing.T) []string { return s } }

var asReq = Request{Method: "POST", URL: asURL}

// rsOne is one proof for GET rsURL with token's ath.
func rsOne(k *dpoptest.Key, opts ...dpoptest.Option) func(*testing.T) []string {
	return func(t *testing.T) []string {
		return []string{k.Proof(t, "GET", rsURL, append([]dpoptest.Option{dpoptest.IssuedAt(t0), dpoptest.Token(token)}, opts...)...)}
	}
}

var rsReq = Request{Method: "GET", URL: rsURL, AccessToken: token, JKT: es256.JKT}

// b64 is base64url of s.
func b64(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

// rsa1024 signs RS256 proofs with a key too small to accept.
var rsa1024 = func() *dpoptest.Key {
	priv, _ := rsa.GenerateKey(rand.Reader, 1024)
	k := &dpoptest.Key{Alg: jose.RS256, Private: priv, JWK: jose.JSONWebKey{Key: priv.Public()}}
	return k
}()

// proofCases has a case for every check of RFC 9449 §4.3, §7.1 and §11.
var proofCases = []proofCase{
	// (1) one DPoP header.
	{name: "two DPoP headers", skip: checkOneHeader, header: func(t *testing.T) []string {
		return []string{es256.Proof(t, "POST", asURL, dpoptest.IssuedAt(t0)), es256.Proof(t, "POST", asURL, dpoptest.IssuedAt(t0))}
	}, req: asReq, want: ErrInvalidProof},
	// (2) a single well-formed JWT.
	{name: "empty", header: raw(""), req: asReq, want: ErrInvalidProof},
	{name: "not a JWS", header: raw("not-a-jwt"), req: asReq, want: ErrInvalidProof},
	{name: "two parts", header: raw("eyJhbGciOiJFUzI1NiJ9.e30"), req: asReq, want: ErrInvalidProof},
	{name: "four parts", header: raw("a.b.c.d"), req: asReq, want: ErrInvalidProof},
	{name: "empty part", header: raw("eyJhbGciOiJFUzI1NiJ9..c2ln"), req: asReq, want: ErrInvalidProof},
	{name: "two proofs in one value", header: func(t *testing.T) []string {
		return []string{es256.Proof(t, "POST", asURL, dpoptest.IssuedAt(t0)) + ", " + es256.Proof(t, "POST", asURL, dpoptest.IssuedAt(t0))}
	}, req: asReq, want: ErrInvalidProof},
	{name: "padding", header: func(t *testing.T) []string {
		return []string{es256.Proof(t, "POST", asURL, dpoptest.IssuedAt(t0)) + "=="}
	}, req: asReq, want: ErrInvalidProof},
	{name: "oversized", header: func(t *testing.T) []string {
		return []string{es256.Proof(t, "POST", asURL, dpoptest.IssuedAt(t0), dpoptest.Claim("pad", strings.Repeat("x", maxProofBytes)))}
	}, req: asReq, want: ErrInvalidProof},
	{name: "JWE-like", header: raw(b64(`{"alg":"RSA-OAEP","enc":"A256GCM"}`) + ".a.b.c.d"), req: asReq, want: ErrInvalidProof},
	{name: "payload not JSON", header: func(t *testing.T) []string {
		s, _ := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: es256.Private}, &jose.SignerOptions{ExtraHeaders: map[jose.HeaderKey]any{"typ": "dpop+jwt", "jwk": es256.JWK}})
		jws, _ := s.Sign([]byte("not json"))
		out, _ := jws.CompactSerialize()
		return []string{out}
	}, req: asReq, want: ErrInvalidProof},
	{name: "iat a string", header: one(es256, dpoptest.Claim("iat", "now")), req: asReq, want: ErrInvalidProof},
	{name: "htm a number", header: one(es256, dpoptest.Claim("htm", 1)), req: asReq, want: ErrInvalidProof},
	// (3) every required claim.
	{name: "no jti", skip: checkClaims, header: one(es256, dpoptest.Claim("jti", nil)), req: asReq, want: ErrInvalidProof},
	{name: "empty jti", skip: checkClaims, header: one(es256, dpoptest.JTI("")), req: asReq, want: ErrInvalidProof},
	{name: "no htm", skip: checkClaims | checkHTM, header: one(es256, dpoptest.Claim("htm", nil)), req: Request{URL: asURL}, want: ErrInvalidProof},
	{name: "no htu", skip: checkClaims | checkHTU, header: one(es256, dpoptest.Claim("htu", nil)), req: asReq, want: ErrInvalidProof},
	{name: "no iat", skip: checkClaims, header: one(es256, dpoptest.Claim("iat", nil)), req: asReq, want: ErrInvalidProof},
	{name: "jti too long", header: one(es256, dpoptest.JTI(strings.Repeat("j", maxJTI+1))), req: asReq, want: ErrInvalidProof},
	// (4) typ dpop+jwt (§11.5).
	{name: "no typ", skip: checkTyp, header: one(es256, dpoptest.Header("typ", nil)), req: asReq, want: ErrInvalidProof},
	{name: "typ JWT", skip: checkTyp, header: one(es256, dpoptest.Header("typ", "JWT")), req: asReq, want: ErrInvalidProof},
	{name: "typ at+jwt", skip: checkTyp, header: one(es256, dpoptest.Header("typ", "at+jwt")), req: asReq, want: ErrInvalidProof},
	// (5) an asymmetric alg from the allow-list (§11.6).
	{name: "alg not allowed", skip: checkAlg, cfg: func(c *Config) { c.Algorithms = []string{"ES256"} }, header: one(ps256), req: asReq, want: ErrInvalidProof},
	{name: "alg none", header: raw(b64(`{"typ":"dpop+jwt","alg":"none","jwk":{"kty":"EC","crv":"P-256","x":"`+es256x()+`","y":"`+es256y()+`"}}`) + "." + b64(`{"jti":"1","htm":"POST","htu":"`+asURL+`","iat":1967526489}`) + ".c2ln"), req: asReq, want: ErrInvalidProof},
	{name: "alg HS256", header: func(t *testing.T) []string {
		key := []byte("0123456789abcdef0123456789abcdef")
		s, _ := jose.NewSigner(jose.SigningKey{Algorithm: jose.HS256, Key: key}, &jose.SignerOptions{ExtraHeaders: map[jose.HeaderKey]any{
			"typ": "dpop+jwt", "jwk": map[string]string{"kty": "oct", "k": b64(string(key))}}})
		jws, _ := s.Sign([]byte(`{"jti":"1","htm":"POST","htu":"` + asURL + `","iat":` + itoa(t0.Unix()) + `}`))
		out, _ := jws.CompactSerialize()
		return []string{out}
	}, req: asReq, want: ErrInvalidProof},
	{name: "alg HS256 with a public jwk", header: func(t *testing.T) []string {
		s, _ := jose.NewSigner(jose.SigningKey{Algorithm: jose.HS256, Key: []byte("0123456789abcdef0123456789abcdef")},
			&jose.SignerOptions{ExtraHeaders: map[jose.HeaderKey]any{"typ": "dpop+jwt", "jwk": es256.JWK}})
		jws, _ := s.Sign([]byte(`{"jti":"1","htm":"POST","htu":"` + asURL + `","iat":` + itoa(t0.Unix()) + `}`))
		out, _ := jws.CompactSerialize()
		return []string{out}
	}, req: asReq, want: ErrInvalidProof},
	{name: "RSA key under 2048 bits", skip: checkKeyAlg, header: one(rsa1024), req: asReq, want: ErrInvalidProof},
	{name: "jwk not of the alg's type", skip: checkKeyAlg | checkSignature, header: one(es256, dpoptest.Header("jwk", ed.JWK)), req: asReq, want: ErrInvalidProof},
	{name: "critical header", header: one(es256, dpoptest.Header("crit", []string{"exp"}), dpoptest.Header("exp", 1)), req: asReq, want: ErrInvalidProof},
	{name: "no jwk", header: one(es256, dpoptest.Header("jwk", nil)), req: asReq, want: ErrInvalidProof},
	// (6) the signature verifies with the jwk.
	{name: "signed by another key", skip: checkSignature, header: one(es256, dpoptest.SignedBy(other)), req: asReq, want: ErrInvalidProof},
	{name: "payload changed after signing", skip: checkSignature, header: func(t *testing.T) []string {
		p := strings.Split(es256.Proof(t, "POST", asURL, dpoptest.IssuedAt(t0), dpoptest.Claim("htm", "GET")), ".")
		// The same claims with htm POST, keeping the signature over GET.
		var c = `{"htm":"POST","htu":"` + asURL + `","iat":` + itoa(t0.Unix()) + `,"jti":"changed"}`
		return []string{p[0] + "." + b64(c) + "." + p[2]}
	}, req: asReq, want: ErrInvalidProof},
	// (7) no private key in the jwk; go-jose refuses one too, so no check
	// to skip: a verifier that trusted its JOSE library blindly would still
	// be covered by this case if the library changed.
	{name: "private jwk", header: one(es256, dpoptest.Header("jwk", jose.JSONWebKey{Key: es256.Private})), req: asReq, want: ErrInvalidProof},
	{name: "symmetric member in jwk", header: one(es256, dpoptest.Header("jwk", map[string]string{"kty": "EC", "crv": "P-256", "x": es256x(), "y": es256y(), "k": "c2VjcmV0"})), req: asReq, want: ErrInvalidProof},
	// (8) htm.
	{name: "htm GET for POST", skip: checkHTM, header: func(t *testing.T) []string { return []string{es256.Proof(t, "GET", asURL, dpoptest.IssuedAt(t0))} }, req: asReq, want: ErrInvalidProof},
	{name: "htm in lower case", skip: checkHTM, header: func(t *testing.T) []string { return []string{es256.Proof(t, "post", asURL, dpoptest.IssuedAt(t0))} }, req: asReq, want: ErrInvalidProof},
	// (9) htu.
	{name: "htu another path", skip: checkHTU, header: func(t *testing.T) []string {
		return []string{es256.Proof(t, "POST", "https://server.example.com/oauth/revoke", dpoptest.IssuedAt(t0))}
	}, req: asReq, want: ErrInvalidProof},
	{name: "htu another host", skip: checkHTU, header: func(t *testing.T) []string {
		return []string{es256.Proof(t, "POST", "https://evil.example.com/oauth/token", dpoptest.IssuedAt(t0))}
	}, req: asReq, want: ErrInvalidProof},
	{name: "htu http", skip: checkHTU, header: func(t *testing.T) []string {
		return []string{es256.Proof(t, "POST", "http://server.example.com/oauth/token", dpoptest.IssuedAt(t0))}
	}, req: asReq, want: ErrInvalidProof},
	{name: "htu another port", skip: checkHTU, header: func(t *testing.T) []string {
		return []string{es256.Proof(t, "POST", "https://server.example.com:8443/oauth/token", dpoptest.IssuedAt(t0))}
	}, req: asReq, want: ErrInvalidProof},
	{name: "htu not a URI", skip: checkHTU, header: func(t *testing.T) []string {
		return []string{es256.Proof(t, "POST", "/oauth/token", dpoptest.IssuedAt(t0))}
	}, req: asReq, want: ErrInvalidProof},
	// (10) the server's nonce.
	{name: "no nonce", skip: checkNonce, cfg: func(c *Config) { c.Nonces = testNoncesOf(7) }, header: one(es256), req: asReq, want: ErrUseNonce},
	{name: "wrong nonce", skip: checkNonce, cfg: func(c *Config) { c.Nonces = testNoncesOf(7) }, header: one(es256, dpoptest.Nonce(testNoncesOf(8).Nonce(t0))), req: asReq, want: ErrUseNonce},
	{name: "expired nonce", skip: checkNonce, cfg: func(c *Config) { c.Nonces = testNoncesOf(7) }, header: one(es256, dpoptest.Nonce(testNoncesOf(7).Nonce(t0.Add(-2*time.Minute)))), req: asReq, want: ErrUseNonce},
	// (11) iat within the window (§11.1).
	{name: "iat too old", skip: checkIAT, header: one(es256, dpoptest.IssuedAt(t0.Add(-61*time.Second))), req: asReq, want: ErrInvalidProof},
	{name: "iat in the future", skip: checkIAT, header: one(es256, dpoptest.IssuedAt(t0.Add(16*time.Second))), req: asReq, want: ErrInvalidProof},
	{name: "iat an hour old", skip: checkIAT, header: one(es256, dpoptest.IssuedAt(t0.Add(-time.Hour))), req: asReq, want: ErrInvalidProof},
	// (12) at a resource: ath and the token's key (§7.1).
	{name: "no ath", skip: checkATH, header: rsOne(es256, dpoptest.Claim("ath", nil)), req: rsReq, want: ErrInvalidProof},
	{name: "ath of another token", skip: checkATH, header: rsOne(es256, dpoptest.Token("okt_another")), req: rsReq, want: ErrInvalidProof},
	{name: "ath not base64url of SHA-256", skip: checkATH, header: rsOne(es256, dpoptest.Claim("ath", token)), req: rsReq, want: ErrInvalidProof},
	{name: "key not the token's", skip: checkBinding, header: rsOne(other), req: rsReq, want: ErrInvalidProof},
}

func testNoncesOf(b byte) *Nonces {
	n, _ := NewNonces([]byte(strings.Repeat(string(rune(b)), 32)), time.Minute)
	return n
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// es256x and es256y are the coordinates of es256's public key, base64url.
func es256x() string { return jwkMember("x") }
func es256y() string { return jwkMember("y") }

func jwkMember(name string) string {
	b, _ := es256.JWK.MarshalJSON()
	var m map[string]string
	_ = json.Unmarshal(b, &m)
	return m[name]
}

// TestProofChecks runs every case: refused as it should be, and accepted by
// a verifier that skips the check the case is about.
func TestProofChecks(t *testing.T) {
	for _, c := range proofCases {
		t.Run(c.name, func(t *testing.T) {
			h := c.header(t)
			v := newVerifier(t, cfgOf(c))
			_, err := v.Verify(t.Context(), h, c.req)
			if !errors.Is(err, c.want) {
				t.Fatalf("Verify = %v, want %v", err, c.want)
			}
			var e *Error
			if !errors.As(err, &e) || e.Reason == "" {
				t.Fatalf("Verify = %v, want an *Error with a reason", err)
			}
			if c.skip == 0 {
				return
			}
			v = newVerifier(t, cfgOf(c))
			v.skip = c.skip
			if _, err := v.Verify(t.Context(), h, c.req); err != nil {
				t.Fatalf("with the check off, Verify = %v: the case does not test that check alone", err)
			}
		})
	}
}

func cfgOf(c proofCase) func(*Config) {
	if c.cfg == nil {
		return func(*Config) {}
	}
	return c.cfg
}

// TestProofReplay: a proof is accepted once, then refused as a replay by
// the same verifier and by another sharing its cache (two instances on one
// store), and a verifier skipping the check accepts it again.
func TestProofReplay(t *testing.T) {
	cache := replay.New(0, clockAt(t0))
	share := func(c *Config) { c.Replay = cache }
	a, b := newVerifier(t, share), newVerifier(t, share)
	h := []string{es256.Proof(t, "POST", asURL, dpoptest.IssuedAt(t0))}
	p, err := a.Verify(t.Context(), h, asReq)
	if err != nil {
		t.Fatal(err)
	}
	if p.JKT != es256.JKT || p.Alg != "ES256" || p.JTI == "" || !p.IssuedAt.Equal(t0) {
		t.Errorf("proof = %+v", p)
	}
	for name, v := range map[string]*Verifier{"same verifier": a, "another instance": b} {
		if _, err := v.Verify(t.Context(), h, asReq); !errors.Is(err, ErrInvalidProof) {
			t.Errorf("%s: replay = %v, want ErrInvalidProof", name, err)
		}
	}
	skipping := newVerifier(t, share)
	skipping.skip = checkReplay
	if _, err := skipping.Verify(t.Context(), h, asReq); err != nil {
		t.Errorf("with the replay check off: %v", err)
	}
	// The same jti from another key, or for another URI, is another proof.
	revoke := "https://server.example.com/oauth/revoke"
	for _, c := range []struct {
		h   string
		req Request
	}{
		{other.Proof(t, "POST", asURL, dpoptest.IssuedAt(t0), dpoptest.JTI(p.JTI)), asReq},
		{es256.Proof(t, "POST", revoke, dpoptest.IssuedAt(t0), dpoptest.JTI(p.JTI)), Request{Method: "POST", URL: revoke}},
	} {
		if _, err := a.Verify(t.Context(), []string{c.h}, c.req); err != nil {
			t.Errorf("same jti in another context: %v", err)
		}
	}
}

// TestReplayCacheFailure: a failing cache is an error of its own, not a
// refusal of the proof, and no proof is accepted unrecorded.
func TestReplayCacheFailure(t *testing.T) {
	v := newVerifier(t, func(c *Config) { c.Replay = failingCache{} })
	_, err := v.Verify(t.Context(), one(es256)(t), asReq)
	if err == nil || errors.Is(err, ErrInvalidProof) || !errors.Is(err, errDown) {
		t.Fatalf("Verify with a failing cache = %v", err)
	}
}

var errDown = errors.New("cache down")

type failingCache struct{}

func (failingCache) UseOnce(context.Context, string, time.Time) (bool, error) { return false, errDown }

// TestProofAccepted: valid proofs of every algorithm, htu equal after
// normalisation, iat at the edges of the window, a valid nonce.
func TestProofAccepted(t *testing.T) {
	for _, alg := range SupportedAlgorithms {
		k := dpoptest.NewKey(t, alg)
		v := newVerifier(t, func(c *Config) { c.Algorithms = SupportedAlgorithms })
		p, err := v.Verify(t.Context(), []string{k.Proof(t, "GET", rsURL, dpoptest.IssuedAt(t0), dpoptest.Token(token))},
			Request{Method: "GET", URL: rsURL, AccessToken: token, JKT: k.JKT})
		if err != nil || p.JKT != k.JKT || p.Alg != alg {
			t.Errorf("%s: %+v, %v", alg, p, err)
		}
	}
	v := newVerifier(t, func(c *Config) { c.Nonces = testNoncesOf(7) })
	for name, h := range map[string]string{
		"htu normalised":       es256.Proof(t, "POST", "HTTPS://Server.Example.com:443/oauth/token?x=1#f", dpoptest.IssuedAt(t0), dpoptest.Nonce(testNoncesOf(7).Nonce(t0))),
		"iat 59s old":          es256.Proof(t, "POST", asURL, dpoptest.IssuedAt(t0.Add(-59*time.Second)), dpoptest.Nonce(testNoncesOf(7).Nonce(t0))),
		"iat 14s ahead":        es256.Proof(t, "POST", asURL, dpoptest.IssuedAt(t0.Add(14*time.Second)), dpoptest.Nonce(testNoncesOf(7).Nonce(t0))),
		"previous nonce":       es256.Proof(t, "POST", asURL, dpoptest.IssuedAt(t0), dpoptest.Nonce(testNoncesOf(7).Nonce(t0.Add(-time.Minute)))),
		"typ with application": es256.Proof(t, "POST", asURL, dpoptest.IssuedAt(t0), dpoptest.Nonce(testNoncesOf(7).Nonce(t0)), dpoptest.Header("typ", "application/dpop+jwt")),
	} {
		if _, err := v.Verify(t.Context(), []string{h}, asReq); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := v.Verify(t.Context(), nil, asReq); !errors.Is(err, ErrNoProof) {
		t.Errorf("no header: %v, want ErrNoProof", err)
	}
}

func TestNewConfig(t *testing.T) {
	if _, err := New(Config{}); err == nil {
		t.Error("no replay cache accepted")
	}
	if v, _ := New(Config{Replay: replay.New(0, nil)}); slices.Contains(v.Algorithms(), "ES384") {
		t.Error("ES384 allowed by default")
	}
	for _, algs := range [][]string{{"HS256"}, {"none"}, {"ES512"}} {
		if _, err := New(Config{Replay: replay.New(0, nil), Algorithms: algs}); err == nil {
			t.Errorf("algorithms %v accepted", algs)
		}
	}
	v, err := New(Config{Replay: replay.New(0, nil), Algorithms: []string{"EdDSA", "ES256"}})
	if err != nil || strings.Join(v.Algorithms(), " ") != "EdDSA ES256" {
		t.Errorf("Algorithms = %v, %v", v.Algorithms(), err)
	}
}
