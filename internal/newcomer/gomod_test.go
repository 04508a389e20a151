package newcomer

import (
	"os"
	"path/filepath"
	"regexp"
	"testing"
)

// TestGoModDirective: go.mod asks for Go 1.26.0 at most, so that no 1.26
// release downloads another toolchain to build the module (a patch version
// such as 1.26.8 would, on 1.26.0 to 1.26.7), and go mod tidy keeps it so:
// no dependency asks for more. (Plain "go 1.26" would be the language
// version, lower than the 1.26.0 that x/crypto and others ask for, and
// tidy would rewrite it to 1.26.0.) The bench module likewise.
func TestGoModDirective(t *testing.T) {
	root := repoRoot(t)
	directive := regexp.MustCompile(`(?m)^go (\S+)$`)
	for _, dir := range []string{root, filepath.Join(root, "bench")} {
		mod, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err != nil {
			t.Fatal(err)
		}
		m := directive.FindSubmatch(mod)
		if m == nil || (string(m[1]) != "1.26" && string(m[1]) != "1.26.0") {
			t.Errorf("%s: go directive %q, want 1.26.0", filepath.Join(filepath.Base(dir), "go.mod"), m)
		}
		if testing.Short() {
			continue
		}
		// tidy -diff changes nothing and reports what it would change.
		run(t, dir, []string{"GOWORK=off", "GOTOOLCHAIN=local"}, "go", "mod", "tidy", "-diff")
	}
}
