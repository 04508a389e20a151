package cors

import (
	"cmp"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestPolicy is the spec table: each case is one request through a
// policy, and the CORS headers it must (or must not) get.
func TestPolicy(t *testing.T) {
	public := &Policy{Public: true, Methods: []string{"GET", "HEAD"}}
	anyHeader := &Policy{Public: true, Methods: []string{"GET"}, Headers: []string{"*"}}
	allowed, _ := ParseOrigin("https://app.example")
	private := &Policy{
		Methods: []string{"POST"}, Headers: []string{"Authorization", "Content-Type"},
		Expose: []string{"WWW-Authenticate"}, MaxAge: time.Minute,
		AllowPreflight: func(_ *http.Request, o Origin) bool { return o == allowed },
	}
	for _, tc := range []struct {
		name    string
		policy  *Policy
		method  string
		hdr     map[string]string
		status  int               // 0: the handler's 200
		want    map[string]string // "" means absent
		reached bool              // the handler ran
	}{
		{"public GET without Origin", public, "GET", nil, 0,
			map[string]string{"Access-Control-Allow-Origin": "*", "Vary": ""}, true},
		{"public GET", public, "GET", map[string]string{"Origin": "https://any.example"}, 0,
			map[string]string{"Access-Control-Allow-Origin": "*", "Access-Control-Allow-Credentials": ""}, true},
		{"public GET from null", public, "GET", map[string]string{"Origin": "null"}, 0,
			map[string]string{"Access-Control-Allow-Origin": "*"}, true},
		{"public preflight", public, "OPTIONS", map[string]string{"Origin": "https://any.example", "Access-Control-Request-Method": "GET"}, 204,
			map[string]string{"Access-Control-Allow-Origin": "*", "Access-Control-Allow-Methods": "GET, HEAD", "Access-Control-Max-Age": "600"}, false},
		{"public preflight for POST", public, "OPTIONS", map[string]string{"Origin": "https://any.example", "Access-Control-Request-Method": "POST"}, 204,
			map[string]string{"Access-Control-Allow-Origin": "", "Access-Control-Allow-Methods": ""}, false},
		{"public preflight with a header", public, "OPTIONS", map[string]string{"Origin": "https://any.example", "Access-Control-Request-Method": "GET", "Access-Control-Request-Headers": "x-custom"}, 204,
			map[string]string{"Access-Control-Allow-Origin": "", "Access-Control-Allow-Methods": ""}, false},
		{"public preflight, any header", anyHeader, "OPTIONS", map[string]string{"Origin": "https://any.example", "Access-Control-Request-Method": "GET", "Access-Control-Request-Headers": "x-custom, authorization"}, 204,
			map[string]string{"Access-Control-Allow-Origin": "*", "Access-Control-Allow-Headers": "x-custom, authorization"}, false},
		{"private policy: * is no wildcard", &Policy{Methods: []string{"POST"}, Headers: []string{"*"}, AllowPreflight: func(*http.Request, Origin) bool { return true }},
			"OPTIONS", map[string]string{"Origin": "https://app.example", "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "x-custom"}, 204,
			map[string]string{"Access-Control-Allow-Origin": ""}, false},
		{"plain OPTIONS reaches the handler", public, "OPTIONS", map[string]string{"Origin": "https://any.example"}, 0,
			map[string]string{"Access-Control-Allow-Methods": ""}, true},
		{"private POST without Origin", private, "POST", nil, 0,
			map[string]string{"Access-Control-Allow-Origin": "", "Vary": "Origin"}, true},
		{"private POST", private, "POST", map[string]string{"Origin": "https://app.example"}, 0,
			map[string]string{"Access-Control-Allow-Origin": "", "Vary": "Origin", "Access-Control-Expose-Headers": "WWW-Authenticate"}, true},
		{"private preflight", private, "OPTIONS", map[string]string{"Origin": "https://app.example", "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization, Content-Type"}, 204,
			map[string]string{"Access-Control-Allow-Origin": "https://app.example", "Access-Control-Allow-Methods": "POST",
				"Access-Control-Allow-Headers": "Authorization, Content-Type", "Access-Control-Max-Age": "60", "Vary": "Origin",
				"Access-Control-Allow-Credentials": "", "Cache-Control": "no-store"}, false},
		{"private preflight, other origin", private, "OPTIONS", map[string]string{"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"}, 204,
			map[string]string{"Access-Control-Allow-Origin": "", "Access-Control-Allow-Methods": ""}, false},
		{"private preflight, non-canonical origin", private, "OPTIONS", map[string]string{"Origin": "https://APP.example", "Access-Control-Request-Method": "POST"}, 204,
			map[string]string{"Access-Control-Allow-Origin": ""}, false},
		{"private preflight, other method", private, "OPTIONS", map[string]string{"Origin": "https://app.example", "Access-Control-Request-Method": "PUT"}, 204,
			map[string]string{"Access-Control-Allow-Origin": ""}, false},
		{"private preflight, other header", private, "OPTIONS", map[string]string{"Origin": "https://app.example", "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization, cookie"}, 204,
			map[string]string{"Access-Control-Allow-Origin": ""}, false},
		{"refused without AllowPreflight", &Policy{Methods: []string{"POST"}}, "OPTIONS", map[string]string{"Origin": "https://app.example", "Access-Control-Request-Method": "POST"}, 204,
			map[string]string{"Access-Control-Allow-Origin": ""}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			reached := false
			h := tc.policy.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { reached = true }))
			req := httptest.NewRequest(tc.method, "/x", nil)
			for k, v := range tc.hdr {
				req.Header.Set(k, v)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if want := cmp.Or(tc.status, 200); rec.Code != want {
				t.Errorf("status %d, want %d", rec.Code, want)
			}
			if reached != tc.reached {
				t.Errorf("handler reached = %v", reached)
			}
			for k, v := range tc.want {
				if got := strings.Join(rec.Header().Values(k), ", "); got != v {
					t.Errorf("%s = %q, want %q", k, got, v)
				}
			}
		})
	}
}

func TestAllowAndRequestOrigin(t *testing.T) {
	req := httptest.NewRequest("POST", "/", nil)
	if _, ok := RequestOrigin(req); ok {
		t.Error("an origin without an Origin header")
	}
	req.Header.Set("Origin", "http://[::1]:3000")
	o, ok := RequestOrigin(req)
	if !ok {
		t.Fatal("no origin")
	}
	rec := httptest.NewRecorder()
	Allow(rec, o)
	if got := rec.Header().Get("Access-Control-Allow-Origin"); got != "http://[::1]:3000" {
		t.Errorf("Allow wrote %q", got)
	}
	req.Header.Add("Origin", "https://other.example")
	if _, ok := RequestOrigin(req); ok {
		t.Error("two Origin headers give an origin")
	}
}
