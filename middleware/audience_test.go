package middleware_test

import (
	"context"
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

const mcpResource = "https://mcp.example.com/mcp"

// forgeAud returns raw with its payload's aud replaced, the signature
// kept: a token someone edited.
func forgeAud(t *testing.T, raw string, aud any) string {
	t.Helper()
	parts := strings.Split(raw, ".")
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(payload, &m); err != nil {
		t.Fatal(err)
	}
	m["aud"] = aud
	payload, _ = json.Marshal(m)
	parts[1] = base64.RawURLEncoding.EncodeToString(payload)
	return strings.Join(parts, ".")
}

// TestJWKSAudienceIsResource: JWKSConfig.Audience may be the resource
// identifier a Guard is bound to; aud values are then compared as
// canonical URIs. Another resource, none, a path below it, and an aud
// edited into a token signed for another resource are refused.
func TestJWKSAudienceIsResource(t *testing.T) {
	k := newTestKey(t, "k1", jose.EdDSA)
	s := newJWKSServer(t, k)
	clk := &tclock{t: t0.Add(time.Minute)}
	v := newJWKSValidator(t, s, clk, func(c *middleware.JWKSConfig) { c.Audience = mcpResource })
	withAud := func(aud ...string) string {
		c := goodClaims()
		c.Audience = aud
		return sign(t, k, c, nil)
	}
	ctx := context.Background()
	for name, raw := range map[string]string{
		"exact":             withAud(mcpResource),
		"another spelling":  withAud("HTTPS://MCP.example.com:443/mcp"),
		"among others":      withAud("https://other.example.com/mcp", mcpResource),
		"percent-encoded m": withAud("https://mcp.example.com/%6Dcp"),
		"trailing slash":    withAud(mcpResource + "/"),
	} {
		if _, err := v.ValidateToken(ctx, raw); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	other := withAud("https://other.example.com/mcp")
	for name, raw := range map[string]string{
		"another resource": other,
		"no audience":      withAud(),
		"its origin":       withAud("https://mcp.example.com"),
		"a path below":     withAud(mcpResource + "/x"),
		"a name":           withAud("oauthkit-example-api"),
		"forged aud":       forgeAud(t, other, mcpResource),
		"forged aud list":  forgeAud(t, other, []string{mcpResource}),
	} {
		if _, err := v.ValidateToken(ctx, raw); !errors.Is(err, middleware.ErrInvalidToken) {
			t.Errorf("%s: %v, want ErrInvalidToken", name, err)
		}
	}
	// A plain name still matches itself only, as before.
	plain := newJWKSValidator(t, s, clk, func(c *middleware.JWKSConfig) { c.Audience = "api" })
	if _, err := plain.ValidateToken(ctx, withAud("api")); err != nil {
		t.Errorf("name audience: %v", err)
	}
	if _, err := plain.ValidateToken(ctx, withAud("API")); err == nil {
		t.Error("a name audience matched another case")
	}
}

// TestIntrospectionAudienceIsResource: the same comparison for the aud of
// introspection answers.
func TestIntrospectionAudienceIsResource(t *testing.T) {
	ans := func(aud any) map[string]any {
		a := active(t0.Add(time.Hour))
		if aud == nil {
			delete(a, "aud")
		} else {
			a["aud"] = aud
		}
		return a
	}
	a := newFakeAS(t, map[string]map[string]any{
		"exact": ans(mcpResource), "spelling": ans("https://MCP.EXAMPLE.COM/mcp"), "list": ans([]string{"x", mcpResource}),
		"other": ans("https://other.example.com/mcp"), "none": ans(nil), "slash": ans(mcpResource + "/"),
		"below": ans(mcpResource + "/x"),
	})
	clk := &tclock{t: t0}
	v := newIntrospector(t, a, clk, func(c *middleware.IntrospectionConfig) { c.Audience = mcpResource })
	for raw, ok := range map[string]bool{"exact": true, "spelling": true, "list": true, "slash": true, "other": false, "none": false, "below": false} {
		_, err := v.ValidateToken(context.Background(), raw)
		if ok && err != nil || !ok && !errors.Is(err, middleware.ErrInvalidToken) {
			t.Errorf("%s: %v", raw, err)
		}
	}
}

// TestGuardResourceEveryValidator: a Guard bound to a resource refuses
// tokens for another resource or none whichever validator produced them —
// JWKS (its own Audience another identifier the tokens also carry) and
// introspection (no Audience of its own).
func TestGuardResourceEveryValidator(t *testing.T) {
	k := newTestKey(t, "k1", jose.EdDSA)
	s := newJWKSServer(t, k)
	clk := &tclock{t: t0.Add(time.Minute)}
	jwks := newJWKSValidator(t, s, clk, func(c *middleware.JWKSConfig) { c.Audience = "api" })
	jwt := func(aud ...string) string {
		c := goodClaims()
		c.Audience = josejwt.Audience(aud)
		return sign(t, k, c, nil)
	}
	ans := func(aud ...string) map[string]any {
		a := active(t0.Add(time.Hour))
		if a["aud"] = aud; aud == nil {
			delete(a, "aud")
		}
		return a
	}
	as := newFakeAS(t, map[string]map[string]any{
		"mine": ans(mcpResource), "other": ans("https://other.example.com/mcp"), "none": ans(),
	})
	intro := newIntrospector(t, as, &tclock{t: t0.Add(time.Minute)}, func(c *middleware.IntrospectionConfig) { c.Audience = "" })
	for name, c := range map[string]struct {
		v                 middleware.Validator
		mine, other, none string
	}{
		"jwks":          {jwks, jwt("api", mcpResource), jwt("api", "https://other.example.com/mcp"), jwt("api")},
		"introspection": {intro, "mine", "other", "none"},
	} {
		g, err := middleware.New(c.v, middleware.Options{Resource: middleware.ProtectedResource{ID: mcpResource}})
		if err != nil {
			t.Fatal(err)
		}
		h := g.Require("read")(okHandler())
		for raw, want := range map[string]int{c.mine: 200, c.other: 401, c.none: 401} {
			if w := serveBearer(h, raw); w.Code != want {
				t.Errorf("%s: status %d, want %d", name, w.Code, want)
			}
		}
	}
}

func okHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("ok")) })
}

func serveBearer(h http.Handler, raw string) *httptest.ResponseRecorder {
	r := httptest.NewRequest("GET", "/mcp", nil)
	r.Header.Set("Authorization", "Bearer "+raw)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}
