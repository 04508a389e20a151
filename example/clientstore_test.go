package main

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	goredis "github.com/redis/go-redis/v9"
)

// TestClientStoreSplit: with the tokens in Redis and the clients in SQLite
// (-client-store), a Redis that loses its keys (restarted empty) costs the
// tokens, not the registrations: /healthz says the token store lost its
// data, and the clients still get tokens. With the clients in Redis too,
// the same reset leaves them unknown (401), the failure -client-store is
// for.
func TestClientStoreSplit(t *testing.T) {
	for _, tc := range []struct {
		name   string
		split  bool
		status int // of client_credentials after the reset
	}{
		{"clients in sqlite", true, 200},
		{"clients in redis", false, 401},
	} {
		t.Run(tc.name, func(t *testing.T) {
			spec := redisSpec(t)
			args := []string{"-store", spec}
			if tc.split {
				args = append(args, "-client-store", sqliteSpec(t))
			}
			base, stdout := startExample(t, args...)
			banner := stdout.String()
			if tc.split && !strings.Contains(banner, "; clients in sqlite ") {
				t.Errorf("banner:\n%s", banner)
			}
			m := regexp.MustCompile(`(?m)^  demo-service .* secret=(okcs_\S+)`).FindStringSubmatch(banner)
			if m == nil {
				t.Fatalf("no demo-service secret in the banner:\n%s", banner)
			}
			before := clientCredentials(t, base, "demo-service", m[1])

			u, _ := url.Parse(spec)
			rdb := goredis.NewClient(&goredis.Options{Addr: u.Host})
			defer rdb.Close()
			keys, err := rdb.Keys(t.Context(), u.Query().Get("prefix")+"*").Result()
			if err != nil || len(keys) == 0 {
				t.Fatalf("keys: %v %v", keys, err)
			}
			if err := rdb.Del(t.Context(), keys...).Err(); err != nil { // what a restart empty leaves
				t.Fatal(err)
			}
			if status, body := healthz(t, base); status != 503 || body["reason"] != "the token store lost its data" {
				t.Errorf("healthz after the reset: %d %v", status, body)
			}
			if status, _, _ := call(t, "GET", base+"/api/data", "", "Bearer "+before, ""); status != 401 {
				t.Errorf("a token from before the reset: %d, want 401", status)
			}
			_, err = tryClientCredentials(http.DefaultClient, base, "demo-service", m[1])
			switch {
			case tc.status == 200 && err != nil:
				t.Errorf("client_credentials after the reset: %v, want 200", err)
			case tc.status != 200 && (err == nil || !strings.Contains(err.Error(), "401")):
				t.Errorf("client_credentials after the reset: %v, want 401", err)
			}
		})
	}
}

// TestClientStoreSpecs: -client-store takes SQLite or PostgreSQL only (a
// Redis would lose the clients as it loses the tokens; memory keeps
// nothing).
func TestClientStoreSpecs(t *testing.T) {
	for _, spec := range []string{"memory", "redis://127.0.0.1:1/0", "redis+cluster://127.0.0.1:1", "bolt:x"} {
		st, _, err := openClientStore(t.Context(), spec, storeTuning{})
		if err == nil {
			st.Close()
			t.Errorf("%q: opened", spec)
			continue
		}
		if exitStatus(err) != 2 {
			t.Errorf("%q: %v, want a -client-store error", spec, err)
		}
	}
}

// TestClientsCommandSplit: `clients` with -client-store creates and lists
// the clients there, and delete revokes the client's tokens in -store, as
// the server that runs with both flags sees at once.
func TestClientsCommandSplit(t *testing.T) {
	tokens, clients := redisSpec(t), sqliteSpec(t)
	code, out, errOut := runCmd(t, "clients", "create", "--id", "billing", "--grant-type", "client_credentials",
		"--scope", "read", "-store", tokens, "-client-store", clients)
	m := secretLine.FindStringSubmatch(out)
	if code != 0 || m == nil {
		t.Fatalf("create: exit %d\n%s%s", code, out, errOut)
	}
	if _, out, _ := runCmd(t, "clients", "list", "-store", clients); !strings.Contains(out, "billing") {
		t.Errorf("the client is not in the -client-store:\n%s", out)
	}
	if _, out, _ := runCmd(t, "clients", "list", "-store", tokens); strings.Contains(out, "billing") {
		t.Errorf("the client is in the -store:\n%s", out)
	}
	base, _ := startExample(t, "-store", tokens, "-client-store", clients)
	at := clientCredentials(t, base, "billing", m[1])
	if got := apiData(t, base, at); got != 200 {
		t.Fatalf("GET /api/data: %d", got)
	}
	code, out, errOut = runCmd(t, "clients", "delete", "--id", "billing", "-store", tokens, "-client-store", clients)
	if code != 0 || !strings.Contains(out, "Every token issued to it is revoked") {
		t.Fatalf("delete: exit %d\n%s%s", code, out, errOut)
	}
	if got := apiData(t, base, at); got != 401 {
		t.Errorf("GET /api/data with the deleted client's token: %d, want 401", got)
	}
}
