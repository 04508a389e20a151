package middleware_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/oauthkit/oauthkit/internal/dpop/dpoptest"
	"github.com/oauthkit/oauthkit/middleware"
)

// boundClaims are goodClaims with a cnf claim.
type boundClaims struct {
	claims
	Cnf any `json:"cnf,omitempty"`
}

// TestDPoPFromEveryValidator: the JWKS and introspection validators read
// the token's key (cnf.jkt, RFC 9449 §6.1 and §6.2), refuse a cnf they
// cannot check, and a Guard on either admits the bound token only with the
// DPoP scheme and a proof by that key.
func TestDPoPFromEveryValidator(t *testing.T) {
	key := dpoptest.NewKey(t, "ES256")
	clk := &tclock{t: t0.Add(time.Minute)}
	ed := newTestKey(t, "k1", jose.EdDSA)
	v := newJWKSValidator(t, newJWKSServer(t, ed), clk)
	jwt := func(cnf any) string { return sign(t, ed, boundClaims{goodClaims(), cnf}, nil) }

	dpopAnswer := func(cnf any) map[string]any {
		a := active(t0.Add(time.Hour))
		a["token_type"], a["cnf"] = "DPoP", cnf
		return a
	}
	bearerWithCnf := active(t0.Add(time.Hour))
	bearerWithCnf["cnf"] = map[string]any{"jkt": key.JKT}
	as := newFakeAS(t, map[string]map[string]any{
		"bound":         dpopAnswer(map[string]any{"jkt": key.JKT}),
		"bound-bearer":  bearerWithCnf,
		"dpop-no-cnf":   dpopAnswer(nil),
		"x5t":           dpopAnswer(map[string]any{"x5t#S256": "bwcK0esc3ACC3DB2Y5_lESsXE8o9ltc05O89jdN-dg2"}),
		"jkt-and-x5t":   dpopAnswer(map[string]any{"jkt": key.JKT, "x5t#S256": "bwcK0esc3ACC3DB2Y5_lESsXE8o9ltc05O89jdN-dg2"}),
		"jkt-not-a-tp":  dpopAnswer(map[string]any{"jkt": "short"}),
		"jkt-not-a-str": dpopAnswer(map[string]any{"jkt": 7}),
	})
	iv := newIntrospector(t, as, clk)

	ctx := context.Background()
	for name, raw := range map[string]string{"JWKS": jwt(map[string]string{"jkt": key.JKT})} {
		tok, err := v.ValidateToken(ctx, raw)
		if err != nil || tok.JKT != key.JKT {
			t.Errorf("%s: %+v %v", name, tok, err)
		}
	}
	for _, raw := range []string{"bound", "bound-bearer"} {
		tok, err := iv.ValidateToken(ctx, raw)
		if err != nil || tok.JKT != key.JKT {
			t.Errorf("introspection %s: %+v %v", raw, tok, err)
		}
	}
	if tok, err := v.ValidateToken(ctx, jwt(nil)); err != nil || tok.JKT != "" {
		t.Errorf("JWT without cnf: %+v %v", tok, err)
	}
	for name, raw := range map[string]string{
		"cnf without jkt":  jwt(map[string]string{}),
		"x5t#S256":         jwt(map[string]string{"x5t#S256": "bwcK0esc3ACC3DB2Y5_lESsXE8o9ltc05O89jdN-dg2"}),
		"jkt beside x5t":   jwt(map[string]string{"jkt": key.JKT, "x5t#S256": "x"}),
		"jkt not a string": jwt(map[string]int{"jkt": 1}),
		"cnf a string":     jwt("jkt"),
	} {
		if _, err := v.ValidateToken(ctx, raw); !errors.Is(err, middleware.ErrInvalidToken) {
			t.Errorf("JWKS, %s: %v, want ErrInvalidToken", name, err)
		}
	}
	for _, raw := range []string{"dpop-no-cnf", "x5t", "jkt-and-x5t", "jkt-not-a-tp", "jkt-not-a-str"} {
		if _, err := iv.ValidateToken(ctx, raw); !errors.Is(err, middleware.ErrInvalidToken) {
			t.Errorf("introspection, %s: %v, want ErrInvalidToken", raw, err)
		}
	}

	const url = "https://api.example.com/data"
	for name, c := range map[string]struct {
		v   middleware.Validator
		raw string
	}{"JWKS": {v, jwt(map[string]string{"jkt": key.JKT})}, "introspection": {iv, "bound"}} {
		g, err := middleware.New(c.v, middleware.Options{DPoP: middleware.DPoPOptions{Now: clk.Now}})
		if err != nil {
			t.Fatal(err)
		}
		h := g.Require("read")(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
		for _, r := range []struct {
			auth, proof string
			status      int
		}{
			{"DPoP " + c.raw, key.Proof(t, "GET", url, dpoptest.Token(c.raw), dpoptest.IssuedAt(clk.Now())), 200},
			{"Bearer " + c.raw, "", 401},
			{"DPoP " + c.raw, dpoptest.NewKey(t, "ES256").Proof(t, "GET", url, dpoptest.Token(c.raw), dpoptest.IssuedAt(clk.Now())), 401},
		} {
			req := httptest.NewRequest("GET", url, nil)
			req.Header.Set("Authorization", r.auth)
			if r.proof != "" {
				req.Header.Set("DPoP", r.proof)
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, req)
			if w.Code != r.status {
				t.Errorf("%s, %s: %d, want %d (%q)", name, r.auth[:4], w.Code, r.status, w.Header().Get("WWW-Authenticate"))
			}
		}
	}
}
