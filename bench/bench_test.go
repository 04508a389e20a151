// Package bench compares oauthkit with go-oauth2/oauth2 v4.5.4 and
// ory/fosite on the same work, in one run. It is a module of its own so
// that the main module does not depend on the peers:
//
//	cd bench && go test -run '^$' -bench . -benchmem
//
// See README.md beside this file for the figures.
package bench

import (
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/ory/fosite"
	"github.com/ory/fosite/handler/openid"

	"github.com/oauthkit/oauthkit/middleware"
)

// serve runs h on r until the benchmark ends, checking every answer.
func serve(b *testing.B, h http.Handler, r *http.Request) {
	runtime.GC()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != http.StatusOK {
			b.Fatalf("status %d: %s", w.Code, w.Body)
		}
	}
}

func bearer(tok string) *http.Request {
	r := httptest.NewRequest(http.MethodGet, "/api/data", nil)
	r.Header.Set("Authorization", "Bearer "+tok)
	return r
}

// hasScope reports whether the space-separated list has s: the scope check
// the go-oauth2 path lacks and a host would add.
func hasScope(list, s string) bool {
	return slices.Contains(strings.Fields(list), s)
}

// BenchmarkValidate: an opaque access token checked in front of the bare
// handler, each library holding -live tokens issued through its own token
// endpoint. Each variant checks the "read" scope.
func BenchmarkValidate(b *testing.B) {
	b.Run("bare", func(b *testing.B) {
		serve(b, bare, httptest.NewRequest(http.MethodGet, "/api/data", nil))
	})
	b.Run("oauthkit-RequireOAuth", func(b *testing.B) {
		k := newOauthkit(b)
		var tok string
		for range *liveTokens {
			tok = post(b, k.token, clientCredentialsForm, k.secret).AccessToken
		}
		serve(b, middleware.RequireOAuth(k.p, scope)(bare), bearer(tok))
	})
	b.Run("go-oauth2-ValidationBearerToken", func(b *testing.B) {
		g := newGoOAuth2(b)
		var tok string
		for range *liveTokens {
			tok = post(b, g.token, clientCredentialsForm, g.secret).AccessToken
		}
		h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			ti, err := g.srv.ValidationBearerToken(r)
			if err != nil || !hasScope(ti.GetScope(), scope) {
				http.Error(w, "invalid_token", http.StatusUnauthorized)
				return
			}
			bare(w, r)
		})
		serve(b, h, bearer(tok))
	})
	b.Run("fosite-IntrospectToken", func(b *testing.B) {
		// Validation never hashes a client secret; the cheaper hasher
		// only makes seeding the store quick.
		f := newFosite(b, sha256Hasher{})
		var tok string
		for range *liveTokens {
			tok = post(b, f.token, clientCredentialsForm, f.secret).AccessToken
		}
		h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			ctx := r.Context()
			_, _, err := f.p.IntrospectToken(ctx, fosite.AccessTokenFromRequest(r), fosite.AccessToken, openid.NewDefaultSession(), scope)
			if err != nil {
				http.Error(w, "invalid_token", http.StatusUnauthorized)
				return
			}
			bare(w, r)
		})
		serve(b, h, bearer(tok))
	})
}

// issueLoop posts a fresh request built by form to h until the benchmark
// ends. form gets the previous answer (for refresh rotation).
func issueLoop(b *testing.B, h http.Handler, secret string, first tokenReply, form func(*testing.B, tokenReply) url.Values) {
	prev := first
	runtime.GC()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		prev = post(b, h, form(b, prev), secret)
	}
}

func ccForm(*testing.B, tokenReply) url.Values { return clientCredentialsForm }

func rotateForm(b *testing.B, t tokenReply) url.Values {
	if t.RefreshToken == "" {
		b.Fatal("no refresh token in the previous answer")
	}
	return refreshForm(t.RefreshToken)
}

// BenchmarkIssueClientCredentials: one client_credentials token through each
// library's token endpoint, client authenticated with HTTP Basic.
func BenchmarkIssueClientCredentials(b *testing.B) {
	b.Run("harness", func(b *testing.B) {
		// What every variant pays besides the library: building the
		// request, reading its form, a recorder, a fixed answer, and
		// reading the answer. Subtract it to compare the libraries alone.
		h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_ = r.ParseForm()
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Cache-Control", "no-store")
			_, _ = io.WriteString(w, `{"access_token":"okat_0123456789012345678901234567890123456789012","token_type":"Bearer","expires_in":3600,"scope":"read"}`+"\n")
		})
		issueLoop(b, h, "", tokenReply{}, ccForm)
	})
	b.Run("oauthkit", func(b *testing.B) {
		k := newOauthkit(b)
		issueLoop(b, k.token, k.secret, tokenReply{}, ccForm)
	})
	b.Run("go-oauth2", func(b *testing.B) {
		g := newGoOAuth2(b)
		issueLoop(b, g.token, g.secret, tokenReply{}, ccForm)
	})
	b.Run("fosite-default-bcrypt12", func(b *testing.B) {
		f := newFosite(b, nil)
		issueLoop(b, f.token, f.secret, tokenReply{}, ccForm)
	})
	b.Run("fosite-sha256-hasher", func(b *testing.B) {
		f := newFosite(b, sha256Hasher{})
		issueLoop(b, f.token, f.secret, tokenReply{}, ccForm)
	})
}

// BenchmarkRefresh: one refresh_token grant with rotation (each answer's
// refresh token is the next request's), client authenticated with HTTP Basic.
func BenchmarkRefresh(b *testing.B) {
	passwordForm := url.Values{"grant_type": {"password"}, "username": {username}, "password": {password}, "scope": {scope}}
	b.Run("oauthkit", func(b *testing.B) {
		k := newOauthkit(b)
		first := post(b, k.token, passwordForm, k.secret)
		issueLoop(b, k.token, k.secret, first, rotateForm)
	})
	b.Run("go-oauth2", func(b *testing.B) {
		g := newGoOAuth2(b)
		first := tokenReply{RefreshToken: g.refreshToken(b)}
		issueLoop(b, g.token, g.secret, first, rotateForm)
	})
	fositeForm := url.Values{"grant_type": {"password"}, "username": {username}, "password": {password}, "scope": {scope + " offline"}}
	b.Run("fosite-default-bcrypt12", func(b *testing.B) {
		f := newFosite(b, nil)
		first := post(b, f.token, fositeForm, f.secret)
		issueLoop(b, f.token, f.secret, first, rotateForm)
	})
	b.Run("fosite-sha256-hasher", func(b *testing.B) {
		f := newFosite(b, sha256Hasher{})
		first := post(b, f.token, fositeForm, f.secret)
		issueLoop(b, f.token, f.secret, first, rotateForm)
	})
}

// sampleSize is how many distinct tokens, spread evenly over the store, the
// scale benchmark cycles through: the same number for every store size, so
// that only the size of the store differs between its cases. Raise it to
// see what a working set larger than the CPU caches costs.
var sampleSize = flag.Int("sample", 1000, "distinct tokens BenchmarkValidateScale presents, for every store size")

// BenchmarkValidateScale: RequireOAuth in front of the bare handler with
// 1,000 and 1,000,000 live tokens in the memory store, issued through the
// token endpoint. It reports the heap bytes each stored token costs.
func BenchmarkValidateScale(b *testing.B) {
	for _, n := range []int{1_000, 1_000_000} {
		b.Run(fmt.Sprintf("tokens=%d", n), func(b *testing.B) {
			k := newOauthkit(b)
			every := max(1, n / *sampleSize)
			var reqs []*http.Request
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			for i := range n {
				tok := post(b, k.token, clientCredentialsForm, k.secret).AccessToken
				if i%every == 0 && len(reqs) < *sampleSize {
					reqs = append(reqs, bearer(tok))
				}
			}
			runtime.GC()
			runtime.ReadMemStats(&after)
			if got := k.st.Len(); got != n {
				b.Fatalf("store holds %d tokens, want %d", got, n)
			}
			perToken := float64(int64(after.HeapAlloc)-int64(before.HeapAlloc)) / float64(n)
			h := middleware.RequireOAuth(k.p, scope)(bare)
			b.ReportAllocs()
			b.ResetTimer()
			i := 0
			for b.Loop() {
				w := httptest.NewRecorder()
				h.ServeHTTP(w, reqs[i])
				if w.Code != http.StatusOK {
					b.Fatalf("status %d: %s", w.Code, w.Body)
				}
				if i++; i == len(reqs) {
					i = 0
				}
			}
			b.ReportMetric(perToken, "B/token")
			runtime.KeepAlive(reqs)
		})
	}
}
