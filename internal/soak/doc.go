// Package soak holds the soak test: concurrent issue, validate, refresh and
// revoke traffic through a grant.Provider against every store backend, then
// a check that each token's state is what the operations say; the stores
// with a change feed run it a second time through the validation cache. It has no
// code of its own outside its tests; it lives apart so that the store
// drivers stay out of the core packages' imports.
//
//	go test ./internal/soak                            # a few seconds per store
//	OAUTHKIT_SOAK=5m go test -race -timeout 60m ./internal/soak
//
// PostgreSQL and Redis run against OAUTHKIT_TEST_POSTGRES (a DSN) and
// OAUTHKIT_TEST_REDIS (host:port), or, when those are unset, the servers at
// the default local addresses if they answer; they are skipped otherwise,
// with one line saying so (internal/testservices).
package soak
