package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

// freePort returns a TCP port free on every interface.
func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", ":0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
}

// TestAddrWildcardIssuer: -addr :PORT or 0.0.0.0:PORT (every interface)
// gives the default issuer http://127.0.0.1:PORT, which works: the metadata
// names it and /login issues tokens. The banner's URLs are ones curl can
// reach.
func TestAddrWildcardIssuer(t *testing.T) {
	for _, host := range []string{"", "0.0.0.0", "[::]"} {
		t.Run("host="+host, func(t *testing.T) {
			port := freePort(t)
			ctx, cancel := context.WithCancel(context.Background())
			var stdout, stderr syncBuffer
			done := make(chan int, 1)
			go func() { done <- run(ctx, []string{"-addr", host + ":" + port}, &stdout, &stderr) }()
			defer func() {
				cancel()
				if code := <-done; code != 0 {
					t.Errorf("exit %d: %s", code, stderr.String())
				}
			}()
			base := "http://127.0.0.1:" + port
			var res *http.Response
			for i := 0; ; i++ {
				var err error
				if res, err = http.Get(base + "/.well-known/oauth-authorization-server"); err == nil {
					break
				}
				select {
				case code := <-done:
					done <- code
					t.Fatalf("exit %d: %s", code, stderr.String())
				case <-time.After(20 * time.Millisecond):
				}
				if i == 200 {
					t.Fatalf("did not start: %s", stderr.String())
				}
			}
			var meta struct{ Issuer string }
			err := json.NewDecoder(res.Body).Decode(&meta)
			res.Body.Close()
			if err != nil || meta.Issuer != base {
				t.Fatalf("issuer %q (%v), want %q", meta.Issuer, err, base)
			}
			if status, _, body := call(t, "POST", base+"/login", "application/json", "", `{"username": "user1", "password": "password1"}`); status != 200 {
				t.Fatalf("/login: %d %s", status, body)
			}
			if !strings.Contains(stdout.String(), "curl -X POST "+base+"/login") {
				t.Errorf("banner's curl command does not use %s:\n%s", base, stdout.String())
			}
		})
	}
}

// TestAddrNeedsIssuer: an address that is not loopback nor every interface
// cannot have an http issuer: the error names -issuer.
func TestAddrNeedsIssuer(t *testing.T) {
	for _, addr := range []string{"192.0.2.1:5000", "example.com:5000", "localhost:5000"} {
		var stderr bytes.Buffer
		code := run(context.Background(), []string{"-addr", addr}, &bytes.Buffer{}, &stderr)
		if code != 2 || !strings.Contains(stderr.String(), "-issuer") {
			t.Errorf("-addr %s: exit %d, stderr %q", addr, code, stderr.String())
		}
	}
	var stderr bytes.Buffer
	if code := run(context.Background(), []string{"-addr", "5000"}, &bytes.Buffer{}, &stderr); code != 2 || !strings.Contains(stderr.String(), "-addr") {
		t.Errorf("-addr 5000: exit %d, stderr %q", code, stderr.String())
	}
}

// TestHelpExitsZero: -h prints the usage and exits 0, for the server and
// the clients command.
func TestHelpExitsZero(t *testing.T) {
	for _, args := range [][]string{{"-h"}, {"--help"}, {"clients", "-h"}, {"clients", "help"}, {"clients", "create", "-h"}} {
		var stdout, stderr bytes.Buffer
		code := run(context.Background(), args, &stdout, &stderr)
		if code != 0 || !strings.Contains(stdout.String()+stderr.String(), "-store") {
			t.Errorf("%q: exit %d, output %q", args, code, stdout.String()+stderr.String())
		}
	}
	if code := run(context.Background(), []string{"clients"}, &bytes.Buffer{}, &bytes.Buffer{}); code != 2 {
		t.Errorf("clients without a command: exit %d, want 2", code)
	}
}

// TestClientsFileErrorsSayWhere: a -clients file that is not an array, is
// not valid JSON, or has a bad registration is refused with the line and
// column of the problem, in plain words.
func TestClientsFileErrorsSayWhere(t *testing.T) {
	for _, c := range []struct{ content, want string }{
		{`{"client_id": "x"}`, "line 1, column 1: the file holds an object; it must hold a JSON array"},
		{"\n\n  \"svc\"", "line 3, column 3: the file holds a string"},
		{"[\n  {\"client_id\": \"x\",\n   \"scope\": \"read\",}\n]", "line 3, column 20: invalid character '}'"},
		{"[\n  {\"client_id\": \"x\", \"redirect_uris\": [\"https://a.example/cb\"]}", "line 2, column 64: the file ends before the JSON array does"},
		{"[\n  {\"client_id\": \"a\", \"redirect_uris\": [\"https://a.example/cb\"]},\n  {\"client_id\": \"b\", \"redirect_uri\": \"https://a.example/cb\"}\n]",
			`client 2: line 3, column 3: unknown field "redirect_uri"`},
		{"[\n  {\"client_id\": \"x\", \"grant_types\": \"client_credentials\"}\n]", `line 2, column 3: "grant_types" must be an array of strings, not a string`},
		{"[\n  {\"client_id\": \"x\"}\n]", `client 1 ("x", line 2, column 3): redirect_uris are required`},
		{"[] []", "line 1, column 4: unexpected data after the JSON array"},
		{"", "the file is empty"},
	} {
		_, err := parseClients([]byte(c.content))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: %v, want %q", c.content, err, c.want)
		}
	}
}
