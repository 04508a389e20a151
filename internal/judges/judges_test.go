package judges

import (
	"encoding/json"
	"testing"
)

// TestSmoke: the pinned packages install and load.
func TestSmoke(t *testing.T) {
	node := Require(t)
	var got map[string]string
	if err := json.Unmarshal(Run(t.Context(), t, node, "smoke.mjs"), &got); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"openidClient", "oauth4webapi", "mcp"} {
		if got[k] != "function" {
			t.Errorf("%s: %q, want function", k, got[k])
		}
	}
}
