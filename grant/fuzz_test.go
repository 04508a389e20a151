package grant

import (
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
)

// FuzzTokenRequest throws arbitrary bodies, content types and Authorization
// headers at the token endpoint: it must answer every one with a standard
// JSON error or a token, never a panic or a 500, and never cacheable.
func FuzzTokenRequest(f *testing.F) {
	f.Add("grant_type=client_credentials", "application/x-www-form-urlencoded", "Basic c3ZjOnNlY3JldA==")
	f.Add("grant_type=password&username=user1&password=password1&client_id=cli", "application/x-www-form-urlencoded", "")
	f.Add("grant_type=refresh_token&refresh_token=okrt_x&client_id=cli", "application/x-www-form-urlencoded", "")
	f.Add("grant_type=authorization_code&code=okac_x&redirect_uri=https%3A%2F%2Fa&code_verifier=x", "application/x-www-form-urlencoded", "Basic Og==")
	f.Add("grant_type=client_credentials&grant_type=x", "application/x-www-form-urlencoded; charset=utf-8", "Bearer x")
	f.Add("%zz&&==", "text/plain", "Basic !!!")
	f.Add("grant_type=client_credentials&resource=https%3A%2F%2Fapi.example%2Fmcp&resource=%23x&resource=", "application/x-www-form-urlencoded", "Basic c3ZjOnNlY3JldA==")
	fx := newFixture(f)
	h := fx.p.TokenHandler()
	f.Fuzz(func(t *testing.T, body, ctype, auth string) {
		r := httptest.NewRequest("POST", "/oauth/token", strings.NewReader(body))
		r.Header.Set("Content-Type", ctype)
		if auth != "" {
			r.Header.Set("Authorization", auth)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code >= 500 {
			t.Fatalf("status %d for body %q: %s", w.Code, body, w.Body)
		}
		if w.Header().Get("Cache-Control") != "no-store" {
			t.Fatalf("response without no-store")
		}
		if w.Code != 200 && !strings.Contains(w.Body.String(), `"error":"`) {
			t.Fatalf("status %d without an error code: %s", w.Code, w.Body)
		}
		if w.Code == http.StatusUnauthorized && strings.HasPrefix(auth, "Basic ") && w.Header().Get("WWW-Authenticate") == "" {
			// Only when the header was really Basic credentials; a
			// malformed one may be refused as a bad method.
			if _, _, ok := r.BasicAuth(); ok {
				t.Fatalf("invalid_client after Basic without a challenge")
			}
		}
	})
}

// FuzzParseScope checks that accepted scopes are well-formed scope-tokens,
// without repeats, and that parsing is stable.
func FuzzParseScope(f *testing.F) {
	for _, s := range []string{"read", "read write", "  read  read ", "a\"b", "é", "x\ty", strings.Repeat("s ", 70)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		toks, ok := parseScope(s)
		if !ok {
			return
		}
		if len(toks) > maxScopes {
			t.Fatalf("%d scopes accepted", len(toks))
		}
		for i, tok := range toks {
			if tok == "" || strings.ContainsAny(tok, " \"\\") || slices.Contains(toks[:i], tok) {
				t.Fatalf("bad token %q in %q", tok, toks)
			}
			for j := 0; j < len(tok); j++ {
				if tok[j] < 0x21 || tok[j] > 0x7e {
					t.Fatalf("byte %#x in scope %q", tok[j], tok)
				}
			}
		}
		again, ok := parseScope(joinScopes(toks))
		if !ok || !slices.Equal(again, toks) {
			t.Fatalf("unstable: %q -> %q -> %q", s, toks, again)
		}
	})
}
