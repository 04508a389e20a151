package grant_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/oauthkit/oauthkit/grant"
)

// TestDPoPCORS: a browser app may send the DPoP header to the token
// endpoint (a preflight asking for it is granted) and read DPoP-Nonce in
// the answer (RFC 9449 §8: exposed to CORS).
func TestDPoPCORS(t *testing.T) {
	e := newAZEnv(t, grant.AuthorizeOptions{})
	req, _ := http.NewRequest(http.MethodOptions, e.srv.URL+"/oauth/token", nil)
	req.Header.Set("Origin", "https://client.example")
	req.Header.Set("Access-Control-Request-Method", "POST")
	req.Header.Set("Access-Control-Request-Headers", "content-type, dpop")
	p := e.do(http.DefaultClient, req)
	if p.header.Get("Access-Control-Allow-Origin") != "https://client.example" || !strings.Contains(strings.ToLower(p.header.Get("Access-Control-Allow-Headers")), "dpop") {
		t.Fatalf("preflight with DPoP: %d %v", p.status, p.header)
	}
	code, verifier := e.code(e.oauth2Config(azSPA, "http://127.0.0.1:7777/callback"))
	form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "code_verifier": {verifier},
		"redirect_uri": {"http://127.0.0.1:7777/callback"}, "client_id": {azSPA}}
	req, _ = http.NewRequest(http.MethodPost, e.srv.URL+"/oauth/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", "http://127.0.0.1:7777")
	p = e.do(http.DefaultClient, req)
	if !strings.Contains(p.header.Get("Access-Control-Expose-Headers"), "DPoP-Nonce") {
		t.Fatalf("token answer: Access-Control-Expose-Headers %q", p.header.Get("Access-Control-Expose-Headers"))
	}
}
