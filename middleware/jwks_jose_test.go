package middleware_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	josejwt "github.com/go-jose/go-jose/v4/jwt"

	"github.com/oauthkit/oauthkit/middleware"
)

// signRaw signs header and payload, as given, with an Ed25519 key: for
// tokens no JOSE library would make.
func signRaw(k testKey, header, payload string) string {
	input := b64(header) + "." + b64(payload)
	return input + "." + base64.RawURLEncoding.EncodeToString(ed25519.Sign(k.priv.(ed25519.PrivateKey), []byte(input)))
}

// unencoded is a token whose signature covers the payload unencoded (RFC
// 7797), as go-jose verifies it when the header says b64 false, crit or
// not.
func unencoded(k testKey, header, payload string) string {
	sig := ed25519.Sign(k.priv.(ed25519.PrivateKey), []byte(b64(header)+"."+payload))
	return b64(header) + "." + b64(payload) + "." + base64.RawURLEncoding.EncodeToString(sig)
}

func b64(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

func claimsJSON(t *testing.T, c any) string {
	t.Helper()
	b, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// RFC 9068 §5: the validator blanks Subject only for a client's own token
// in the client namespace (sub = "client:" + client_id); a sub equal to
// client_id is a user of that ID, and is kept.
func TestJWKSValidatorClientSubject(t *testing.T) {
	k := newTestKey(t, "k1", jose.EdDSA)
	v := newJWKSValidator(t, newJWKSServer(t, k), &tclock{t: t0.Add(time.Minute)})
	for sub, want := range map[string]string{
		"app":                                  "app", // a user whose ID is "app"
		middleware.ClientSubjectPrefix + "app": "",    // client app itself
		middleware.ClientSubjectPrefix + "svc": middleware.ClientSubjectPrefix + "svc",
		"user-1":                               "user-1",
		"Client:app":                           "Client:app",
	} {
		c := goodClaims()
		c.Subject, c.ClientID = sub, "app"
		tok, err := v.ValidateToken(context.Background(), sign(t, k, c, nil))
		if err != nil || tok.Subject != want || tok.ClientID != "app" {
			t.Errorf("sub %q: Subject %q (want %q), %v", sub, tok.Subject, want, err)
		}
	}
}

// typ is compared as RFC 9068 §4 and RFC 7515 §4.1.9 say: at+jwt or
// application/at+jwt, case-insensitively.
func TestJWKSValidatorTypVariants(t *testing.T) {
	k := newTestKey(t, "k1", jose.EdDSA)
	v := newJWKSValidator(t, newJWKSServer(t, k), &tclock{t: t0.Add(time.Minute)})
	for _, typ := range []string{"at+jwt", "application/at+jwt", "AT+JWT", "Application/At+JWT"} {
		if _, err := v.ValidateToken(context.Background(), sign(t, k, goodClaims(), map[jose.HeaderKey]any{"typ": typ})); err != nil {
			t.Errorf("typ %q: %v", typ, err)
		}
	}
}

// What go-jose lets through on its own, and the validator does not.
func TestJWKSValidatorRefusesJOSEEdgeCases(t *testing.T) {
	ed := newTestKey(t, "ed", jose.EdDSA)
	ec := newTestKey(t, "ec", jose.ES256)
	s := newJWKSServer(t, ed, ec)
	v := newJWKSValidator(t, s, &tclock{t: t0.Add(time.Minute)})
	good := sign(t, ed, goodClaims(), nil)
	payload := claimsJSON(t, goodClaims())
	hdr := `{"alg":"EdDSA","kid":"ed","typ":"at+jwt"}`
	if _, err := v.ValidateToken(context.Background(), signRaw(ed, hdr, payload)); err != nil {
		t.Fatalf("the raw-signed control token: %v", err)
	}
	// the ES256 key signs, but the header names the Ed25519 key
	confused := newTestKey(t, "ed", jose.ES256)
	confused.priv = ec.priv
	attacker := newTestKey(t, "ed", jose.EdDSA)
	embedded, _ := jose.NewSigner(jose.SigningKey{Algorithm: jose.EdDSA, Key: attacker.priv},
		(&jose.SignerOptions{EmbedJWK: true}).WithHeader("kid", "ed").WithType("at+jwt"))
	withJWK, _ := josejwt.Signed(embedded).Claims(goodClaims()).Serialize()
	jsonJWS, _ := jose.ParseSignedCompact(good, []jose.SignatureAlgorithm{jose.EdDSA})
	lastBits := good[:len(good)-1] + string(flipLowBits(good[len(good)-1]))
	cases := map[string]string{
		"alg ES256 with the kid of an EdDSA key": sign(t, confused, goodClaims(), nil),
		"embedded jwk of another key":            withJWK,
		"b64 false without crit":                 unencoded(ed, `{"alg":"EdDSA","b64":false,"kid":"ed","typ":"at+jwt"}`, payload),
		"duplicate header member":                signRaw(ed, `{"alg":"EdDSA","kid":"ed","typ":"JWT","typ":"at+jwt"}`, payload),
		"duplicate claim":                        signRaw(ed, hdr, strings.Replace(payload, `"sub":"user-1"`, `"sub":"user-1","sub":"admin"`, 1)),
		"claim names are case-sensitive":         signRaw(ed, hdr, strings.Replace(payload, `"iss"`, `"ISS"`, 1)),
		"trailing data after the claims":         signRaw(ed, hdr, payload+"{}"),
		"claims not an object":                   signRaw(ed, hdr, `["iss"]`),
		"typ not a string":                       signRaw(ed, `{"alg":"EdDSA","kid":"ed","typ":["at+jwt"]}`, payload),
		"JWS JSON serialization":                 jsonJWS.FullSerialize(),
		"stray bits in the last character":       lastBits,
		"padding":                                good + "==",
		"line break":                             good[:20] + "\n" + good[20:],
		"empty":                                  "",
	}
	for name, raw := range cases {
		t.Run(name, func(t *testing.T) {
			if _, err := v.ValidateToken(context.Background(), raw); !errors.Is(err, middleware.ErrInvalidToken) {
				t.Fatalf("err = %v, want ErrInvalidToken", err)
			}
		})
	}
}

// flipLowBits changes a base64url character into one with the same high
// bits, so that a lax decoder yields the same bytes.
func flipLowBits(c byte) byte {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	i := strings.IndexByte(alphabet, c)
	return alphabet[i^1]
}

// The key set is read with go-jose, and only public signature keys usable
// with their one algorithm are kept.
func TestJWKSValidatorKeySetFiltering(t *testing.T) {
	ed := newTestKey(t, "ed", jose.EdDSA)
	rs := newTestKey(t, "rs", jose.RS256)
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	short, _ := rsa.GenerateKey(rand.Reader, 1024)
	pub := func(kid string, key any, alg, use string) jose.JSONWebKey {
		return jose.JSONWebKey{Key: key, KeyID: kid, Algorithm: alg, Use: use}
	}
	usable := map[string]testKey{"ed": ed, "rs": rs}
	skipped := map[string]testKey{}
	set := []jose.JSONWebKey{pub("ed", ed.priv.Public(), "EdDSA", "sig"), pub("rs", rs.priv.Public(), "RS256", "")}
	for kid, j := range map[string]jose.JSONWebKey{
		"private":     pub("private", ed.priv, "EdDSA", "sig"),
		"enc":         pub("enc", ed.priv.Public(), "EdDSA", "enc"),
		"wrong alg":   pub("wrong alg", ed.priv.Public(), "ES256", "sig"),
		"PS256":       pub("PS256", rs.priv.Public(), "PS256", "sig"),
		"rsa private": pub("rsa private", rs.priv, "RS256", "sig"),
	} {
		set = append(set, j)
		k := ed
		if strings.HasPrefix(kid, "rsa") || kid == "PS256" {
			k = rs
		}
		k.kid = kid
		skipped[kid] = k
	}
	set = append(set, pub("p384", &p384.PublicKey, "", "sig"), pub("short", &short.PublicKey, "RS256", "sig"),
		pub("oct", []byte("0123456789abcdef0123456789abcdef"), "HS256", "sig"))
	body, err := json.Marshal(jose.JSONWebKeySet{Keys: set})
	if err != nil {
		t.Fatal(err)
	}
	// a key of a kind go-jose does not know is skipped too, not fatal
	body = []byte(strings.Replace(string(body), `"keys":[`, `"keys":[{"kty":"ML-KEM","kid":"future"},`, 1))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write(body) }))
	t.Cleanup(srv.Close)
	v, err := middleware.NewJWKSValidator(middleware.JWKSConfig{
		URL: srv.URL, Issuer: tIss, Audience: tAud, Now: (&tclock{t: t0.Add(time.Minute)}).Now,
		Algorithms: []string{"EdDSA", "ES256", "RS256"},
	})
	if err != nil {
		t.Fatal(err)
	}
	for kid, k := range usable {
		if _, err := v.ValidateToken(context.Background(), sign(t, k, goodClaims(), nil)); err != nil {
			t.Errorf("key %q: %v", kid, err)
		}
	}
	for kid, k := range skipped {
		if _, err := v.ValidateToken(context.Background(), sign(t, k, goodClaims(), nil)); !errors.Is(err, middleware.ErrInvalidToken) {
			t.Errorf("key %q was used: %v", kid, err)
		}
	}
	p384Key := testKey{kid: "p384", alg: jose.ES384, priv: p384}
	if _, err := v.ValidateToken(context.Background(), sign(t, p384Key, goodClaims(), nil)); !errors.Is(err, middleware.ErrInvalidToken) {
		t.Errorf("ES384 token of a P-384 key: %v", err)
	}
}
