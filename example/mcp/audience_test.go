package main

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	josejwt "github.com/go-jose/go-jose/v4/jwt"

	"github.com/oauthkit/oauthkit/grant"
	"github.com/oauthkit/oauthkit/middleware"
)

const otherResource = "https://other.example.com/mcp"

// forgeAud returns the JWT raw with its payload's aud replaced and the
// signature kept: a token someone edited to use it elsewhere.
func forgeAud(t *testing.T, raw, aud string) string {
	t.Helper()
	parts := strings.Split(raw, ".")
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatalf("not a JWT: %v", err)
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

// signWithoutAud signs, with the authorization server's own key, an
// RFC 9068 access token that has every claim but aud: a token for no
// resource that no signature check would catch.
func signWithoutAud(t *testing.T, k grant.SigningKey, iss string) string {
	t.Helper()
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.EdDSA, Key: k.Key},
		(&jose.SignerOptions{}).WithType("at+jwt").WithHeader("kid", k.ID))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	raw, err := josejwt.Signed(s).Claims(map[string]any{
		"iss": iss, "sub": "client:app", "client_id": "app", "scope": "read", "jti": "no-aud",
		"iat": now.Unix(), "exp": now.Add(5 * time.Minute).Unix(),
	}).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// TestAudience: a token for another resource, one for no resource (the
// authorization server's default audience), one with no audience at all,
// and a JWT whose aud was edited to this server are refused with 401
// invalid_token — by the MCP server in both modes, and by RequireOAuth
// with a resource set for each of the three validators (the local
// Provider, JWKS, introspection), all facing the same real tokens. A token
// asked for this resource is admitted everywhere.
func TestAudience(t *testing.T) {
	var key grant.SigningKey
	e := newEnv(t, "jwks", func(c *grant.Config, resource string) {
		c.Audience = []string{"oauthkit-example-api"}
		c.Resources.Allowed = []string{resource, otherResource}
		key = c.SigningKeys[0]
	})
	// The same authorization server, opaque tokens with no default
	// audience: a token asked for no resource has none at all.
	opaqueEnv := newEnv(t, "introspect", func(c *grant.Config, resource string) {
		c.Resources.Allowed = []string{resource}
	})
	read := []string{"read"}
	mine := e.as.token(t, read, map[string][]string{"resource": {e.resource}})
	other := e.as.token(t, read, map[string][]string{"resource": {otherResource}})
	tokens := map[string]string{
		"another resource":       other,
		"no resource (default)":  e.as.token(t, read, nil),
		"forged aud":             forgeAud(t, other, e.resource),
		"forged aud, other case": forgeAud(t, other, strings.ToUpper(e.resource[:4])+e.resource[4:]),
		"signed without aud":     signWithoutAud(t, key, e.as.srv.URL),
	}
	noAud := opaqueEnv.as.token(t, read, nil) // opaque, no audience at all

	// The three validators behind RequireOAuth bound to the MCP server's resource.
	iss := e.as.srv.URL
	jwks, err := middleware.NewJWKSValidator(middleware.JWKSConfig{URL: iss + "/.well-known/jwks.json", Issuer: iss, Audience: e.resource, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	intro, err := middleware.NewIntrospectionValidator(middleware.IntrospectionConfig{URL: iss + "/oauth/introspect", ClientID: "rs", ClientSecret: e.as.secrets["rs"], Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	introOpaque, err := middleware.NewIntrospectionValidator(middleware.IntrospectionConfig{URL: opaqueEnv.as.srv.URL + "/oauth/introspect", ClientID: "rs", ClientSecret: opaqueEnv.as.secrets["rs"], Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	validators := map[string]struct {
		v, opaque middleware.Validator
	}{
		"local Provider": {e.as.p, opaqueEnv.as.p},
		"JWKS":           {jwks, nil},
		"introspection":  {intro, introOpaque},
	}
	for name, vs := range validators {
		t.Run("RequireOAuth/"+name, func(t *testing.T) {
			guard := func(v middleware.Validator, resource string) http.Handler {
				g, err := middleware.New(v, middleware.Options{Logger: quiet, Resource: middleware.ProtectedResource{ID: resource}})
				if err != nil {
					t.Fatal(err)
				}
				return g.Require("read")(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
			}
			h := guard(vs.v, e.resource)
			if code, _ := serveGET(h, mine); code != 200 {
				t.Fatalf("a token for this resource: %d", code)
			}
			for what, tok := range tokens {
				if code, chal := serveGET(h, tok); code != 401 || !strings.Contains(chal, `error="invalid_token"`) {
					t.Errorf("%s: %d %q", what, code, chal)
				}
			}
			if vs.opaque != nil {
				if code, chal := serveGET(guard(vs.opaque, e.resource), noAud); code != 401 || !strings.Contains(chal, `error="invalid_token"`) {
					t.Errorf("no audience at all: %d %q", code, chal)
				}
			}
		})
	}

	// The MCP server itself, in both modes: e's own (JWKS), and one by
	// introspection with e's resource identifier.
	endpoints := map[string]string{"jwks": e.resource, "introspect": serveMCP(t, config{
		Mode: "introspect", Issuer: e.as.srv.URL, Resource: e.resource, ClientID: "rs", ClientSecret: e.as.secrets["rs"], Logger: quiet,
	})}
	for mode, endpoint := range endpoints {
		t.Run("example/mcp/"+mode, func(t *testing.T) {
			if text, err := callGetData(t, endpoint, mine); err != nil || text != "This is protected data." {
				t.Fatalf("a token for this server: %q, %v", text, err)
			}
			for what, tok := range tokens {
				res := post(t, endpoint, tok)
				if chal := res.Header.Get("WWW-Authenticate"); res.StatusCode != 401 || !strings.Contains(chal, `error="invalid_token"`) {
					t.Errorf("%s: %d %q", what, res.StatusCode, chal)
				}
				if _, err := callGetData(t, endpoint, tok); err == nil {
					t.Errorf("%s: the SDK client called the tool", what)
				}
			}
		})
	}
	// No audience at all, through the MCP server (introspection of opaque tokens).
	res := post(t, opaqueEnv.resource, noAud)
	if chal := res.Header.Get("WWW-Authenticate"); res.StatusCode != 401 || !strings.Contains(chal, `error="invalid_token"`) {
		t.Errorf("no audience at all: %d %q", res.StatusCode, chal)
	}
	if text, err := callGetData(t, opaqueEnv.resource, opaqueEnv.as.token(t, read, map[string][]string{"resource": {opaqueEnv.resource}})); err != nil || text != "This is protected data." {
		t.Errorf("opaque token for this server: %q, %v", text, err)
	}
}

// serveMCP serves the example's handler for c on httptest and returns its
// /mcp URL.
func serveMCP(t *testing.T, c config) string {
	t.Helper()
	h, err := newServer(c)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv.URL + "/mcp"
}

func serveGET(h http.Handler, tok string) (int, string) {
	r := httptest.NewRequest("GET", "/mcp", nil)
	r.Header.Set("Authorization", "Bearer "+tok)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w.Code, w.Header().Get("WWW-Authenticate")
}
