package middleware

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
)

const (
	testResource = "https://mcp.example.com/mcp"
	testMetadata = "https://mcp.example.com/.well-known/oauth-protected-resource/mcp"
)

// audTokens are tokens for various audiences, all granted read.
var audTokens = mapValidator{
	"mine":      {ClientID: "c", Subject: "1", Scopes: []string{"read"}, Audience: []string{testResource}},
	"mine-too":  {ClientID: "c", Subject: "1", Scopes: []string{"read"}, Audience: []string{"https://other.example.com", "HTTPS://MCP.Example.com:443/mcp"}},
	"noread":    {ClientID: "c", Subject: "1", Scopes: []string{"write"}, Audience: []string{testResource}},
	"other":     {ClientID: "c", Subject: "1", Scopes: []string{"read"}, Audience: []string{"https://other.example.com/mcp"}},
	"none":      {ClientID: "c", Subject: "1", Scopes: []string{"read"}},
	"empty":     {ClientID: "c", Subject: "1", Scopes: []string{"read"}, Audience: []string{""}},
	"slash":     {ClientID: "c", Subject: "1", Scopes: []string{"read"}, Audience: []string{testResource + "/"}},
	"slashes":   {ClientID: "c", Subject: "1", Scopes: []string{"read"}, Audience: []string{testResource + "//"}},
	"dots":      {ClientID: "c", Subject: "1", Scopes: []string{"read"}, Audience: []string{"https://mcp.example.com/x/../mcp"}},
	"origin":    {ClientID: "c", Subject: "1", Scopes: []string{"read"}, Audience: []string{"https://mcp.example.com"}},
	"prefix":    {ClientID: "c", Subject: "1", Scopes: []string{"read"}, Audience: []string{testResource + "/admin"}},
	"name":      {ClientID: "c", Subject: "1", Scopes: []string{"read"}, Audience: []string{"oauthkit-example-api"}},
	"fragment":  {ClientID: "c", Subject: "1", Scopes: []string{"read"}, Audience: []string{testResource + "#"}},
	"otherhost": {ClientID: "c", Subject: "1", Scopes: []string{"read"}, Audience: []string{"https://mcp.example.com.evil/mcp"}},
}

func resourceGuard(t *testing.T, v Validator, opts Options) *Guard {
	t.Helper()
	if opts.Resource.ID == "" {
		opts.Resource.ID = testResource
	}
	if opts.Resource.AuthorizationServers == nil {
		opts.Resource.AuthorizationServers = []string{"https://as.example.com"}
	}
	g, err := New(v, opts)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// TestResourceChallenges: a Guard protecting a resource names its metadata
// in every challenge (RFC 9728 §5.1), and the route's scopes in the 401s as
// in the 403 (RFC 6750 §3; MCP scope selection and step-up).
func TestResourceChallenges(t *testing.T) {
	h := resourceGuard(t, audTokens, Options{}).Require("read")(okHandler)
	rm := `resource_metadata="` + testMetadata + `"`
	for _, c := range []struct {
		name      string
		hdr       []string
		status    int
		challenge string
	}{
		{"no token", nil, 401, `Bearer ` + rm + `, realm="api", scope="read"`},
		{"other scheme", []string{"Basic dXNlcjpwYXNz"}, 401, `Bearer ` + rm + `, realm="api", scope="read"`},
		{"unknown token", []string{"Bearer nope"}, 401, `Bearer ` + rm + `, realm="api", error="invalid_token", error_description="the access token is invalid, expired or revoked", scope="read"`},
		{"malformed", []string{"Bearer"}, 400, `Bearer ` + rm + `, realm="api", error="invalid_request", error_description="the request carries a malformed or duplicated token"`},
		{"insufficient scope", []string{"Bearer noread"}, 403, `Bearer ` + rm + `, realm="api", error="insufficient_scope", error_description="the access token lacks the required scope", scope="read"`},
	} {
		t.Run(c.name, func(t *testing.T) {
			w := serve(h, c.hdr...)
			if w.Code != c.status {
				t.Fatalf("status %d, want %d", w.Code, c.status)
			}
			if got := w.Header().Get("WWW-Authenticate"); got != c.challenge {
				t.Errorf("WWW-Authenticate\n %s\nwant\n %s", got, c.challenge)
			}
		})
	}
}

// TestAudienceBinding: a Guard protecting a resource admits only tokens
// issued for it, compared as canonical URIs (internal/resource; one
// trailing slash does not matter): another resource, no audience, its
// origin, a path below it, a look-alike host, or an audience that is no
// resource identifier (dot segments, "//" at the end) are refused with 401
// invalid_token.
func TestAudienceBinding(t *testing.T) {
	g := resourceGuard(t, audTokens, Options{})
	into := resourceGuard(t, intoValidator{audTokens}, Options{})
	for tok, want := range map[string]int{
		"mine": 200, "mine-too": 200, "slash": 200, "noread": 403,
		"other": 401, "none": 401, "empty": 401, "slashes": 401, "dots": 401, "origin": 401,
		"prefix": 401, "name": 401, "fragment": 401, "otherhost": 401,
	} {
		for name, h := range map[string]http.Handler{
			"Require":          g.Require("read")(okHandler),
			"RequireAny":       g.RequireAny("read")(okHandler),
			"Optional":         g.Optional()(okHandler),
			"ValidatorInto":    into.Require("read")(okHandler),
			"no scopes needed": g.Require()(okHandler),
		} {
			want := want
			if want == 403 && (name == "Optional" || name == "no scopes needed") {
				want = 200
			}
			w := serve(h, "Bearer "+tok)
			if w.Code != want {
				t.Errorf("%s, token %q: status %d, want %d", name, tok, w.Code, want)
				continue
			}
			if want == 401 && !strings.Contains(w.Header().Get("WWW-Authenticate"), `error="invalid_token", error_description="the access token was not issued for this resource"`) {
				t.Errorf("%s, token %q: challenge %q", name, tok, w.Header().Get("WWW-Authenticate"))
			}
		}
		tk, err := g.Check(t.Context(), tok)
		if (err == nil) != (want != 401) || err != nil && !isInvalid(err) || err == nil && tk.ClientID != "c" {
			t.Errorf("Check(%q) = %+v, %v", tok, tk, err)
		}
	}
	// Without a resource, audiences are not the Guard's business.
	if w := serve(RequireOAuth(audTokens, "read")(okHandler), "Bearer other"); w.Code != 200 {
		t.Errorf("a Guard without a resource checked the audience: %d", w.Code)
	}
}

func isInvalid(err error) bool { return err != nil && strings.Contains(err.Error(), "invalid token") }

// TestMetadataHandler: the RFC 9728 document at its path-inserted
// well-known URL, public (any origin, preflights granted) and cacheable.
func TestMetadataHandler(t *testing.T) {
	g := resourceGuard(t, audTokens, Options{Resource: ProtectedResource{
		AuthorizationServers: []string{"https://as.example.com"},
		ScopesSupported:      []string{"read", "write"},
		Name:                 "Example MCP server",
		DocumentationURL:     "https://mcp.example.com/docs",
	}})
	if got := g.MetadataPath(); got != "/.well-known/oauth-protected-resource/mcp" {
		t.Fatalf("MetadataPath %q", got)
	}
	h := g.MetadataHandler()
	r := httptest.NewRequest("GET", testMetadata, nil)
	r.Header.Set("Origin", "https://app.example.net")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Code != 200 {
		t.Fatalf("status %d", w.Code)
	}
	for k, want := range map[string]string{
		"Content-Type": "application/json", "Cache-Control": "public, max-age=300", "Access-Control-Allow-Origin": "*",
	} {
		if got := w.Header().Get(k); got != want {
			t.Errorf("%s: %q, want %q", k, got, want)
		}
	}
	var doc map[string]any
	if err := json.Unmarshal(w.Body.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"resource":                 testResource,
		"authorization_servers":    []any{"https://as.example.com"},
		"scopes_supported":         []any{"read", "write"},
		"bearer_methods_supported": []any{"header"},
		"resource_name":            "Example MCP server",
		"resource_documentation":   "https://mcp.example.com/docs",
	}
	if len(doc) != len(want) {
		t.Errorf("document %v, want the members %v", doc, want)
	}
	for k, v := range want {
		if got, _ := json.Marshal(doc[k]); string(got) != mustJSON(v) {
			t.Errorf("%s: %s, want %s", k, got, mustJSON(v))
		}
	}

	// A browser's preflight (the MCP TypeScript SDK sends its own header).
	r = httptest.NewRequest("OPTIONS", testMetadata, nil)
	r.Header.Set("Origin", "https://app.example.net")
	r.Header.Set("Access-Control-Request-Method", "GET")
	r.Header.Set("Access-Control-Request-Headers", "mcp-protocol-version")
	w = httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Code != 204 || w.Header().Get("Access-Control-Allow-Origin") != "*" {
		t.Errorf("preflight: %d %v", w.Code, w.Header())
	}
	for _, m := range []string{"POST", "PUT", "DELETE"} {
		w = httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest(m, testMetadata, strings.NewReader("{}")))
		if w.Code != 405 || w.Header().Get("Allow") != "GET, HEAD" {
			t.Errorf("%s: %d, Allow %q", m, w.Code, w.Header().Get("Allow"))
		}
	}

	// Query tokens, when allowed, are listed.
	q := resourceGuard(t, audTokens, Options{AllowQueryToken: true})
	w = httptest.NewRecorder()
	q.MetadataHandler().ServeHTTP(w, httptest.NewRequest("GET", testMetadata, nil))
	if !strings.Contains(w.Body.String(), `"bearer_methods_supported":["header","query"]`) {
		t.Errorf("query allowed: %s", w.Body)
	}

	// Without a resource there is no document.
	plain, _ := New(audTokens, Options{})
	w = httptest.NewRecorder()
	plain.MetadataHandler().ServeHTTP(w, httptest.NewRequest("GET", testMetadata, nil))
	if w.Code != 404 || plain.MetadataPath() != "" {
		t.Errorf("no resource: %d, path %q", w.Code, plain.MetadataPath())
	}
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// TestMetadataURL: RFC 9728 §3.1 inserts the well-known suffix between the
// host and the path (and query), without the root's slash.
func TestMetadataURL(t *testing.T) {
	for in, want := range map[string]string{
		"https://mcp.example.com/mcp":        "https://mcp.example.com/.well-known/oauth-protected-resource/mcp",
		"https://mcp.example.com":            "https://mcp.example.com/.well-known/oauth-protected-resource",
		"https://mcp.example.com/":           "https://mcp.example.com/.well-known/oauth-protected-resource",
		"https://MCP.example.com:443/a/b":    "https://mcp.example.com/.well-known/oauth-protected-resource/a/b",
		"https://mcp.example.com/mcp?t=1":    "https://mcp.example.com/.well-known/oauth-protected-resource/mcp?t=1",
		"http://127.0.0.1:5002/mcp":          "http://127.0.0.1:5002/.well-known/oauth-protected-resource/mcp",
		"https://mcp.example.com/tenant/mcp": "https://mcp.example.com/.well-known/oauth-protected-resource/tenant/mcp",
	} {
		got, err := MetadataURL(in)
		if err != nil || got != want {
			t.Errorf("MetadataURL(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"", "mcp.example.com/mcp", "https://mcp.example.com/mcp#x", "ftp://h/x"} {
		if got, err := MetadataURL(in); err == nil {
			t.Errorf("MetadataURL(%q) = %q, want an error", in, got)
		}
	}
}

// TestResourceConfig: a bad resource configuration fails in New.
func TestResourceConfig(t *testing.T) {
	for name, r := range map[string]ProtectedResource{
		"relative":                    {ID: "mcp.example.com/mcp"},
		"fragment":                    {ID: "https://mcp.example.com/mcp#x"},
		"http off loopback":           {ID: "http://mcp.example.com/mcp"},
		"localhost":                   {ID: "http://localhost:5002/mcp"},
		"userinfo":                    {ID: "https://u@mcp.example.com/mcp"},
		"bad server":                  {ID: testResource, AuthorizationServers: []string{"as.example.com"}},
		"http server":                 {ID: testResource, AuthorizationServers: []string{"http://as.example.com"}},
		"server with query":           {ID: testResource, AuthorizationServers: []string{"https://as.example.com?x=1"}},
		"server with fragment":        {ID: testResource, AuthorizationServers: []string{"https://as.example.com#x"}},
		"bad metadata URL":            {ID: testResource, MetadataURL: "http://mcp.example.com/prm"},
		"servers without a resource":  {AuthorizationServers: []string{"https://as.example.com"}},
		"bad scope":                   {ID: testResource, ScopesSupported: []string{`a"b`}},
		"scope with a space":          {ID: testResource, ScopesSupported: []string{"a b"}},
		"documentation not a URL":     {ID: testResource, DocumentationURL: "docs"},
		"name with a control":         {ID: testResource, Name: "a\x00b"},
		"metadata URL without a path": {ID: testResource, MetadataURL: "https://mcp.example.com"},
	} {
		if _, err := New(audTokens, Options{Resource: r}); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	g, err := New(audTokens, Options{Resource: ProtectedResource{ID: "HTTP://127.0.0.1:5002/mcp", MetadataURL: "http://127.0.0.1:5002/prm"}})
	if err != nil {
		t.Fatal(err)
	}
	if g.MetadataPath() != "/prm" {
		t.Errorf("MetadataPath %q", g.MetadataPath())
	}
	w := httptest.NewRecorder()
	g.MetadataHandler().ServeHTTP(w, httptest.NewRequest("GET", "/prm", nil))
	var doc struct{ Resource string }
	_ = json.Unmarshal(w.Body.Bytes(), &doc)
	if doc.Resource != "http://127.0.0.1:5002/mcp" {
		t.Errorf("resource %q: the canonical form is published", doc.Resource)
	}
	if !slices.Contains(w.Header().Values("Access-Control-Allow-Origin"), "*") {
		t.Error("no CORS")
	}
}

// Run: go test -run '^$' -bench 'Guard' -benchmem ./middleware
// BenchmarkGuardNoResource is the baseline: a Guard that checks no audience.
func BenchmarkGuardNoResource(b *testing.B) {
	g, _ := New(intoValidator{audTokens}, Options{})
	benchGuard(b, g, "mine")
}

// BenchmarkGuardResourceCanonicalAud: the token's aud is written as the
// Guard's resource (oauthkit's authorization server writes canonical forms).
func BenchmarkGuardResourceCanonicalAud(b *testing.B) {
	g, _ := New(intoValidator{audTokens}, Options{Resource: ProtectedResource{ID: testResource}})
	benchGuard(b, g, "mine")
}

// BenchmarkGuardResourceOtherSpelling: the aud needs canonicalising.
func BenchmarkGuardResourceOtherSpelling(b *testing.B) {
	g, _ := New(intoValidator{audTokens}, Options{Resource: ProtectedResource{ID: testResource}})
	benchGuard(b, g, "mine-too")
}

func benchGuard(b *testing.B, g *Guard, tok string) {
	h := g.Require("read")(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	r := httptest.NewRequest("GET", "/mcp", nil)
	r.Header.Set("Authorization", "Bearer "+tok)
	w := httptest.NewRecorder()
	b.ReportAllocs()
	for b.Loop() {
		h.ServeHTTP(w, r)
	}
	if w.Code != 200 {
		b.Fatalf("status %d", w.Code)
	}
}
