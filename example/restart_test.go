package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os/exec"
	"path/filepath"
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
// getting tokens from it, restarts it on the same SQLite file, and checks
// that every token whose response was received is still valid.
func TestCrashSQLite(t *testing.T) {
	dir := t.TempDir()
	bin := exampleBinary(t)
	spec := "sqlite:" + filepath.Join(dir, "oauthkit.db")
	addr := freeAddr(t)
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

	// Four clients issue tokens as fast as they can; the process is killed
	// after 400 ms, in the middle of their requests.
	var (
		mu       sync.Mutex
		received []string
		wg       sync.WaitGroup
	)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 8}, Timeout: 5 * time.Second}
	for range 4 {
		wg.Go(func() {
			for {
				at, err := tryClientCredentials(client, base, "demo-service", secret)
				if err != nil {
					return // the server is gone
				}
				mu.Lock()
				received = append(received, at)
				mu.Unlock()
			}
		})
	}
	time.Sleep(400 * time.Millisecond)
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	_ = cmd.Wait()
	if len(received) < 10 {
		t.Fatalf("only %d tokens before the kill; stderr:\n%s", len(received), stderr)
	}

	base, _, _ = runUntilStopped(t, "-store", spec)
	lost := 0
	for _, at := range received {
		if status, _, _ := call(t, "GET", base+"/api/data", "", "Bearer "+at, ""); status != 200 {
			lost++
		}
	}
	t.Logf("%d tokens received before SIGKILL, %d lost", len(received), lost)
	if lost > 0 {
		t.Errorf("%d of %d tokens whose response was received are not valid after the crash", lost, len(received))
	}
}
