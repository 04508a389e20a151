// Package judges runs independent client libraries — openid-client,
// oauth4webapi and the MCP TypeScript SDK, from npm — against oauthkit in
// the Go tests, as their users would run them. The Node scripts live beside
// this file, with a package.json and its lockfile; [Require] installs the
// pinned packages (npm ci) on first use, so `go test ./...` needs nothing
// else set up.
//
// Tests that use a judge call [Require]: without Node it skips the test,
// unless OAUTHKIT_REQUIRE_NODE=1 (as .ci/run sets), when it fails it.
package judges

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"
)

// RequireEnv names the variable that makes the judges mandatory.
const RequireEnv = "OAUTHKIT_REQUIRE_NODE"

// Dir returns the folder of the scripts and their package.json.
func Dir() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Dir(file)
}

// Require returns the path of the node binary, with the judges' packages
// installed; it skips t (or fails it, under OAUTHKIT_REQUIRE_NODE=1) when
// Node or npm is missing.
func Require(t testing.TB) string {
	t.Helper()
	node, err := exec.LookPath("node")
	if err == nil {
		err = install(t.Context())
	}
	if err != nil {
		if os.Getenv(RequireEnv) == "1" {
			t.Fatalf("judges: %v (%s=1)", err, RequireEnv)
		}
		t.Skipf("judges: %v; set %s=1 to make this a failure", err, RequireEnv)
	}
	return node
}

// install runs npm ci unless node_modules matches the lockfile already. A
// lock file serialises the test binaries of several packages running at
// once.
func install(ctx context.Context) error {
	dir := Dir()
	lock, err := os.OpenFile(filepath.Join(dir, ".install.lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return err
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		return err
	}
	defer syscall.Flock(int(lock.Fd()), syscall.LOCK_UN)
	want, err := os.ReadFile(filepath.Join(dir, "package-lock.json"))
	if err != nil {
		return err
	}
	// npm ci writes this copy of the lockfile; it matching means done.
	if got, err := os.ReadFile(filepath.Join(dir, "node_modules", ".package-lock.json")); err == nil && sameDeps(got, want) {
		return nil
	}
	if _, err := exec.LookPath("npm"); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "npm", "ci", "--no-audit", "--no-fund", "--loglevel=error")
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("npm ci: %v\n%s", err, out)
	}
	return nil
}

// sameDeps reports whether the installed tree's lockfile lists the same
// packages as the project's: both name every package with its version and
// integrity, which is all that must match.
func sameDeps(installed, project []byte) bool {
	pick := func(b []byte) string {
		var keep []string
		for line := range strings.SplitSeq(string(b), "\n") {
			if l := strings.TrimSpace(line); strings.HasPrefix(l, `"integrity"`) {
				keep = append(keep, l)
			}
		}
		return strings.Join(keep, "\n")
	}
	return pick(installed) != "" && pick(installed) == pick(project)
}

// Run runs the judge script (a file name beside this package, such as
// "oidc.mjs") with node and the extra environment, and returns its standard
// output. A failing script fails t with its standard error. The script is
// killed when ctx ends.
func Run(ctx context.Context, t testing.TB, node, script string, env ...string) []byte {
	t.Helper()
	cmd := exec.CommandContext(ctx, node, filepath.Join(Dir(), script))
	cmd.Dir = Dir()
	cmd.Env = append(os.Environ(), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("judges: %s: %v\nstdout:\n%s\nstderr:\n%s", script, err, stdout.Bytes(), stderr.Bytes())
	}
	return stdout.Bytes()
}
