package grant

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/oauthkit/oauthkit/store"
)

// TestHealthHandler: 200 {"status":"ok"} for GET and HEAD while the stores
// answer, 405 for anything else; a store that is not a store.Pinger counts
// as answering. (The example's TestHealthz checks real stores that fail.)
func TestHealthHandler(t *testing.T) {
	f := newFixture(t)
	for _, p := range []*Provider{f.p, mustProvider(t, Config{Issuer: "https://as.example.com", Clients: staticClients{}, Tokens: f.st})} {
		srv := httptest.NewServer(p.HealthHandler())
		defer srv.Close()
		res, err := http.Get(srv.URL)
		if err != nil {
			t.Fatal(err)
		}
		var body map[string]string
		decodeJSON(t, res, &body)
		if res.StatusCode != 200 || body["status"] != "ok" || res.Header.Get("Cache-Control") != "no-store" {
			t.Fatalf("GET: %d %v", res.StatusCode, body)
		}
		if res, err = http.Head(srv.URL); err != nil || res.StatusCode != 200 {
			t.Fatalf("HEAD: %v %v", res, err)
		}
		res, err = http.Post(srv.URL, "text/plain", nil)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != 405 || res.Header.Get("Allow") != "GET, HEAD" {
			t.Fatalf("POST: %d, Allow %q", res.StatusCode, res.Header.Get("Allow"))
		}
	}
	if got := len(f.p.pingers()); got != 1 {
		t.Errorf("one memory store as both stores is pinged %d times, want once", got)
	}
}

func mustProvider(t *testing.T, cfg Config) *Provider {
	t.Helper()
	p, err := NewProvider(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func decodeJSON(t *testing.T, res *http.Response, v any) {
	t.Helper()
	defer res.Body.Close()
	if err := json.NewDecoder(res.Body).Decode(v); err != nil {
		t.Fatal(err)
	}
}

// lostStore is a token store whose ping reports that it lost its data.
type lostStore struct{ store.TokenStore }

func (lostStore) Ping(context.Context) error {
	return fmt.Errorf("test: %w", store.ErrReset)
}

// TestHealthHandlerReset: a store whose ping reports store.ErrReset makes
// the check 503 with its own reason, not "does not answer".
func TestHealthHandlerReset(t *testing.T) {
	f := newFixture(t)
	p := mustProvider(t, Config{Issuer: "https://as.example.com", Clients: staticClients{}, Tokens: lostStore{f.st}})
	srv := httptest.NewServer(p.HealthHandler())
	defer srv.Close()
	res, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	var body map[string]string
	decodeJSON(t, res, &body)
	if res.StatusCode != 503 || body["reason"] != "the token store lost its data" {
		t.Fatalf("GET: %d %v", res.StatusCode, body)
	}
}
