package middleware

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
)

// mapValidator knows a fixed set of tokens.
type mapValidator map[string]*Token

func (m mapValidator) ValidateToken(_ context.Context, raw string) (*Token, error) {
	if raw == "broken" {
		return nil, errors.New("database unreachable")
	}
	if t, ok := m[raw]; ok {
		return t, nil
	}
	return nil, ErrInvalidToken
}

var testTokens = mapValidator{
	"read":      {ClientID: "c", Subject: "1", Username: "user1", Scopes: []string{"read"}},
	"readwrite": {ClientID: "c", Subject: "1", Username: "user1", Scopes: []string{"read", "write"}},
	"none":      {ClientID: "c"},
}

var okHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	tok, ok := TokenFromContext(r.Context())
	if !ok {
		w.Write([]byte("anonymous"))
		return
	}
	w.Write([]byte("hello " + tok.ClientID + " " + strings.Join(tok.Scopes, ",")))
})

func serve(h http.Handler, hdr ...string) *httptest.ResponseRecorder {
	r := httptest.NewRequest("GET", "/api/data", nil)
	for _, v := range hdr {
		r.Header.Add("Authorization", v)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func TestRequireOAuthRFC6750(t *testing.T) {
	h := RequireOAuth(testTokens, "read")(okHandler)
	cases := []struct {
		name      string
		hdr       []string
		status    int
		challenge string // exact WWW-Authenticate, or "" for none
		body      string // substring
	}{
		{"valid", []string{"Bearer read"}, 200, "", "hello c read"},
		{"scheme any case", []string{"bEaReR read"}, 200, "", "hello c"},
		{"several spaces", []string{"Bearer   read"}, 200, "", "hello c"},
		{"superset scope", []string{"Bearer readwrite"}, 200, "", "hello c read,write"},
		{"no header", nil, 401, `Bearer realm="api", scope="read"`, `"error":"unauthorized"`},
		{"other scheme", []string{"Basic dXNlcjpwYXNz"}, 401, `Bearer realm="api", scope="read"`, ""},
		{"scheme only", []string{"Bearer"}, 400, `Bearer realm="api", error="invalid_request", error_description="the request carries a malformed or duplicated token"`, `"error":"invalid_request"`},
		{"bad chars", []string{"Bearer a b"}, 400, "", "invalid_request"},
		{"quote in token", []string{`Bearer a"b`}, 400, "", "invalid_request"},
		{"two headers", []string{"Bearer read", "Bearer read"}, 400, "", "invalid_request"},
		{"unknown", []string{"Bearer nope"}, 401, `Bearer realm="api", error="invalid_token", error_description="the access token is invalid, expired or revoked", scope="read"`, `"error":"invalid_token"`},
		{"no scope", []string{"Bearer none"}, 403, `Bearer realm="api", error="insufficient_scope", error_description="the access token lacks the required scope", scope="read"`, `"scope":"read"`},
		{"validator down", []string{"Bearer broken"}, 503, "", `"error":"temporarily_unavailable"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w := serve(h, c.hdr...)
			if w.Code != c.status {
				t.Fatalf("status %d, want %d; body %s", w.Code, c.status, w.Body)
			}
			got := w.Header().Get("WWW-Authenticate")
			if c.challenge != "" && got != c.challenge {
				t.Errorf("WWW-Authenticate %q, want %q", got, c.challenge)
			}
			if c.status == 401 || c.status == 403 || c.status == 400 {
				if !strings.HasPrefix(got, "Bearer ") {
					t.Errorf("missing Bearer challenge: %q", got)
				}
			}
			if c.status == 503 {
				if strings.Contains(w.Body.String(), "database") {
					t.Errorf("internal error leaked: %s", w.Body)
				}
				if ra := w.Header().Get("Retry-After"); ra != "1" || got != "" {
					t.Errorf("503: Retry-After %q, WWW-Authenticate %q; want 1 and none", ra, got)
				}
			}
			if !strings.Contains(w.Body.String(), c.body) {
				t.Errorf("body %q lacks %q", w.Body, c.body)
			}
		})
	}
}

func TestScopeSemantics(t *testing.T) {
	all := RequireOAuth(testTokens, "read", "write")(okHandler)
	anyOf := RequireAnyScope(testTokens, "read", "write")(okHandler)
	noScopes := RequireOAuth(testTokens)(okHandler)
	for _, c := range []struct {
		h      http.Handler
		tok    string
		status int
	}{
		{all, "readwrite", 200},
		{all, "read", 403},
		{anyOf, "read", 200},
		{anyOf, "readwrite", 200},
		{anyOf, "none", 403},
		{noScopes, "none", 200},
	} {
		if w := serve(c.h, "Bearer "+c.tok); w.Code != c.status {
			t.Errorf("token %q: status %d, want %d", c.tok, w.Code, c.status)
		}
	}
	w := serve(all, "Bearer read")
	if got := w.Header().Get("WWW-Authenticate"); !strings.Contains(got, `scope="read write"`) {
		t.Errorf("insufficient_scope challenge %q lacks the required scopes", got)
	}
}

func TestQueryToken(t *testing.T) {
	r := httptest.NewRequest("GET", "/api/data?access_token=read", nil)
	w := httptest.NewRecorder()
	RequireOAuth(testTokens, "read")(okHandler).ServeHTTP(w, r)
	if w.Code != 401 {
		t.Fatalf("query token accepted by default: %d", w.Code)
	}
	g, err := New(testTokens, Options{AllowQueryToken: true})
	if err != nil {
		t.Fatal(err)
	}
	w = httptest.NewRecorder()
	g.Require("read")(okHandler).ServeHTTP(w, r)
	if w.Code != 200 {
		t.Fatalf("query token refused when allowed: %d", w.Code)
	}
	r = httptest.NewRequest("GET", "/api/data?access_token=read", nil)
	r.Header.Set("Authorization", "Bearer read")
	w = httptest.NewRecorder()
	g.Require("read")(okHandler).ServeHTTP(w, r)
	if w.Code != 400 {
		t.Fatalf("token in two places: status %d, want 400", w.Code)
	}
}

func TestOptional(t *testing.T) {
	g, _ := New(testTokens, Options{})
	h := g.Optional()(okHandler)
	if w := serve(h); w.Code != 200 || w.Body.String() != "anonymous" {
		t.Errorf("no token: %d %q", w.Code, w.Body)
	}
	if w := serve(h, "Bearer read"); w.Code != 200 || !strings.HasPrefix(w.Body.String(), "hello") {
		t.Errorf("valid token: %d %q", w.Code, w.Body)
	}
	if w := serve(h, "Bearer nope"); w.Code != 401 {
		t.Errorf("invalid token passed optional mode: %d", w.Code)
	}
}

func TestCustomErrorWriterAndHooks(t *testing.T) {
	var seen []string
	g, err := New(testTokens, Options{
		Realm: "shop",
		ErrorWriter: func(w http.ResponseWriter, r *http.Request, e *Error) {
			w.Header().Set("WWW-Authenticate", e.Challenge())
			w.WriteHeader(e.Status)
			w.Write([]byte("custom:" + e.Code))
		},
		OnFailure: func(r *http.Request, e *Error) { seen = append(seen, e.Code) },
	})
	if err != nil {
		t.Fatal(err)
	}
	w := serve(g.Require("write")(okHandler), "Bearer read")
	if w.Code != 403 || w.Body.String() != "custom:insufficient_scope" {
		t.Fatalf("custom writer not used: %d %q", w.Code, w.Body)
	}
	if !strings.HasPrefix(w.Header().Get("WWW-Authenticate"), `Bearer realm="shop"`) {
		t.Errorf("realm not used: %q", w.Header().Get("WWW-Authenticate"))
	}
	if len(seen) != 1 || seen[0] != "insufficient_scope" {
		t.Errorf("OnFailure saw %v", seen)
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	if _, err := New(nil, Options{}); err == nil {
		t.Error("nil validator accepted")
	}
	if _, err := New(testTokens, Options{Realm: `a"b`}); err == nil {
		t.Error("realm with a quote accepted")
	}
	// RequireOAuth with no validator fails closed instead of panicking.
	w := serve(RequireOAuth(nil)(okHandler), "Bearer read")
	if w.Code != 500 {
		t.Errorf("nil validator: status %d, want 500", w.Code)
	}
}

func TestTokenTooLong(t *testing.T) {
	w := serve(RequireOAuth(testTokens)(okHandler), "Bearer "+strings.Repeat("a", maxTokenLen+1))
	if w.Code != 400 {
		t.Errorf("oversized token: status %d, want 400", w.Code)
	}
}

// b64tokenRE is RFC 6750 §2.1's b64token, as a reference.
var b64tokenRE = regexp.MustCompile(`^[A-Za-z0-9\-._~+/]+=*$`)

func FuzzBearerToken(f *testing.F) {
	for _, s := range []string{"Bearer abc", "bearer a.b.c==", "Bearer", "Basic x", "Bearer a=b", "Bearer  x", "", "DPoP abc", "dpop", "DPoPx y"} {
		f.Add(s, "access_token=x")
	}
	f.Fuzz(func(t *testing.T, header, query string) {
		r := httptest.NewRequest("GET", "/", nil)
		r.URL.RawQuery = query
		if header != "" {
			r.Header.Set("Authorization", header)
		}
		tok, _, err := credentials(r, true)
		if err == nil && !b64tokenRE.MatchString(tok) {
			t.Fatalf("accepted token %q outside b64token syntax", tok)
		}
		if isB64Token(header) != (len(header) <= maxTokenLen && b64tokenRE.MatchString(header)) {
			t.Fatalf("isB64Token(%q) disagrees with RFC 6750's grammar", header)
		}
		if err == nil && strings.ContainsAny(tok, " \t\r\n\"") {
			t.Fatalf("accepted token with separators %q", tok)
		}
	})
}

// intoValidator is mapValidator with the in-place fast path.
type intoValidator struct{ mapValidator }

func (v intoValidator) ValidateTokenInto(ctx context.Context, raw string, into *Token) error {
	t, err := v.ValidateToken(ctx, raw)
	if err != nil {
		return err
	}
	*into = *t
	return nil
}

type outerKey struct{}

func TestValidatorIntoContext(t *testing.T) {
	var seen *Token
	var outer any
	var cancelled bool
	h := RequireOAuth(intoValidator{testTokens}, "read")(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen, _ = TokenFromContext(r.Context())
		outer = r.Context().Value(outerKey{})
		ctx, cancel := context.WithCancel(r.Context())
		cancel()
		<-ctx.Done()
		cancelled = true
	}))
	r := httptest.NewRequest("GET", "/", nil)
	parent, cancel := context.WithCancel(context.WithValue(context.Background(), outerKey{}, "kept"))
	defer cancel()
	r = r.WithContext(parent)
	r.Header.Set("Authorization", "Bearer readwrite")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Code != 200 || seen == nil || seen.Username != "user1" || len(seen.Scopes) != 2 {
		t.Fatalf("status %d, token %+v", w.Code, seen)
	}
	if outer != "kept" || !cancelled {
		t.Fatalf("outer value %v, cancellation %v", outer, cancelled)
	}
	if w := serve(RequireOAuth(intoValidator{testTokens})(okHandler), "Bearer nope"); w.Code != 401 {
		t.Fatalf("invalid token through ValidatorInto: %d", w.Code)
	}
}
