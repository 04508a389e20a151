package newcomer

import (
	"bufio"
	"context"
	"encoding/json"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"
)

// repoRoot is the module's root directory.
func repoRoot(t *testing.T) string {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// readmeBlock returns the fenced code block that follows the line starting
// with marker in the README.
func readmeBlock(t *testing.T, readme, marker string) string {
	t.Helper()
	i := strings.Index(readme, "\n"+marker)
	if i < 0 {
		t.Fatalf("README.md has no %q marker", marker)
	}
	rest := readme[i+1:]
	open := strings.Index(rest, "\n```")
	if open < 0 {
		t.Fatalf("no code block after %q", marker)
	}
	rest = rest[open+4:]
	rest = rest[strings.IndexByte(rest, '\n')+1:] // past the language tag
	end := strings.Index(rest, "\n```")
	if end < 0 {
		t.Fatalf("unterminated code block after %q", marker)
	}
	return rest[:end+1]
}

// offline is the environment of the quick start's go commands: the module
// cache only (go test ./... has filled it with every module the quick start
// needs), go.mod updated as the build needs, and the shared build cache.
var offline = []string{"GOFLAGS=-mod=mod", "GOPROXY=off", "GOWORK=off", "GOTOOLCHAIN=local"}

// run runs the command in dir with env added to the environment.
func run(t *testing.T, dir string, env []string, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir, cmd.Env = dir, append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// readmeAddr is the address the quick start listens on; the test puts a
// free port in its place, in the code and in the commands.
const readmeAddr = "127.0.0.1:8080"

// TestQuickStart writes the README's quick start into a new module (go mod
// init, a replace of this module by this checkout), builds and runs it, and
// runs the README's curl commands against it with the real curl: the secret
// the program printed goes where the README writes okcs_…, the token from
// the first answer where it writes okat_…; each answer must match the
// README's comment line below the command (… matching anything).
func TestQuickStart(t *testing.T) {
	curl, err := exec.LookPath("curl")
	if err != nil {
		t.Skip("curl is not installed")
	}
	root := repoRoot(t)
	raw, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	readme := string(raw)
	code := readmeBlock(t, readme, "<!-- quickstart: main.go")
	shell := readmeBlock(t, readme, "<!-- quickstart: shell -->")
	if !strings.Contains(code, readmeAddr) || !strings.Contains(shell, readmeAddr) {
		t.Fatalf("the quick start does not use %s", readmeAddr)
	}
	addr := freeAddr(t)

	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "main.go"), []byte(strings.ReplaceAll(code, readmeAddr, addr)), 0o644); err != nil {
		t.Fatal(err)
	}
	sum, err := os.ReadFile(filepath.Join(root, "go.sum")) // the hashes of every module it may need
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "go.sum"), sum, 0o644); err != nil {
		t.Fatal(err)
	}
	run(t, dir, offline, "go", "mod", "init", "quickstart")
	run(t, dir, offline, "go", "mod", "edit", "-replace", "github.com/oauthkit/oauthkit="+root,
		"-require", "github.com/oauthkit/oauthkit@v0.0.0-00010101000000-000000000000")
	bin := filepath.Join(dir, "quickstart")
	run(t, dir, offline, "go", "build", "-o", bin, ".")

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	server := exec.CommandContext(ctx, bin)
	stdout, err := server.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	server.Stderr = &stderr
	if err := server.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cancel(); _ = server.Wait() }()
	secretc := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if s, ok := strings.CutPrefix(sc.Text(), "client_secret: "); ok {
				secretc <- s
			}
		}
	}()
	var secret string
	select {
	case secret = <-secretc:
	case <-time.After(30 * time.Second):
		t.Fatalf("the quick start printed no secret; stderr:\n%s", stderr.String())
	}
	waitListening(t, addr)

	token := ""
	lines := strings.Split(strings.TrimSpace(shell), "\n")
	for i := 0; i < len(lines); i++ {
		line := lines[i]
		if !strings.HasPrefix(line, "curl ") {
			t.Fatalf("unexpected line in the quick start's commands: %q", line)
		}
		cmdline := strings.ReplaceAll(line, readmeAddr, addr)
		cmdline = strings.ReplaceAll(cmdline, "okcs_…", secret)
		cmdline = strings.ReplaceAll(cmdline, "okat_…", token)
		out, err := exec.Command("sh", "-c", strings.Replace(cmdline, "curl", curl, 1)).Output()
		if err != nil {
			t.Fatalf("%s: %v", line, err)
		}
		got := strings.TrimSpace(string(out))
		if i+1 < len(lines) && strings.HasPrefix(lines[i+1], "# ") {
			want := strings.TrimPrefix(lines[i+1], "# ")
			if !matches(want, got) {
				t.Errorf("%s\nanswered %s\nthe README says %s", line, got, want)
			}
			i++
		}
		var tok struct {
			AccessToken string `json:"access_token"`
		}
		if json.Unmarshal(out, &tok) == nil && tok.AccessToken != "" {
			token = tok.AccessToken
		}
	}
	if token == "" {
		t.Fatal("no command got a token")
	}
}

// matches reports whether got is want with each … standing for any text.
func matches(want, got string) bool {
	parts := strings.Split(want, "…")
	for i, p := range parts {
		parts[i] = regexp.QuoteMeta(p)
	}
	return regexp.MustCompile(`^` + strings.Join(parts, `.*`) + `$`).MatchString(got)
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func waitListening(t *testing.T, addr string) {
	t.Helper()
	for i := 0; ; i++ {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.Close()
			return
		}
		if i == 500 {
			t.Fatalf("nothing listens at %s", addr)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
