package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/auth"
	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/modelcontextprotocol/go-sdk/oauthex"

	"github.com/oauthkit/oauthkit/internal/judges"
)

// The official MCP SDKs as judges, end to end: the example's authorization
// server (go run ./example) and this MCP server (go run ./example/mcp), as
// processes on loopback ports, and an SDK client that is told nothing but
// the MCP server's URL.

// binaries are the two programs, built once for the package's tests.
var binaries struct {
	once         sync.Once
	dir, as, mcp string
	err          error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if binaries.dir != "" {
		os.RemoveAll(binaries.dir)
	}
	os.Exit(code)
}

func build(t *testing.T) (as, mcpBin string) {
	t.Helper()
	b := &binaries
	b.once.Do(func() {
		if b.dir, b.err = os.MkdirTemp("", "oauthkit-mcp-judges"); b.err != nil {
			return
		}
		b.as, b.mcp = filepath.Join(b.dir, "example"), filepath.Join(b.dir, "mcp")
		for bin, pkg := range map[string]string{b.as: "github.com/oauthkit/oauthkit/example", b.mcp: "github.com/oauthkit/oauthkit/example/mcp"} {
			if out, err := exec.Command("go", "build", "-o", bin, pkg).CombinedOutput(); err != nil {
				b.err = fmt.Errorf("go build %s: %v\n%s", pkg, err, out)
				return
			}
		}
	})
	if b.err != nil {
		t.Fatal(b.err)
	}
	return b.as, b.mcp
}

// lockedBuffer collects a process's output for failure messages.
type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// start runs bin with args until the test ends; it returns the process's
// standard output, line by line, and its standard error so far.
func start(t *testing.T, bin string, args ...string) (*bufio.Scanner, *lockedBuffer) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr := &lockedBuffer{}
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("%s %v stderr:\n%s", filepath.Base(bin), args, stderr)
		}
	})
	return bufio.NewScanner(stdout), stderr
}

// waitFor polls url until it answers.
func waitFor(t *testing.T, url string, stderr fmt.Stringer) {
	t.Helper()
	for i := 0; ; i++ {
		if res, err := http.Get(url); err == nil {
			res.Body.Close()
			return
		}
		if i == 500 {
			t.Fatalf("%s did not come up; stderr:\n%s", url, stderr)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// stack is the example's authorization server and the MCP server.
type stack struct {
	issuer, mcpURL string
	secrets        map[string]string // the demo clients' secrets, from the banner
	resourceSecret string            // demo-resource's, for introspection
}

// startStack runs both programs exactly as the README says: the
// authorization server knows the MCP server as a resource (and the extra
// resources given), the MCP server validates with the mode's validator.
func startStack(t *testing.T, mode string, extraResources ...string) *stack {
	t.Helper()
	asBin, mcpBin := build(t)
	asAddr, mcpAddr := freePort(t), freePort(t)
	s := &stack{issuer: "http://" + asAddr, mcpURL: "http://" + mcpAddr + "/mcp", secrets: map[string]string{}}
	args := []string{"-addr", asAddr, "-resource", s.mcpURL}
	for _, r := range extraResources {
		args = append(args, "-resource", r)
	}
	if mode == "jwks" {
		args = append(args, "-access-token", "jwt")
	}
	out, stderr := start(t, asBin, args...)
	re := regexp.MustCompile(`^  (\S+) .* secret=(okcs_\S+)`)
	for out.Scan() && !strings.HasPrefix(out.Text(), "Routes:") {
		if m := re.FindStringSubmatch(out.Text()); m != nil {
			s.secrets[m[1]] = m[2]
		}
	}
	if s.resourceSecret = s.secrets["demo-resource"]; s.resourceSecret == "" {
		t.Fatalf("no demo-resource secret in the banner; stderr:\n%s", stderr)
	}
	go func() {
		for out.Scan() { // the rest of the banner
		}
	}()
	waitFor(t, s.issuer+"/.well-known/oauth-authorization-server", stderr)

	args = []string{"-addr", mcpAddr, "-issuer", s.issuer, "-mode", mode}
	if mode == "introspect" {
		args = append(args, "-client-secret", s.resourceSecret)
	}
	_, mstderr := start(t, mcpBin, args...)
	waitFor(t, "http://"+mcpAddr+"/.well-known/oauth-protected-resource/mcp", mstderr)
	return s
}

// serviceToken gets a client_credentials token of demo-service (scope
// read), for the resources given.
func (s *stack) serviceToken(t *testing.T, resources ...string) string {
	t.Helper()
	form := url.Values{"grant_type": {"client_credentials"}, "scope": {"read"}}
	for _, r := range resources {
		form.Add("resource", r)
	}
	req, _ := http.NewRequest("POST", s.issuer+"/oauth/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth("demo-service", s.secrets["demo-service"])
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(res.Body).Decode(&tok); err != nil || res.StatusCode != 200 {
		t.Fatalf("client_credentials for %v: %d %v", resources, res.StatusCode, err)
	}
	return tok.AccessToken
}

// TestProcessesAudience: the two programs as they run, in both modes: a
// token asked for the MCP server is admitted; one for another resource the
// authorization server serves, one for no resource (the example's default
// audience), and (JWT) one whose aud was edited are refused with 401
// invalid_token; a resource the authorization server does not know is
// invalid_target there.
func TestProcessesAudience(t *testing.T) {
	for _, mode := range []string{"jwks", "introspect"} {
		t.Run(mode, func(t *testing.T) {
			s := startStack(t, mode, otherResource)
			if text, err := callGetData(t, s.mcpURL, s.serviceToken(t, s.mcpURL)); err != nil || text != "This is protected data." {
				t.Fatalf("a token for the MCP server: %q, %v", text, err)
			}
			other := s.serviceToken(t, otherResource)
			refused := map[string]string{"another resource": other, "no resource": s.serviceToken(t)}
			if mode == "jwks" {
				refused["forged aud"] = forgeAud(t, other, s.mcpURL)
			}
			for what, tok := range refused {
				res := post(t, s.mcpURL, tok)
				if chal := res.Header.Get("WWW-Authenticate"); res.StatusCode != 401 || !strings.Contains(chal, `error="invalid_token"`) {
					t.Errorf("%s: %d %q", what, res.StatusCode, chal)
				}
			}
			form := url.Values{"grant_type": {"client_credentials"}, "resource": {"https://unknown.example.com/mcp"}}
			req, _ := http.NewRequest("POST", s.issuer+"/oauth/token", strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.SetBasicAuth("demo-service", s.secrets["demo-service"])
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode != 400 || !strings.Contains(string(b), `"invalid_target"`) {
				t.Errorf("unknown resource: %d %s", res.StatusCode, b)
			}
		})
	}
}

// introspect asks the authorization server about tok, as demo-resource.
func (s *stack) introspect(t *testing.T, tok string) map[string]any {
	t.Helper()
	req, _ := http.NewRequest("POST", s.issuer+"/oauth/introspect", strings.NewReader(url.Values{"token": {tok}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth("demo-resource", s.resourceSecret)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var ans map[string]any
	if err := json.NewDecoder(res.Body).Decode(&ans); err != nil || res.StatusCode != 200 {
		t.Fatalf("introspection: %d %v", res.StatusCode, err)
	}
	return ans
}

// checkToken: the token the judge got is active, for the registered
// client, granted read, and for the MCP server alone.
func (s *stack) checkToken(t *testing.T, tok, clientID string) {
	t.Helper()
	ans := s.introspect(t, tok)
	aud, _ := json.Marshal(ans["aud"])
	if ans["active"] != true || ans["client_id"] != clientID || !strings.Contains(" "+fmt.Sprint(ans["scope"])+" ", " read ") ||
		string(aud) != `"`+s.mcpURL+`"` && string(aud) != `["`+s.mcpURL+`"]` {
		t.Errorf("the judge's token: %v", ans)
	}
}

var (
	csrfRE = regexp.MustCompile(`name="csrf_token" value="([^"]*)"`)
	stepRE = regexp.MustCompile(`name="step" value="([a-z]+)"`)
)

// userAuthorizes is the user at the login and consent pages, in a cookie
// jar, up to the redirect to the client: it follows the authorization
// server's own redirects, signs in as user1 and allows. It returns the
// query of the redirect to redirectURI.
func userAuthorizes(ctx context.Context, authURL, redirectURI string) (url.Values, error) {
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	req, _ := http.NewRequestWithContext(ctx, "GET", authURL, nil)
	for range 6 {
		res, err := c.Do(req)
		if err != nil {
			return nil, err
		}
		body, err := io.ReadAll(io.LimitReader(res.Body, 1<<20))
		res.Body.Close()
		if err != nil {
			return nil, err
		}
		if loc, err := res.Location(); err == nil {
			if strings.HasPrefix(loc.String(), redirectURI) {
				return loc.Query(), nil
			}
			req, _ = http.NewRequestWithContext(ctx, "GET", loc.String(), nil) // the server's own page
			continue
		}
		csrf, step := csrfRE.FindSubmatch(body), stepRE.FindSubmatch(body)
		if res.StatusCode != 200 || csrf == nil || step == nil {
			return nil, fmt.Errorf("%s: %d %s", req.URL, res.StatusCode, body)
		}
		form := url.Values{"csrf_token": {string(csrf[1])}, "step": {string(step[1])}}
		switch string(step[1]) {
		case "login":
			form.Set("username", "user1")
			form.Set("password", "password1")
		case "consent":
			form.Set("consent", "allow")
		}
		// The forms post to the page's own URL.
		req, _ = http.NewRequestWithContext(ctx, "POST", req.URL.String(), strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	return nil, errors.New("no redirect to the client after six pages")
}

// TestGoSDKJudge: the Go SDK's client-side OAuth (auth.AuthorizationCodeHandler)
// discovers the authorization server from the 401 (RFC 9728, RFC 8414),
// registers itself (RFC 7591), authorizes with PKCE and the resource
// parameter, and calls get_data — against the example processes, in both
// validation modes.
func TestGoSDKJudge(t *testing.T) {
	for _, mode := range []string{"jwks", "introspect"} {
		t.Run(mode, func(t *testing.T) {
			s := startStack(t, mode)
			redirectURI := "http://127.0.0.1:" + strings.Split(freePort(t), ":")[1] + "/callback"
			var authURL *url.URL
			h, err := auth.NewAuthorizationCodeHandler(&auth.AuthorizationCodeHandlerConfig{
				DynamicClientRegistrationConfig: &auth.DynamicClientRegistrationConfig{Metadata: &oauthex.ClientRegistrationMetadata{
					ClientName: "MCP Go SDK judge", RedirectURIs: []string{redirectURI}, TokenEndpointAuthMethod: "none",
					GrantTypes: []string{"authorization_code", "refresh_token"}, ResponseTypes: []string{"code"},
				}},
				AuthorizationCodeFetcher: func(ctx context.Context, args *auth.AuthorizationArgs) (*auth.AuthorizationResult, error) {
					u, err := url.Parse(args.URL)
					if err != nil {
						return nil, err
					}
					authURL = u
					q, err := userAuthorizes(ctx, args.URL, redirectURI)
					if err != nil {
						return nil, err
					}
					return &auth.AuthorizationResult{Code: q.Get("code"), State: q.Get("state"), Iss: q.Get("iss")}, nil
				},
			})
			if err != nil {
				t.Fatal(err)
			}
			c := mcp.NewClient(&mcp.Implementation{Name: "go-sdk-judge", Version: "1"}, nil)
			sess, err := c.Connect(t.Context(), &mcp.StreamableClientTransport{Endpoint: s.mcpURL, OAuthHandler: h}, nil)
			if err != nil {
				t.Fatalf("connect: %v", err)
			}
			defer sess.Close()
			res, err := sess.CallTool(t.Context(), &mcp.CallToolParams{Name: "get_data"})
			if err != nil || len(res.Content) != 1 {
				t.Fatalf("get_data: %+v, %v", res, err)
			}
			if text, _ := res.Content[0].(*mcp.TextContent); text == nil || text.Text != "This is protected data." {
				t.Errorf("get_data answered %+v", res.Content[0])
			}

			if authURL == nil {
				t.Fatal("the SDK never asked the user")
			}
			q := authURL.Query()
			if authURL.Scheme+"://"+authURL.Host+authURL.Path != s.issuer+"/oauth/authorize" || q["resource"][0] != s.mcpURL ||
				q.Get("code_challenge_method") != "S256" || q.Get("code_challenge") == "" || q.Get("scope") != "read" || q.Get("client_id") == "" {
				t.Errorf("authorization request %s", authURL)
			}
			ts, _ := h.TokenSource(t.Context())
			tok, err := ts.Token()
			if err != nil {
				t.Fatal(err)
			}
			s.checkToken(t, tok.AccessToken, q.Get("client_id"))
		})
	}
}

// TestTypeScriptSDKJudge: the same with the MCP TypeScript SDK
// (@modelcontextprotocol/sdk, internal/judges/mcp.mjs).
func TestTypeScriptSDKJudge(t *testing.T) {
	node := judges.Require(t)
	for _, mode := range []string{"jwks", "introspect"} {
		t.Run(mode, func(t *testing.T) {
			s := startStack(t, mode)
			redirectURI := "http://127.0.0.1:" + strings.Split(freePort(t), ":")[1] + "/callback"
			ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
			defer cancel()
			out := judges.Run(ctx, t, node, "mcp.mjs", "MCP_URL="+s.mcpURL, "REDIRECT_URI="+redirectURI,
				"OAUTH_USERNAME=user1", "OAUTH_PASSWORD=password1")
			var got struct {
				Authorize struct {
					Endpoint            string   `json:"endpoint"`
					ClientID            string   `json:"client_id"`
					Resource            []string `json:"resource"`
					Scope               string   `json:"scope"`
					CodeChallengeMethod string   `json:"code_challenge_method"`
					HasCodeChallenge    bool     `json:"has_code_challenge"`
				} `json:"authorize"`
				Iss                string   `json:"iss"`
				RegisteredClientID string   `json:"registered_client_id"`
				AccessToken        string   `json:"access_token"`
				Tools              []string `json:"tools"`
				Text               string   `json:"text"`
				IsError            bool     `json:"is_error"`
			}
			if err := json.Unmarshal(out, &got); err != nil {
				t.Fatalf("%v: %s", err, out)
			}
			a := got.Authorize
			if a.Endpoint != s.issuer+"/oauth/authorize" || len(a.Resource) != 1 || a.Resource[0] != s.mcpURL || a.Scope != "read" ||
				a.CodeChallengeMethod != "S256" || !a.HasCodeChallenge || a.ClientID == "" || a.ClientID != got.RegisteredClientID {
				t.Errorf("authorization request %+v (registered %q)", a, got.RegisteredClientID)
			}
			if got.Iss != s.issuer {
				t.Errorf("iss %q in the authorization response, want %q", got.Iss, s.issuer)
			}
			if got.IsError || got.Text != "This is protected data." || len(got.Tools) != 1 || got.Tools[0] != "get_data" {
				t.Errorf("tools %v, get_data %q (error %v)", got.Tools, got.Text, got.IsError)
			}
			s.checkToken(t, got.AccessToken, got.RegisteredClientID)
		})
	}
}
