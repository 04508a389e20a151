package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// freeAddr returns a loopback address nobody listens on.
func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// waitUp waits until base answers.
func waitUp(t *testing.T, base string, stderr fmt.Stringer) {
	t.Helper()
	for i := 0; ; i++ {
		if res, err := http.Get(base + "/"); err == nil {
			res.Body.Close()
			return
		}
		if i == 250 {
			t.Fatalf("example did not start; stderr:\n%s", stderr)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// runUntilStopped runs the program in-process; stop ends it, as SIGTERM
// would, and checks its exit status.
func runUntilStopped(t *testing.T, args ...string) (base string, stdout *syncBuffer, stop func()) {
	t.Helper()
	addr := freeAddr(t)
	ctx, cancel := context.WithCancel(context.Background())
	stdout, stderr := &syncBuffer{}, &syncBuffer{}
	done := make(chan int, 1)
	go func() { done <- run(ctx, append([]string{"-addr", addr}, args...), stdout, stderr) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			if code := <-done; code != 0 {
				t.Errorf("exit status %d; stderr:\n%s", code, stderr)
			}
		})
	}
	t.Cleanup(stop)
	base = "http://" + addr
	waitUp(t, base, stderr)
	return base, stdout, stop
}

// TestRestartSQLite stops the example and starts it again on the same
// SQLite file: the tokens issued before are valid after, the demo clients
// are reused, and their secrets are not shown again.
func TestRestartSQLite(t *testing.T) {
	spec := sqliteSpec(t)
	base, stdout, stop := runUntilStopped(t, "-store", spec)
	secret := regexp.MustCompile(`(?m)^  demo-service .* secret=(okcs_\S+)`).FindStringSubmatch(stdout.String())
	if secret == nil {
		t.Fatalf("no demo-service secret in the first banner:\n%s", stdout)
	}
	user := login(t, base, "user1", "password1")
	svc := clientCredentials(t, base, "demo-service", secret[1])
	stop()

	base, stdout, _ = runUntilStopped(t, "-store", spec)
	banner := stdout.String()
	if strings.Contains(banner, "secret=") || !regexp.MustCompile(`(?m)^  demo-service .*\(secret shown at creation only\)`).MatchString(banner) {
		t.Errorf("second banner:\n%s", banner)
	}
	for _, at := range []string{user.AccessToken, svc} {
		if status, _, body := call(t, "GET", base+"/api/data", "", "Bearer "+at, ""); status != 200 {
			t.Errorf("token from before the restart: %d %s", status, body)
		}
	}
	// The refresh token survives too, and the client's secret still works.
	form := "grant_type=refresh_token&client_id=" + loginClientID + "&refresh_token=" + user.RefreshToken
	if status, _, body := call(t, "POST", base+"/oauth/token", "application/x-www-form-urlencoded", "", form); status != 200 {
		t.Errorf("refresh after the restart: %d %s", status, body)
	}
	clientCredentials(t, base, "demo-service", secret[1])
}

// clientCredentials gets an access token with the client_credentials grant.
func clientCredentials(t *testing.T, base, id, secret string) string {
	t.Helper()
	at, err := tryClientCredentials(http.DefaultClient, base, id, secret)
	if err != nil {
		t.Fatal(err)
	}
	return at
}

// tryClientCredentials is clientCredentials for goroutines: it returns the
// token only when the whole response was received.
func tryClientCredentials(c *http.Client, base, id, secret string) (string, error) {
	req, _ := http.NewRequest("POST", base+"/oauth/token", strings.NewReader("grant_type=client_credentials"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(id, secret)
	res, err := c.Do(req)
	if err != nil {
		return "", err
	}
	defer res.Body.Close()
	var tok tokenJSON
	if err := json.NewDecoder(res.Body).Decode(&tok); err != nil {
		return "", err
	}
	if res.StatusCode != 200 || tok.AccessToken == "" {
		return "", fmt.Errorf("client_credentials: %d", res.StatusCode)
	}
	return tok.AccessToken, nil
}

// TestCrashSQLite kills the example binary (SIGKILL) while clients are
// getting tokens from it, revoking some and rotating a refresh token,
// restarts it on the same SQLite file, and checks that nothing
// acknowledged was undone (crashTest).
func TestCrashSQLite(t *testing.T) { crashTest(t, sqliteSpec(t)) }

// TestCrashPostgres is TestCrashSQLite on PostgreSQL.
func TestCrashPostgres(t *testing.T) { crashTest(t, postgresSpec(t)) }

// crashRun is what the clients of crashTest got acknowledged before the
// kill.
type crashRun struct {
	mu       sync.Mutex
	received []string // access tokens whose response was received
	revoked  []string // of those, the ones whose revocation was answered 200
	pending  []string // and the ones whose revocation was sent but not answered
	rotated  []string // refresh tokens rotated away, oldest first (each answered 200)
	current  string   // the refresh token of the last answered rotation
}

// crashTest runs the example binary on spec and, while four clients get
// tokens (client_credentials), one revokes each token it sees (RFC 7009)
// and one rotates a refresh token as fast as it can, kills it (SIGKILL)
// after 400 ms, restarts it on the same store, and checks that no
// acknowledged token was lost (every received token valid, unless its
// revocation was sent; the last rotation's refresh token works) and no
// revocation undone (every revoked token refused; the oldest rotated-away
// refresh token refused).
func crashTest(t *testing.T, spec string) {
	bin := exampleBinary(t)
	addr := freeAddr(t)
	// Both runs share the provider secret, as a restarted deployment does:
	// presenting a rotated-away refresh token within the reuse grace is
	// then taken for a retry of its rotation, which finds its successor
	// used and revokes the family.
	t.Setenv(sessionKeyEnv, base64.StdEncoding.EncodeToString([]byte(rand.Text()+rand.Text())))
	cmd := exec.Command(bin, "-addr", addr, "-store", spec)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr := &syncBuffer{}
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	// The banner is printed before the server listens; read the secret.
	var secret string
	sc := bufio.NewScanner(stdout)
	re := regexp.MustCompile(`^  demo-service .* secret=(okcs_\S+)`)
	for secret == "" && sc.Scan() {
		if m := re.FindStringSubmatch(sc.Text()); m != nil {
			secret = m[1]
		}
	}
	if secret == "" {
		t.Fatalf("no demo-service secret in the banner; stderr:\n%s", stderr)
	}
	go func() { _, _ = io.Copy(io.Discard, stdout) }()
	base := "http://" + addr
	waitUp(t, base, stderr)
	run := &crashRun{current: login(t, base, "user1", "password1").RefreshToken}

	// Four clients issue tokens as fast as they can, one revokes what they
	// get, one rotates the refresh token; the process is killed after
	// 400 ms, in the middle of their requests.
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 8}, Timeout: 5 * time.Second}
	fresh := make(chan string, 1024)
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for {
				at, err := tryClientCredentials(client, base, "demo-service", secret)
				if err != nil {
					return // the server is gone
				}
				run.mu.Lock()
				run.received = append(run.received, at)
				run.mu.Unlock()
				select {
				case fresh <- at:
				default:
				}
			}
		})
	}
	stopped := make(chan struct{})
	wg.Go(func() {
		for {
			var at string
			select {
			case at = <-fresh:
			case <-stopped:
				return
			}
			run.mu.Lock()
			run.pending = append(run.pending, at)
			run.mu.Unlock()
			if status, err := tryPost(client, base+"/oauth/revoke", "demo-service", secret, "token="+at); err != nil {
				return
			} else if status == 200 {
				run.mu.Lock()
				run.revoked = append(run.revoked, at)
				run.pending = run.pending[:len(run.pending)-1]
				run.mu.Unlock()
			}
		}
	})
	wg.Go(func() {
		for {
			form := "grant_type=refresh_token&client_id=" + loginClientID + "&refresh_token=" + run.current
			req, _ := http.NewRequest("POST", base+"/oauth/token", strings.NewReader(form))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			res, err := client.Do(req)
			if err != nil {
				return
			}
			var tok tokenJSON
			err = json.NewDecoder(res.Body).Decode(&tok)
			res.Body.Close()
			if err != nil || res.StatusCode != 200 || tok.RefreshToken == "" {
				return
			}
			run.mu.Lock()
			run.rotated = append(run.rotated, run.current)
			run.current = tok.RefreshToken
			run.mu.Unlock()
		}
	})
	time.Sleep(400 * time.Millisecond)
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	close(stopped)
	wg.Wait()
	_ = cmd.Wait()
	if len(run.received) < 10 || len(run.revoked) < 5 || len(run.rotated) < 2 {
		t.Fatalf("only %d tokens, %d revocations and %d rotations before the kill; stderr:\n%s",
			len(run.received), len(run.revoked), len(run.rotated), stderr)
	}

	base, _, _ = runUntilStopped(t, "-store", spec)
	sent := map[string]bool{}
	for _, at := range append(run.revoked, run.pending...) {
		sent[at] = true
	}
	lost, revived := 0, 0
	for _, at := range run.received {
		if !sent[at] {
			if status, _, _ := call(t, "GET", base+"/api/data", "", "Bearer "+at, ""); status != 200 {
				lost++
			}
		}
	}
	for _, at := range run.revoked {
		if status, _, _ := call(t, "GET", base+"/api/data", "", "Bearer "+at, ""); status != 401 {
			revived++
		}
	}
	refresh := func(rt string) int {
		status, _, _ := call(t, "POST", base+"/oauth/token", "application/x-www-form-urlencoded", "",
			"grant_type=refresh_token&client_id="+loginClientID+"&refresh_token="+rt)
		return status
	}
	if refresh(run.current) != 200 {
		lost++
	}
	if refresh(run.rotated[0]) != 400 {
		revived++
	}
	t.Logf("before SIGKILL: %d tokens received, %d revoked (%d revocations unanswered), %d refresh rotations; after: %d lost, %d revived",
		len(run.received), len(run.revoked), len(run.pending), len(run.rotated), lost, revived)
	if lost > 0 || revived > 0 {
		t.Errorf("after the crash: %d acknowledged tokens lost, %d acknowledged revocations undone", lost, revived)
	}
}

// tryPost posts form to url with Basic client authentication and returns
// the status, once the whole response was received.
func tryPost(c *http.Client, url, id, secret, form string) (int, error) {
	req, _ := http.NewRequest("POST", url, strings.NewReader(form))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(id, secret)
	res, err := c.Do(req)
	if err != nil {
		return 0, err
	}
	defer res.Body.Close()
	if _, err := io.Copy(io.Discard, res.Body); err != nil {
		return 0, err
	}
	return res.StatusCode, nil
}
