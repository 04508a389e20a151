package main

import (
	"bytes"
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"testing"
)

// runCmd runs the program in-process with args and returns its exit status
// and output.
func runCmd(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(t.Context(), args, &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

var secretLine = regexp.MustCompile(`(?m)^client_secret: (okcs_\S+)$`)

// TestClientsCommand registers, lists and deletes clients on every
// persistent backend, and uses a registered client with the server.
func TestClientsCommand(t *testing.T) {
	for name, spec := range persistentSpecs(t) {
		t.Run(name, func(t *testing.T) {
			s := spec(t)
			code, out, errOut := runCmd(t, "clients", "create", "--id", "billing", "--grant-type", "client_credentials",
				"--scope", "read", "--name", "Billing service", "-store", s)
			m := secretLine.FindStringSubmatch(out)
			if code != 0 || m == nil || !strings.Contains(out, "client_id:     billing") {
				t.Fatalf("create: exit %d\n%s%s", code, out, errOut)
			}
			secret := m[1]
			code, out, errOut = runCmd(t, "clients", "create", "--id", "spa", "--public",
				"--redirect-uri", "http://127.0.0.1:9000/cb", "--redirect-uri", "com.example.app:/cb",
				"--grant-type", "authorization_code", "--grant-type", "refresh_token", "--scope", "read write", "-store", s)
			if code != 0 || strings.Contains(out, "client_secret") {
				t.Fatalf("create public: exit %d\n%s%s", code, out, errOut)
			}
			code, out, errOut = runCmd(t, "clients", "create", "--id", "billing", "--grant-type", "client_credentials", "-store", s)
			if code != 2 || !strings.Contains(errOut, "already registered") || strings.Contains(out, "okcs_") {
				t.Errorf("create twice: exit %d\n%s%s", code, out, errOut)
			}

			code, out, errOut = runCmd(t, "clients", "list", "-store", s)
			if code != 0 || !regexp.MustCompile(`(?m)^billing +client_secret_basic +client_credentials +read `).MatchString(out) ||
				!regexp.MustCompile(`(?m)^spa +none +authorization_code,refresh_token +read write +http://127.0.0.1:9000/cb,com.example.app:/cb `).MatchString(out) ||
				strings.Contains(out, secret) {
				t.Fatalf("list: exit %d\n%s%s", code, out, errOut)
			}

			// The server runs with the clients of the store, beside the demo ones.
			base, stdout := startExample(t, "-store", s)
			if !regexp.MustCompile(`(?m)^  billing .*\(secret shown at creation only\)`).MatchString(stdout.String()) {
				t.Errorf("banner:\n%s", stdout)
			}
			req, _ := http.NewRequest("POST", base+"/oauth/token", strings.NewReader("grant_type=client_credentials&scope=read"))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.SetBasicAuth("billing", secret)
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			var tok struct {
				AccessToken string `json:"access_token"`
			}
			err = json.NewDecoder(res.Body).Decode(&tok)
			res.Body.Close()
			if res.StatusCode != 200 || err != nil || tok.AccessToken == "" {
				t.Fatalf("client_credentials with the printed secret: %d (%v)", res.StatusCode, err)
			}
			if got := apiData(t, base, tok.AccessToken); got != 200 {
				t.Fatalf("GET /api/data with the client's token: %d, want 200", got)
			}

			code, out, errOut = runCmd(t, "clients", "delete", "--id", "billing", "-store", s)
			if code != 0 || !strings.Contains(out, "deleted client billing") || !strings.Contains(out, "Every token issued to it is revoked") {
				t.Fatalf("delete: exit %d\n%s%s", code, out, errOut)
			}
			// The token issued before the deletion is refused at once.
			if got := apiData(t, base, tok.AccessToken); got != 401 {
				t.Errorf("GET /api/data with the deleted client's token: %d, want 401", got)
			}
			if code, _, errOut = runCmd(t, "clients", "delete", "--id", "billing", "-store", s); code != 2 || !strings.Contains(errOut, `no client "billing"`) {
				t.Errorf("delete twice: exit %d %s", code, errOut)
			}
			if _, out, _ = runCmd(t, "clients", "list", "-store", s); strings.Contains(out, "billing") || !strings.Contains(out, "spa") {
				t.Errorf("list after delete:\n%s", out)
			}
			req, _ = http.NewRequest("POST", base+"/oauth/token", strings.NewReader("grant_type=client_credentials&scope=read"))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.SetBasicAuth("billing", secret)
			if res, err = http.DefaultClient.Do(req); err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if res.StatusCode != 401 {
				t.Errorf("deleted client: %d, want 401", res.StatusCode)
			}
		})
	}
}

// apiData calls GET /api/data with the bearer token and returns the status.
func apiData(t *testing.T, base, token string) int {
	t.Helper()
	req, _ := http.NewRequest("GET", base+"/api/data", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	return res.StatusCode
}

func TestClientsCommandInvalid(t *testing.T) {
	s := sqliteSpec(t)
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"no command", nil, "usage: example clients"},
		{"unknown command", []string{"rename"}, `unknown command "rename"`},
		{"no id", []string{"create", "--grant-type", "client_credentials"}, "client_id is required"},
		{"bad id", []string{"create", "--id", "a b", "--grant-type", "client_credentials"}, "client_id is required"},
		{"reserved id", []string{"create", "--id", loginClientID, "--grant-type", "client_credentials"}, "reserved"},
		{"no redirect", []string{"create", "--id", "x"}, "redirect_uris are required"},
		{"fragment", []string{"create", "--id", "x", "--redirect-uri", "https://a.example/cb#f"}, "without fragment"},
		{"http non-loopback", []string{"create", "--id", "x", "--redirect-uri", "http://a.example/cb"}, "loopback"},
		{"implicit", []string{"create", "--id", "x", "--grant-type", "implicit", "--redirect-uri", "https://a.example/cb"}, `grant type "implicit"`},
		{"public cc", []string{"create", "--id", "x", "--public", "--grant-type", "client_credentials"}, "public client cannot use client_credentials"},
		{"public + method", []string{"create", "--id", "x", "--public", "--auth-method", "client_secret_post", "--redirect-uri", "https://a.example/cb"}, "contradict"},
		{"method none", []string{"create", "--id", "x", "--auth-method", "none", "--redirect-uri", "https://a.example/cb"}, "use --public"},
		{"bad method", []string{"create", "--id", "x", "--auth-method", "private_key_jwt", "--redirect-uri", "https://a.example/cb"}, "not supported"},
		{"unknown flag", []string{"create", "--id", "x", "--redirect", "https://a.example/cb"}, "flag provided but not defined"},
		{"stray argument", []string{"create", "--id", "x", "--scope", "read", "write"}, `unexpected argument "write"`},
		{"delete without id", []string{"delete"}, "--id is required"},
		{"delete unknown", []string{"delete", "--id", "nobody"}, `no client "nobody"`},
	} {
		args := append([]string{"clients"}, tc.args...)
		if len(tc.args) > 0 {
			args = append(args, "-store", s)
		}
		code, out, errOut := runCmd(t, args...)
		if code != 2 || !strings.Contains(errOut, tc.want) || strings.Contains(out, "okcs_") {
			t.Errorf("%s: exit %d, stderr %q, want 2 and %q", tc.name, code, errOut, tc.want)
		}
	}
	for _, store := range []string{"memory", "", "mysql://db"} {
		code, _, errOut := runCmd(t, "clients", "list", "-store", store)
		if code != 2 || !strings.Contains(errOut, "-store") {
			t.Errorf("-store %q: exit %d, stderr %q", store, code, errOut)
		}
	}
	if code, _, errOut := runCmd(t, "clients", "list", "-store", "postgres://u:hunter2@127.0.0.1:1/db?connect_timeout=1"); code != 1 || strings.Contains(errOut, "hunter2") {
		t.Errorf("unreachable store: exit %d, stderr %q", code, errOut)
	}
	if code, _, errOut := runCmd(t, "-store", "bogus"); code != 2 || !strings.Contains(errOut, "-store") {
		t.Errorf("server with -store bogus: exit %d, stderr %q", code, errOut)
	}
}
