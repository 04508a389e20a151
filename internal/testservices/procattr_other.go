//go:build !linux

package testservices

import "os/exec"

// dieWithParent does nothing off Linux: the servers the tests start are
// killed by Run's teardown and the tests' cleanups.
func dieWithParent(*exec.Cmd) {}
