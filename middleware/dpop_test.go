package middleware

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/oauthkit/oauthkit/internal/dpop/dpoptest"
	"github.com/oauthkit/oauthkit/internal/replay"
)

const rsURL = "https://rs.example.org/api/data"

var (
	clientKey = dpoptest.NewKey(&testing.T{}, "ES256")
	otherKey  = dpoptest.NewKey(&testing.T{}, "ES256")
	rsaKey    = dpoptest.NewKey(&testing.T{}, "RS256")
)

// dpopTokens adds DPoP-bound tokens to testTokens.
var dpopTokens = func() mapValidator {
	m := mapValidator{"bound": {ClientID: "c", Subject: "1", Scopes: []string{"read"}, JKT: clientKey.JKT}}
	m["bound-noscope"] = &Token{ClientID: "c", JKT: clientKey.JKT}
	m["bound-rsa"] = &Token{ClientID: "c", Scopes: []string{"read"}, JKT: rsaKey.JKT}
	for k, v := range testTokens {
		m[k] = v
	}
	return m
}()

// dpopRequest is a request to rsURL with the given Authorization and DPoP
// header values.
func dpopRequest(method, auth string, proofs ...string) *http.Request {
	r := httptest.NewRequest(method, rsURL, nil)
	if auth != "" {
		r.Header.Set("Authorization", auth)
	}
	for _, p := range proofs {
		r.Header.Add("DPoP", p)
	}
	return r
}

func serveReq(h http.Handler, r *http.Request) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func newDPoPGuard(t *testing.T, o DPoPOptions) *Guard {
	t.Helper()
	g, err := New(dpopTokens, Options{DPoP: o})
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// TestDPoPResource is RFC 9449 §7 at a Guard: the example's contract
// (200 for a bound token with the DPoP scheme and a valid proof; 401 for
// it as Bearer; 401 invalid_dpop_proof for a replayed proof, one from
// another key, wrong htm or htu, a stale iat or a missing ath), and the
// other refusals.
func TestDPoPResource(t *testing.T) {
	g := newDPoPGuard(t, DPoPOptions{})
	h := g.Require("read")(okHandler)
	valid := func() string { return clientKey.Proof(t, "GET", rsURL, dpoptest.Token("bound")) }
	replayed := valid()
	if w := serveReq(h, dpopRequest("GET", "DPoP bound", replayed)); w.Code != 200 {
		t.Fatalf("first use of a proof: %d %s %q", w.Code, w.Body, w.Header().Get("WWW-Authenticate"))
	}
	cases := []struct {
		name      string
		r         *http.Request
		status    int
		challenge string // the first WWW-Authenticate field begins so
	}{
		{"DPoP with a valid proof", dpopRequest("GET", "DPoP bound", valid()), 200, ""},
		{"scheme in any case", dpopRequest("GET", "dpop bound", valid()), 200, ""},
		{"RSA key", dpopRequest("GET", "DPoP bound-rsa", rsaKey.Proof(t, "GET", rsURL, dpoptest.Token("bound-rsa"))), 200, ""},
		{"bound token as Bearer", dpopRequest("GET", "Bearer bound"), 401, `Bearer realm="api", error="invalid_token"`},
		{"bound token as Bearer with a proof", dpopRequest("GET", "Bearer bound", valid()), 401, `Bearer realm="api", error="invalid_token"`},
		{"replayed proof", dpopRequest("GET", "DPoP bound", replayed), 401, `DPoP realm="api", algs="ES256 EdDSA PS256 RS256", error="invalid_dpop_proof"`},
		{"proof from another key", dpopRequest("GET", "DPoP bound", otherKey.Proof(t, "GET", rsURL, dpoptest.Token("bound"))), 401, `DPoP realm="api", algs="ES256 EdDSA PS256 RS256", error="invalid_dpop_proof"`},
		{"wrong htm", dpopRequest("GET", "DPoP bound", clientKey.Proof(t, "POST", rsURL, dpoptest.Token("bound"))), 401, `DPoP realm="api", algs="ES256 EdDSA PS256 RS256", error="invalid_dpop_proof"`},
		{"wrong htu", dpopRequest("GET", "DPoP bound", clientKey.Proof(t, "GET", "https://rs.example.org/api/me", dpoptest.Token("bound"))), 401, `DPoP realm="api", algs="ES256 EdDSA PS256 RS256", error="invalid_dpop_proof"`},
		{"stale iat", dpopRequest("GET", "DPoP bound", clientKey.Proof(t, "GET", rsURL, dpoptest.Token("bound"), dpoptest.IssuedAt(time.Now().Add(-5*time.Minute)))), 401, `DPoP realm="api", algs="ES256 EdDSA PS256 RS256", error="invalid_dpop_proof"`},
		{"missing ath", dpopRequest("GET", "DPoP bound", clientKey.Proof(t, "GET", rsURL)), 401, `DPoP realm="api", algs="ES256 EdDSA PS256 RS256", error="invalid_dpop_proof"`},
		{"ath of another token", dpopRequest("GET", "DPoP bound", clientKey.Proof(t, "GET", rsURL, dpoptest.Token("read"))), 401, `DPoP realm="api", algs="ES256 EdDSA PS256 RS256", error="invalid_dpop_proof"`},
		{"no proof", dpopRequest("GET", "DPoP bound"), 401, `DPoP realm="api", algs="ES256 EdDSA PS256 RS256", error="invalid_dpop_proof"`},
		{"two proofs", dpopRequest("GET", "DPoP bound", valid(), valid()), 401, `DPoP realm="api", algs="ES256 EdDSA PS256 RS256", error="invalid_dpop_proof"`},
		{"not a JWT", dpopRequest("GET", "DPoP bound", "garbage"), 401, `DPoP realm="api", algs="ES256 EdDSA PS256 RS256", error="invalid_dpop_proof"`},
		// §7.2 decision: a token that is not bound, presented with the
		// DPoP scheme, is refused: the client takes it for a
		// sender-constrained token, and it is not one.
		{"unbound token as DPoP", dpopRequest("GET", "DPoP read", clientKey.Proof(t, "GET", rsURL, dpoptest.Token("read"))), 401, `DPoP realm="api", algs="ES256 EdDSA PS256 RS256", error="invalid_token"`},
		{"unknown token as DPoP", dpopRequest("GET", "DPoP nope", clientKey.Proof(t, "GET", rsURL, dpoptest.Token("nope"))), 401, `DPoP realm="api", algs="ES256 EdDSA PS256 RS256", error="invalid_token"`},
		{"bound token without the scope", dpopRequest("GET", "DPoP bound-noscope", clientKey.Proof(t, "GET", rsURL, dpoptest.Token("bound-noscope"))), 403, `DPoP realm="api", algs="ES256 EdDSA PS256 RS256", error="insufficient_scope"`},
		{"malformed DPoP token", dpopRequest("GET", "DPoP a b", valid()), 400, `Bearer realm="api", error="invalid_request"`},
		{"unbound bearer token", dpopRequest("GET", "Bearer read"), 200, ""},
		{"no credentials", dpopRequest("GET", ""), 401, `Bearer realm="api"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w := serveReq(h, c.r)
			got := w.Header().Values("WWW-Authenticate")
			if w.Code != c.status {
				t.Fatalf("status %d, want %d; %q %s", w.Code, c.status, got, w.Body)
			}
			if c.challenge == "" {
				return
			}
			if len(got) == 0 || !strings.HasPrefix(got[0], c.challenge) {
				t.Fatalf("WWW-Authenticate %q, want it to begin %q", got, c.challenge)
			}
			if strings.HasPrefix(c.challenge, "Bearer") && (len(got) != 2 || got[1] != `DPoP realm="api", algs="ES256 EdDSA PS256 RS256"`) {
				t.Errorf("a Bearer refusal should offer DPoP in a second challenge: %q", got)
			}
			if strings.HasPrefix(c.challenge, "DPoP") && len(got) != 1 {
				t.Errorf("a DPoP refusal should carry the DPoP challenge alone: %q", got)
			}
		})
	}
}

// TestDPoPTokenInContext: the handler sees the token's key.
func TestDPoPTokenInContext(t *testing.T) {
	var seen *Token
	h := RequireOAuth(dpopTokens, "read")(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { seen, _ = TokenFromContext(r.Context()) }))
	if w := serveReq(h, dpopRequest("GET", "DPoP bound", clientKey.Proof(t, "GET", rsURL, dpoptest.Token("bound")))); w.Code != 200 || seen == nil || seen.JKT != clientKey.JKT {
		t.Fatalf("status %d, token %+v", w.Code, seen)
	}
}

// TestDPoPReplayShared: two Guards (two instances of a resource server)
// sharing a replay cache refuse a proof already used at the other.
func TestDPoPReplayShared(t *testing.T) {
	cache := replay.New(0, nil)
	a := newDPoPGuard(t, DPoPOptions{Replay: cache}).Require("read")(okHandler)
	b := newDPoPGuard(t, DPoPOptions{Replay: cache}).Require("read")(okHandler)
	p := clientKey.Proof(t, "GET", rsURL, dpoptest.Token("bound"))
	if w := serveReq(a, dpopRequest("GET", "DPoP bound", p)); w.Code != 200 {
		t.Fatalf("instance a: %d", w.Code)
	}
	if w := serveReq(b, dpopRequest("GET", "DPoP bound", p)); w.Code != 401 || !strings.Contains(w.Header().Get("WWW-Authenticate"), `error="invalid_dpop_proof"`) {
		t.Fatalf("replayed at instance b: %d %q", w.Code, w.Header().Get("WWW-Authenticate"))
	}
	// Apart, each has its own cache: the replay is not seen (which is why
	// instances should share one).
	c := newDPoPGuard(t, DPoPOptions{}).Require("read")(okHandler)
	if w := serveReq(c, dpopRequest("GET", "DPoP bound", p)); w.Code != 200 {
		t.Fatalf("instance with its own cache: %d", w.Code)
	}
}

// TestDPoPNonce: with a NonceKey, a proof without the nonce is refused with
// use_dpop_nonce and a DPoP-Nonce header; a retry carrying it passes, and
// its answer carries the nonce too. Another instance with the same key
// accepts the nonce.
func TestDPoPNonce(t *testing.T) {
	key := bytes.Repeat([]byte{9}, 32)
	h := newDPoPGuard(t, DPoPOptions{NonceKey: key}).Require("read")(okHandler)
	w := serveReq(h, dpopRequest("GET", "DPoP bound", clientKey.Proof(t, "GET", rsURL, dpoptest.Token("bound"))))
	nonce := w.Header().Get("DPoP-Nonce")
	if w.Code != 401 || nonce == "" || !strings.Contains(w.Header().Get("WWW-Authenticate"), `error="use_dpop_nonce"`) {
		t.Fatalf("no nonce: %d %q nonce %q", w.Code, w.Header().Get("WWW-Authenticate"), nonce)
	}
	for _, g := range []http.Handler{h, newDPoPGuard(t, DPoPOptions{NonceKey: key}).Require("read")(okHandler)} {
		w = serveReq(g, dpopRequest("GET", "DPoP bound", clientKey.Proof(t, "GET", rsURL, dpoptest.Token("bound"), dpoptest.Nonce(nonce))))
		if w.Code != 200 || w.Header().Get("DPoP-Nonce") != nonce {
			t.Fatalf("with the nonce: %d, DPoP-Nonce %q", w.Code, w.Header().Get("DPoP-Nonce"))
		}
	}
	other := newDPoPGuard(t, DPoPOptions{NonceKey: bytes.Repeat([]byte{8}, 32)}).Require("read")(okHandler)
	w = serveReq(other, dpopRequest("GET", "DPoP bound", clientKey.Proof(t, "GET", rsURL, dpoptest.Token("bound"), dpoptest.Nonce(nonce))))
	if w.Code != 401 || !strings.Contains(w.Header().Get("WWW-Authenticate"), `error="use_dpop_nonce"`) {
		t.Fatalf("nonce of another key: %d %q", w.Code, w.Header().Get("WWW-Authenticate"))
	}
	if _, err := New(dpopTokens, Options{DPoP: DPoPOptions{NonceKey: []byte("short")}}); err == nil {
		t.Error("a short NonceKey accepted")
	}
}

// TestDPoPRequired: a DPoP-only resource refuses bearer tokens and offers
// the DPoP scheme alone.
func TestDPoPRequired(t *testing.T) {
	h := newDPoPGuard(t, DPoPOptions{Required: true}).Require("read")(okHandler)
	for _, c := range []struct {
		name   string
		r      *http.Request
		status int
		want   string
	}{
		{"no credentials", dpopRequest("GET", ""), 401, `DPoP realm="api", algs="ES256 EdDSA PS256 RS256", scope="read"`},
		{"bearer token", dpopRequest("GET", "Bearer read"), 401, `DPoP realm="api", algs="ES256 EdDSA PS256 RS256", error="invalid_token", error_description="this resource takes DPoP-bound tokens only", scope="read"`},
		{"DPoP", dpopRequest("GET", "DPoP bound", clientKey.Proof(t, "GET", rsURL, dpoptest.Token("bound"))), 200, ""},
	} {
		w := serveReq(h, c.r)
		got := w.Header().Values("WWW-Authenticate")
		if w.Code != c.status || c.want != "" && (len(got) != 1 || got[0] != c.want) {
			t.Errorf("%s: %d %q, want %d %q", c.name, w.Code, got, c.status, c.want)
		}
	}
}

// TestDPoPOptions: the algorithms offered and checked, the request URL
// behind a proxy, a replay cache that fails.
func TestDPoPOptions(t *testing.T) {
	h := newDPoPGuard(t, DPoPOptions{Algorithms: []string{"RS256"}}).Require("read")(okHandler)
	w := serveReq(h, dpopRequest("GET", "DPoP bound", clientKey.Proof(t, "GET", rsURL, dpoptest.Token("bound"))))
	if w.Code != 401 || !strings.HasPrefix(w.Header().Get("WWW-Authenticate"), `DPoP realm="api", algs="RS256", error="invalid_dpop_proof"`) {
		t.Errorf("ES256 proof with RS256 only: %d %q", w.Code, w.Header().Get("WWW-Authenticate"))
	}
	if _, err := New(dpopTokens, Options{DPoP: DPoPOptions{Algorithms: []string{"HS256"}}}); err == nil {
		t.Error("HS256 accepted for DPoP")
	}
	// Behind a proxy the public URL is the proxy's.
	public := "https://api.example.com/v1/data"
	h = newDPoPGuard(t, DPoPOptions{RequestURL: func(r *http.Request) string { return "https://api.example.com/v1" + r.URL.Path[len("/api"):] }}).Require("read")(okHandler)
	if w := serveReq(h, dpopRequest("GET", "DPoP bound", clientKey.Proof(t, "GET", public, dpoptest.Token("bound")))); w.Code != 200 {
		t.Errorf("proof for the public URL: %d %q", w.Code, w.Header().Get("WWW-Authenticate"))
	}
	if w := serveReq(h, dpopRequest("GET", "DPoP bound", clientKey.Proof(t, "GET", rsURL, dpoptest.Token("bound")))); w.Code != 401 {
		t.Errorf("proof for the internal URL: %d", w.Code)
	}
	h = newDPoPGuard(t, DPoPOptions{Replay: downCache{}}).Require("read")(okHandler)
	w = serveReq(h, dpopRequest("GET", "DPoP bound", clientKey.Proof(t, "GET", rsURL, dpoptest.Token("bound"))))
	if w.Code != 503 || w.Header().Get("Retry-After") != "1" || strings.Contains(w.Body.String(), "redis") {
		t.Errorf("replay cache down: %d %s", w.Code, w.Body)
	}
}

type downCache struct{}

func (downCache) UseOnce(context.Context, string, time.Time) (bool, error) {
	return false, errors.New("redis: connection refused")
}
