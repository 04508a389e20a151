package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
)

// binary is the example built once per test run, for the tests that need a
// process of their own (its real stderr, SIGKILL).
var binary = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "oauthkit-example-")
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "example")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		return "", &buildError{err, string(out)}
	}
	return bin, nil
})

type buildError struct {
	err error
	out string
}

func (e *buildError) Error() string { return "go build: " + e.err.Error() + "\n" + e.out }

// exampleBinary returns the path of the built example.
func exampleBinary(t *testing.T) string {
	t.Helper()
	bin, err := binary()
	if err != nil {
		t.Fatal(err)
	}
	return bin
}
