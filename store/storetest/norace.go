//go:build !race

package storetest

// manyTokens is how many tokens testManyTokens stores.
const manyTokens = 10_000
