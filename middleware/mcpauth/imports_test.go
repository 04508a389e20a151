package mcpauth_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestOnlyAdapterImportsSDK: the MCP SDK is this package's dependency
// alone (and the MCP example's, which is a program using it); no other
// package of the module imports it, tests included.
func TestOnlyAdapterImportsSDK(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}} {{join .Imports " "}} {{join .TestImports " "}} {{join .XTestImports " "}}`, "github.com/oauthkit/oauthkit/...").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	allowed := map[string]bool{
		"github.com/oauthkit/oauthkit/middleware/mcpauth": true,
		"github.com/oauthkit/oauthkit/example/mcp":        true,
	}
	seen := false
	for line := range strings.SplitSeq(strings.TrimSpace(string(out)), "\n") {
		pkg, imports, _ := strings.Cut(line, " ")
		uses := strings.Contains(" "+imports+" ", " github.com/modelcontextprotocol/go-sdk/")
		if uses && !allowed[pkg] {
			t.Errorf("%s imports the MCP SDK", pkg)
		}
		seen = seen || uses && pkg == "github.com/oauthkit/oauthkit/middleware/mcpauth"
	}
	if !seen {
		t.Error("go list did not show this package importing the SDK: the check sees nothing")
	}
}
