package storetest_test

import (
	"testing"

	"github.com/oauthkit/oauthkit/store/memory"
	"github.com/oauthkit/oauthkit/store/storetest"
)

// A store's test file runs the conformance suite from a test function,
// giving it a fresh, empty store per subtest (a store with a server behind
// it registers its cleanup with t.Cleanup):
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) storetest.Store { return memory.New() })
//	}
func ExampleRun() {
	conformance := func(t *testing.T) {
		storetest.Run(t, func(t *testing.T) storetest.Store { return memory.New() })
	}
	_ = conformance // run by go test as TestConformance
}
