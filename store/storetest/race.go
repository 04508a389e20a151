//go:build race

package storetest

// manyTokens is how many tokens testManyTokens stores. The race detector
// slows pure-Go database engines about tenfold, so it stores fewer.
const manyTokens = 2_500
