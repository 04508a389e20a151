package judges

import (
	"encoding/json"
	"testing"
	"time"
)

// TestStart: a started script's output is read line by line, and Wait
// sees it end.
func TestStart(t *testing.T) {
	node := Require(t)
	s := Start(t.Context(), t, node, "smoke.mjs")
	var got map[string]string
	if err := json.Unmarshal([]byte(s.Line(30*time.Second)), &got); err != nil || got["oauth4webapi"] != "function" {
		t.Fatalf("first line: %v %v", got, err)
	}
	s.Wait()
}
