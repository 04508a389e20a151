package main

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	jose "github.com/go-jose/go-jose/v4"
	josejwt "github.com/go-jose/go-jose/v4/jwt"
)

// The AS side of the MCP contract (issue 11, item 4), against the program
// as `go run ./example -resource URL -access-token jwt` runs it.

const mcpResource = "http://127.0.0.1:9/mcp"

func decode(t *testing.T, body string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(body), &m); err != nil {
		t.Fatalf("not JSON: %q", body)
	}
	return m
}

// TestMCPMetadata: registration_endpoint and
// client_id_metadata_document_supported are published.
func TestMCPMetadata(t *testing.T) {
	base, _ := startExample(t, "-resource", mcpResource)
	_, _, body := call(t, "GET", base+"/.well-known/oauth-authorization-server", "", "", "")
	md := decode(t, body)
	if md["registration_endpoint"] != base+"/oauth/register" || md["client_id_metadata_document_supported"] != true {
		t.Errorf("metadata %v", md)
	}
}

// TestMCPRegistration: POST /oauth/register registers a public client with
// loopback or https redirect URIs (201, client_id, registration token and
// URI); GET reads it and DELETE removes it with the token, 401 without;
// anything but a public client with such redirect URIs is a 400.
func TestMCPRegistration(t *testing.T) {
	base, _ := startExample(t)
	reg := func(body string) (int, map[string]any) {
		status, _, b := call(t, "POST", base+"/oauth/register", "application/json", "", body)
		return status, decode(t, b)
	}
	status, c := reg(`{"client_name":"agent","redirect_uris":["http://127.0.0.1:3000/cb","https://agent.example/cb"],"token_endpoint_auth_method":"none","grant_types":["authorization_code","refresh_token"]}`)
	if status != 201 || c["client_id"] == nil || c["registration_access_token"] == nil || c["registration_client_uri"] != base+"/oauth/register/"+c["client_id"].(string) {
		t.Fatalf("registration: %d %v", status, c)
	}
	uri, tok := c["registration_client_uri"].(string), c["registration_access_token"].(string)
	if status, _, _ := call(t, "GET", uri, "", "", ""); status != 401 {
		t.Errorf("GET without the registration token: %d", status)
	}
	if status, _, _ := call(t, "DELETE", uri, "", "", ""); status != 401 {
		t.Errorf("DELETE without the registration token: %d", status)
	}
	status, _, body := call(t, "GET", uri, "", "Bearer "+tok, "")
	if status != 200 || decode(t, body)["client_id"] != c["client_id"] {
		t.Fatalf("GET: %d %s", status, body)
	}
	tok = decode(t, body)["registration_access_token"].(string)
	if status, _, _ := call(t, "DELETE", uri, "", "Bearer "+tok, ""); status != 204 {
		t.Errorf("DELETE: %d", status)
	}
	if status, _, _ := call(t, "GET", uri, "", "Bearer "+tok, ""); status != 401 {
		t.Errorf("GET after DELETE: %d", status)
	}
	for body, code := range map[string]string{
		`{"redirect_uris":["http://127.0.0.1:3000/cb"]}`:                                                     "invalid_client_metadata", // client_secret_basic by default
		`{"redirect_uris":["http://127.0.0.1:3000/cb"],"token_endpoint_auth_method":"client_secret_post"}`:   "invalid_client_metadata",
		`{"redirect_uris":["http://agent.example/cb"],"token_endpoint_auth_method":"none"}`:                  "invalid_redirect_uri",
		`{"redirect_uris":["com.example.agent:/cb"],"token_endpoint_auth_method":"none"}`:                    "invalid_redirect_uri",
		`{"token_endpoint_auth_method":"none"}`:                                                              "invalid_redirect_uri",
		`{"redirect_uris":["https://agent.example/cb"],"token_endpoint_auth_method":"none","scope":"admin"}`: "invalid_client_metadata",
	} {
		if status, e := reg(body); status != 400 || e["error"] != code {
			t.Errorf("%s: %d %v, want 400 %s", body, status, e, code)
		}
	}
}

// TestMCPResourceAudience: a token asked for a -resource has it as its
// audience, in the JWT and in introspection (by demo-resource); a resource
// the example does not know is invalid_target.
func TestMCPResourceAudience(t *testing.T) {
	srv := httptest.NewServer(nil)
	t.Cleanup(srv.Close)
	a, err := newApp(t.Context(), options{Issuer: srv.URL, AccessToken: "jwt", Resources: []string{mcpResource}, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	srv.Config.Handler = a.handler
	cc := func(resource string) (int, map[string]any) {
		form := url.Values{"grant_type": {"client_credentials"}}
		if resource != "" {
			form.Set("resource", resource)
		}
		status, _, body := call(t, "POST", srv.URL+"/oauth/token", "application/x-www-form-urlencoded", basic("demo-service", a.secrets["demo-service"]), form.Encode())
		return status, decode(t, body)
	}
	if status, body := cc("http://127.0.0.1:10/mcp"); status != 400 || body["error"] != "invalid_target" {
		t.Errorf("unknown resource: %d %v", status, body)
	}
	status, body := cc(mcpResource + "/")
	if status != 200 {
		t.Fatalf("token for the resource: %d %v", status, body)
	}
	access := body["access_token"].(string)
	parsed, err := josejwt.ParseSigned(access, []jose.SignatureAlgorithm{jose.EdDSA})
	if err != nil {
		t.Fatal(err)
	}
	var claims josejwt.Claims
	parsed.UnsafeClaimsWithoutVerification(&claims)
	if len(claims.Audience) != 1 || claims.Audience[0] != mcpResource {
		t.Errorf("JWT aud %v", claims.Audience)
	}
	_, _, ib := call(t, "POST", srv.URL+"/oauth/introspect", "application/x-www-form-urlencoded", basic(resourceClientID, a.secrets[resourceClientID]), url.Values{"token": {access}}.Encode())
	if in := decode(t, ib); fmt.Sprint(in["aud"]) != "["+mcpResource+"]" {
		t.Errorf("introspection %v", in)
	}
	_, body = cc("")
	if a := tokenAudience(t, body["access_token"].(string)); len(a) != 1 || a[0] != exampleAudience {
		t.Errorf("a token asked for no resource: aud %v, want the example's default", a)
	}
}

func tokenAudience(t *testing.T, raw string) []string {
	parsed, err := josejwt.ParseSigned(raw, []jose.SignatureAlgorithm{jose.EdDSA})
	if err != nil {
		t.Fatal(err)
	}
	var claims josejwt.Claims
	parsed.UnsafeClaimsWithoutVerification(&claims)
	return claims.Audience
}

// TestMCPRegisteredClientCodeFlow: what an MCP client does after
// registering — PKCE, resource at the authorization and token endpoints,
// login and consent — gives it a token for the resource; the same works
// for a client whose client_id is the http loopback URL of its metadata
// document, while the issuer is http on loopback.
func TestMCPRegisteredClientCodeFlow(t *testing.T) {
	base, _ := startExample(t, "-resource", mcpResource, "-access-token", "jwt")
	_, _, body := call(t, "POST", base+"/oauth/register", "application/json", "",
		`{"client_name":"agent","redirect_uris":["http://127.0.0.1:3000/cb"],"token_endpoint_auth_method":"none","grant_types":["authorization_code","refresh_token"]}`)
	registered := decode(t, body)["client_id"].(string)
	docs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"client_id":"http://%s/client.json","client_name":"Doc agent","redirect_uris":["http://127.0.0.1:3000/cb"],"token_endpoint_auth_method":"none","grant_types":["authorization_code","refresh_token"]}`, r.Host)
	}))
	t.Cleanup(docs.Close)
	for _, id := range []string{registered, docs.URL + "/client.json"} {
		tok := codeFlow(t, base, id, mcpResource)
		if aud := tokenAudience(t, tok["access_token"].(string)); len(aud) != 1 || aud[0] != mcpResource {
			t.Errorf("client %s: aud %v", id, aud)
		}
		if tok["refresh_token"] == nil {
			t.Errorf("client %s: no refresh token", id)
		}
	}
}

var mcpHiddenRE = regexp.MustCompile(`<input type="hidden" name="([a-z_]+)" value="([^"]*)">`)

// codeFlow runs the authorization code flow for public client id with
// PKCE and resource, signing in as user1 and allowing, and returns the
// token response.
func codeFlow(t *testing.T, base, id, resource string) map[string]any {
	t.Helper()
	verifier := strings.Repeat("v", 50)
	sum := sha256.Sum256([]byte(verifier))
	redirect := "http://127.0.0.1:3000/cb"
	authURL := base + "/oauth/authorize?" + url.Values{
		"client_id": {id}, "redirect_uri": {redirect}, "response_type": {"code"}, "scope": {"read"}, "state": {"s"},
		"code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])}, "code_challenge_method": {"S256"}, "resource": {resource},
	}.Encode()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, CheckRedirect: func(req *http.Request, _ []*http.Request) error {
		if !strings.HasPrefix(req.URL.String(), base) {
			return http.ErrUseLastResponse
		}
		return nil
	}}
	page := func(res *http.Response, err error) (*http.Response, string) {
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res, string(b)
	}
	submit := func(res *http.Response, body string, extra url.Values) (*http.Response, string) {
		form := url.Values{}
		for _, m := range mcpHiddenRE.FindAllStringSubmatch(body, -1) {
			form.Set(m[1], html.UnescapeString(m[2]))
		}
		for k, v := range extra {
			form[k] = v
		}
		return page(c.PostForm(res.Request.URL.String(), form))
	}
	res, body := page(c.Get(authURL))
	if !strings.Contains(body, `name="password"`) {
		t.Fatalf("client %s: no login page: %d %.300s", id, res.StatusCode, body)
	}
	res, body = submit(res, body, url.Values{"username": {"user1"}, "password": {"password1"}})
	res, _ = submit(res, body, url.Values{"consent": {"allow"}})
	loc, err := url.Parse(res.Header.Get("Location"))
	if err != nil || loc.Query().Get("code") == "" {
		t.Fatalf("client %s: no code: %d %s", id, res.StatusCode, res.Header.Get("Location"))
	}
	form := url.Values{"grant_type": {"authorization_code"}, "client_id": {id}, "code": {loc.Query().Get("code")},
		"redirect_uri": {redirect}, "code_verifier": {verifier}, "resource": {resource}}
	status, _, tb := call(t, "POST", base+"/oauth/token", "application/x-www-form-urlencoded", "", form.Encode())
	if status != 200 {
		t.Fatalf("client %s: token: %d %s", id, status, tb)
	}
	return decode(t, tb)
}

// TestDemoResourceFromClientsFile: demo-resource introspects every token,
// also when a -clients file registers it.
func TestDemoResourceFromClientsFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "clients.json")
	secret := strings.Repeat("r", 40)
	svc := strings.Repeat("s", 40)
	err := os.WriteFile(path, []byte(`[
	  {"client_id": "demo-resource", "client_secret": "`+secret+`", "grant_types": ["client_credentials"]},
	  {"client_id": "svc1", "client_secret": "`+svc+`", "grant_types": ["client_credentials"], "scope": "read"}
	]`), 0o600)
	if err != nil {
		t.Fatal(err)
	}
	base, _ := startExample(t, "-clients", path)
	_, _, body := call(t, "POST", base+"/oauth/token", "application/x-www-form-urlencoded", basic("svc1", svc), "grant_type=client_credentials")
	access := decode(t, body)["access_token"].(string)
	_, _, ib := call(t, "POST", base+"/oauth/introspect", "application/x-www-form-urlencoded", basic(resourceClientID, secret), url.Values{"token": {access}}.Encode())
	if in := decode(t, ib); in["active"] != true || in["client_id"] != "svc1" {
		t.Errorf("demo-resource from the file introspecting svc1's token: %v", in)
	}
}
