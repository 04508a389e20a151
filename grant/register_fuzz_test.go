package grant

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/oauthkit/oauthkit/store"
)

// FuzzRegistrationRequest throws arbitrary bodies at the registration
// endpoint: every answer is a 201 with a client, or an RFC 7591 error,
// never a 5xx or a panic, never cacheable.
func FuzzRegistrationRequest(f *testing.F) {
	f.Add(`{"redirect_uris":["http://127.0.0.1:3000/cb"],"token_endpoint_auth_method":"none","scope":"read"}`)
	f.Add(`{"redirect_uris":["myapp.example:/cb"],"grant_types":["authorization_code","refresh_token"],"response_types":["code"]}`)
	f.Add(`{"grant_types":["client_credentials"],"token_endpoint_auth_method":"client_secret_post","jwks":{"keys":[{}]}}`)
	f.Add(`{"redirect_uris":"x","contacts":[null],"software_statement":"a.b.c"}`)
	f.Add(`{"client_name":"\u0000","logo_uri":"javascript:x"}{}`)
	f.Add(`[1,2`)
	fx := newFixture(f, func(c *Config) {
		c.Registration = Registration{Open: true, Limit: store.Limit{Burst: 1 << 30, Every: time.Millisecond}}
		c.ScopesSupported = []string{"read", "write"}
	})
	h := fx.p.RegistrationHandler()
	f.Fuzz(func(t *testing.T, body string) {
		r := httptest.NewRequest(http.MethodPost, "/oauth/register", strings.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Header().Get("Cache-Control") != "no-store" {
			t.Fatal("answer without no-store")
		}
		var m map[string]any
		if err := json.Unmarshal(w.Body.Bytes(), &m); err != nil {
			t.Fatalf("%d, not JSON: %s", w.Code, w.Body)
		}
		switch w.Code {
		case http.StatusCreated:
			if m["client_id"] == "" || m["registration_access_token"] == nil {
				t.Fatalf("201 without a client: %s", w.Body)
			}
		case http.StatusBadRequest, http.StatusRequestEntityTooLarge:
			if m["error"] == nil {
				t.Fatalf("%d without an error: %s", w.Code, w.Body)
			}
		default:
			t.Fatalf("status %d for %q: %s", w.Code, body, w.Body)
		}
	})
}
