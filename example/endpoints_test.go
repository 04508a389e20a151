package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// TestTokenEndpointsWired checks the example's revocation, introspection,
// metadata and JWKS routes, in both access token formats (the JWKS in
// both: it serves the ID-token keys too).
func TestTokenEndpointsWired(t *testing.T) {
	for _, format := range []string{"opaque", "jwt"} {
		t.Run(format, func(t *testing.T) {
			srv := httptest.NewUnstartedServer(nil)
			srv.Start()
			defer srv.Close()
			a, err := newApp(context.Background(), options{Issuer: srv.URL, AccessToken: format, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
			if err != nil {
				t.Fatal(err)
			}
			srv.Config.Handler = a.handler
			post := func(path, client string, form url.Values) (int, map[string]any) {
				req, _ := http.NewRequest(http.MethodPost, srv.URL+path, strings.NewReader(form.Encode()))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				if client != "" {
					req.SetBasicAuth(client, a.secrets[client])
				}
				res, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				defer res.Body.Close()
				var body map[string]any
				_ = json.NewDecoder(res.Body).Decode(&body)
				return res.StatusCode, body
			}
			_, tok := post("/oauth/token", "demo-service", url.Values{"grant_type": {"client_credentials"}})
			access, _ := tok["access_token"].(string)
			if status, body := post("/oauth/introspect", resourceClientID, url.Values{"token": {access}}); status != 200 || body["active"] != true {
				t.Fatalf("introspection: %d %v", status, body)
			}
			if status, _ := post("/oauth/introspect", "", url.Values{"token": {access}}); status != http.StatusUnauthorized {
				t.Errorf("unauthenticated introspection: %d", status)
			}
			if status, _ := post("/oauth/revoke", "demo-service", url.Values{"token": {access}}); status != 200 {
				t.Fatalf("revoke: %d", status)
			}
			req, _ := http.NewRequest(http.MethodGet, srv.URL+"/api/data", nil)
			req.Header.Set("Authorization", "Bearer "+access)
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if res.StatusCode != http.StatusUnauthorized {
				t.Errorf("/api/data after revocation: %d", res.StatusCode)
			}
			res, err = http.Get(srv.URL + "/.well-known/oauth-authorization-server")
			if err != nil {
				t.Fatal(err)
			}
			var md map[string]any
			_ = json.NewDecoder(res.Body).Decode(&md)
			res.Body.Close()
			if md["revocation_endpoint"] != srv.URL+"/oauth/revoke" || md["introspection_endpoint"] != srv.URL+"/oauth/introspect" ||
				md["jwks_uri"] != srv.URL+"/.well-known/jwks.json" { // ID-token keys in every format
				t.Errorf("metadata %v", md)
			}
		})
	}
}
