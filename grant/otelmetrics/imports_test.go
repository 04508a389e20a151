package otelmetrics_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestOnlyAdapterImportsOTel: OpenTelemetry (and the Prometheus client) are
// this package's dependencies and the example's, which exports them; no
// other package of the module imports them, not even in tests, and no
// core package depends on them through another.
func TestOnlyAdapterImportsOTel(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}} {{join .Imports " "}} {{join .TestImports " "}} {{join .XTestImports " "}}`, "github.com/oauthkit/oauthkit/...").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	allowed := map[string]bool{
		"github.com/oauthkit/oauthkit/grant/otelmetrics": true,
		"github.com/oauthkit/oauthkit/example":           true,
	}
	seen := false
	for line := range strings.SplitSeq(strings.TrimSpace(string(out)), "\n") {
		pkg, imports, _ := strings.Cut(line, " ")
		imports = " " + imports
		uses := strings.Contains(imports, " go.opentelemetry.io/") || strings.Contains(imports, " github.com/prometheus/")
		if uses && !allowed[pkg] {
			t.Errorf("%s imports OpenTelemetry or Prometheus", pkg)
		}
		seen = seen || uses && pkg == "github.com/oauthkit/oauthkit/grant/otelmetrics"
	}
	if !seen {
		t.Error("go list did not show this package importing OpenTelemetry: the check sees nothing")
	}
	deps, err := exec.Command("go", "list", "-deps", "github.com/oauthkit/oauthkit/grant", "github.com/oauthkit/oauthkit/middleware", "github.com/oauthkit/oauthkit/store/...").CombinedOutput()
	if err != nil {
		t.Fatalf("go list -deps: %v\n%s", err, deps)
	}
	for dep := range strings.SplitSeq(string(deps), "\n") {
		if strings.HasPrefix(dep, "go.opentelemetry.io/") || strings.HasPrefix(dep, "github.com/prometheus/") {
			t.Errorf("a core package depends on %s", dep)
		}
	}
}
