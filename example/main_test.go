package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/oauthkit/oauthkit/store"
)

// syncBuffer is a bytes.Buffer safe to read while the server writes to it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startExample runs the program as `go run ./example -addr ADDR` would, on a
// free loopback port, until the test ends.
func startExample(t *testing.T, args ...string) (base string, stdout *syncBuffer) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	ctx, cancel := context.WithCancel(context.Background())
	stdout = &syncBuffer{}
	stderr := &syncBuffer{}
	done := make(chan int)
	go func() { done <- run(ctx, append([]string{"-addr", addr}, args...), stdout, stderr) }()
	t.Cleanup(func() {
		cancel()
		if code := <-done; code != 0 {
			t.Errorf("exit status %d; stderr:\n%s", code, stderr)
		}
	})
	base = "http://" + addr
	for i := 0; ; i++ {
		if res, err := http.Get(base + "/"); err == nil {
			res.Body.Close()
			return base, stdout
		}
		if i == 200 {
			t.Fatalf("example did not start; stderr:\n%s", stderr)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func call(t *testing.T, method, url, ctype, auth, body string) (int, http.Header, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, res.Header, string(b)
}

type tokenJSON struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
	Scope        string `json:"scope"`
	TokenType    string `json:"token_type"`
}

// TestTutorialFlow is the tutorial's two curl commands, as HTTP requests,
// and the failures around them.
func TestTutorialFlow(t *testing.T) {
	base, stdout := startExample(t)
	for _, want := range []string{"user1 / password1", "user2 / password2", "demo-service", "GET /api/data", "POST /login"} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("start-up banner lacks %q", want)
		}
	}
	status, hdr, body := call(t, "POST", base+"/login", "application/json", "", `{"username": "user1", "password": "password1"}`)
	var tok tokenJSON
	_ = json.Unmarshal([]byte(body), &tok)
	if status != 200 || tok.AccessToken == "" || tok.TokenType != "Bearer" || tok.Scope != "read write" {
		t.Fatalf("POST /login: %d %s", status, body)
	}
	if hdr.Get("Cache-Control") != "no-store" {
		t.Error("token response may be cached")
	}
	status, _, body = call(t, "GET", base+"/api/data", "", "Bearer "+tok.AccessToken, "")
	if status != 200 || body != protectedData {
		t.Fatalf("GET /api/data: %d %q", status, body)
	}
	status, _, body = call(t, "GET", base+"/api/me", "", "Bearer "+tok.AccessToken, "")
	if status != 200 || !strings.Contains(body, `"user":"user1"`) || !strings.Contains(body, `"scope":"read write"`) || !strings.Contains(body, `"client_id":"oauthkit-login"`) {
		t.Fatalf("GET /api/me: %d %s", status, body)
	}
	if status, _, body = call(t, "POST", base+"/api/data", "application/json", "Bearer "+tok.AccessToken, `{"x": 1}`); status != 201 {
		t.Fatalf("POST /api/data: %d %s", status, body)
	}
	status, _, body = call(t, "POST", base+"/login", "application/json", "", `{"username": "user1", "password": "wrong"}`)
	if status != 401 || !strings.Contains(body, `"error"`) {
		t.Fatalf("wrong password: %d %s", status, body)
	}
	if status, _, body = call(t, "GET", base+"/api/public", "", "", ""); status != 200 || body != protectedData {
		t.Fatalf("GET /api/public: %d %q", status, body)
	}
	status, hdr, _ = call(t, "GET", base+"/api/data", "", "", "")
	if status != 401 || !strings.HasPrefix(hdr.Get("WWW-Authenticate"), "Bearer") {
		t.Fatalf("no token: %d, WWW-Authenticate %q", status, hdr.Get("WWW-Authenticate"))
	}
	status, hdr, _ = call(t, "GET", base+"/api/data", "", "Bearer okat_forged", "")
	if status != 401 || !strings.Contains(hdr.Get("WWW-Authenticate"), `error="invalid_token"`) {
		t.Fatalf("forged token: %d, WWW-Authenticate %q", status, hdr.Get("WWW-Authenticate"))
	}
	// The refresh token from /login works at the token endpoint, once.
	form := "grant_type=refresh_token&client_id=" + loginClientID + "&refresh_token=" + tok.RefreshToken
	status, _, body = call(t, "POST", base+"/oauth/token", "application/x-www-form-urlencoded", "", form)
	if status != 200 || !strings.Contains(body, `"access_token"`) {
		t.Fatalf("refresh: %d %s", status, body)
	}
}

// TestTutorialCurlCommands runs the tutorial's curl commands verbatim (but
// for the port) with the real curl, when the machine has it.
func TestTutorialCurlCommands(t *testing.T) {
	curl, err := exec.LookPath("curl")
	if err != nil {
		t.Skip("curl is not installed; TestTutorialFlow covers the same requests")
	}
	base, _ := startExample(t)
	out, err := exec.Command(curl, "-s", "-X", "POST", base+"/login", "-H", "Content-Type: application/json",
		"-d", `{"username": "user1", "password": "password1"}`).Output()
	if err != nil {
		t.Fatal(err)
	}
	var tok tokenJSON
	if err := json.Unmarshal(out, &tok); err != nil || tok.AccessToken == "" {
		t.Fatalf("curl /login: %s", out)
	}
	out, err = exec.Command(curl, "-s", base+"/api/data", "-H", "Authorization: Bearer "+tok.AccessToken).Output()
	if err != nil || string(out) != protectedData {
		t.Fatalf("curl /api/data: %q %v", out, err)
	}
	// The same login without -H "Content-Type: application/json" (curl -d
	// then labels it a form) is refused: a form is what any web page can
	// post (TestLoginJSONOnly).
	out, _ = exec.Command(curl, "-s", "-w", " %{http_code}", "-X", "POST", base+"/login", "-d", `{"username": "user1", "password": "password1"}`).Output()
	if !strings.HasSuffix(string(out), " 415") || strings.Contains(string(out), `"access_token"`) {
		t.Fatalf("curl -d /login without the JSON content type: %s", out)
	}
}

func TestClientsFile(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "clients.json")
	secret := strings.Repeat("s", 40)
	err := os.WriteFile(good, []byte(`[
	  {"client_id": "svc1", "client_secret": "`+secret+`", "grant_types": ["client_credentials"], "scope": "read"},
	  {"client_id": "spa", "redirect_uris": ["http://127.0.0.1:9000/cb"], "grant_types": ["authorization_code", "refresh_token"], "scope": "read write"}
	]`), 0o600)
	if err != nil {
		t.Fatal(err)
	}
	base, stdout := startExample(t, "-clients", good)
	if strings.Contains(stdout.String(), "demo-service") || !strings.Contains(stdout.String(), "svc1") || !strings.Contains(stdout.String(), loginClientID) {
		t.Fatalf("clients file did not replace the demo clients:\n%s", stdout)
	}
	req, _ := http.NewRequest("POST", base+"/oauth/token", strings.NewReader("grant_type=client_credentials"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth("svc1", secret)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Fatalf("client from the file: %d", res.StatusCode)
	}
	if strings.Contains(stdout.String(), secret) {
		t.Error("the banner printed a secret from the clients file")
	}
}

func TestClientsFileInvalid(t *testing.T) {
	dir := t.TempDir()
	for name, content := range map[string]string{
		"not json":          `{`,
		"object":            `{"client_id": "x"}`,
		"unknown field":     `[{"client_id": "x", "redirect_uri": "https://a.example/cb"}]`,
		"short secret":      `[{"client_id": "x", "client_secret": "short", "grant_types": ["client_credentials"]}]`,
		"public + secret":   `[{"client_id": "x", "client_secret": "` + strings.Repeat("s", 40) + `", "token_endpoint_auth_method": "none"}]`,
		"no redirect":       `[{"client_id": "x"}]`,
		"fragment":          `[{"client_id": "x", "redirect_uris": ["https://a.example/cb#f"]}]`,
		"http non-loopback": `[{"client_id": "x", "redirect_uris": ["http://a.example/cb"]}]`,
		"implicit":          `[{"client_id": "x", "grant_types": ["implicit"], "redirect_uris": ["https://a.example/cb"]}]`,
		"duplicate":         `[{"client_id": "x", "redirect_uris": ["https://a.example/cb"]}, {"client_id": "x", "redirect_uris": ["https://a.example/cb"]}]`,
		"reserved id":       `[{"client_id": "oauthkit-login", "redirect_uris": ["https://a.example/cb"]}]`,
		"public cc":         `[{"client_id": "x", "grant_types": ["client_credentials"]}]`,
	} {
		path := filepath.Join(dir, strings.ReplaceAll(name, " ", "_")+".json")
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		var stdout, stderr bytes.Buffer
		code := run(context.Background(), []string{"-addr", "127.0.0.1:0", "-clients", path}, &stdout, &stderr)
		if code != 2 || !strings.Contains(stderr.String(), "-clients") {
			t.Errorf("%s: exit %d, stderr %q", name, code, stderr.String())
		}
	}
	var stderr bytes.Buffer
	if code := run(context.Background(), []string{"-clients", filepath.Join(dir, "missing.json")}, io.Discard, &stderr); code != 2 {
		t.Errorf("missing file: exit %d", code)
	}
}

func FuzzParseClients(f *testing.F) {
	f.Add([]byte(`[{"client_id": "svc1", "client_secret": "ssssssssssssssssssssssssssssssssssss", "grant_types": ["client_credentials"]}]`))
	f.Add([]byte(`[{"client_id": "spa", "redirect_uris": ["http://127.0.0.1:9000/cb"]}]`))
	f.Add([]byte(`{`))
	f.Add([]byte(`[{"client_id": "k", "jwks": {"keys": [{"kty": "OKP"}]}, "grant_types": ["client_credentials"]}]`))
	f.Add([]byte(`[{"client_id": "k", "token_endpoint_auth_method": "private_key_jwt", "jwks_uri": "https://k.example/jwks", "jwks": null}]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		clients, err := parseClients(data)
		if err != nil {
			return
		}
		for _, c := range clients {
			keys := len(c.JWKS) > 0 || c.JWKSURI != ""
			secret := !c.SecretHash.IsZero()
			if c.ID == "" || c.Public() && (secret || keys) || c.AuthMethod == store.AuthPrivateKeyJWT && (secret || !keys) ||
				(c.AuthMethod == store.AuthSecretBasic || c.AuthMethod == store.AuthSecretPost) && (!secret || keys) {
				t.Fatalf("accepted an inconsistent client %+v", c)
			}
		}
	})
}
