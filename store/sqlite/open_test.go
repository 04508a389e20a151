package sqlite_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/oauthkit/oauthkit/store/sqlite"
)

// TestOpenMissingDirectory: a database path in a directory that does not
// exist says so, instead of SQLite's "unable to open database file".
func TestOpenMissingDirectory(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "no", "such")
	_, err := sqlite.Open(t.Context(), filepath.Join(dir, "oauthkit.db"))
	if err == nil || !strings.Contains(err.Error(), "directory "+dir+" does not exist") {
		t.Fatalf("Open: %v", err)
	}
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = sqlite.Open(t.Context(), filepath.Join(file, "oauthkit.db"))
	if err == nil || !strings.Contains(err.Error(), "is not a directory") {
		t.Fatalf("Open under a file: %v", err)
	}
}
