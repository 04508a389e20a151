package dpop

// check names one check of Verify, so that a test can turn it off and show
// that the test refusing a proof that breaks it fails without it.
type check uint32

const (
	checkOneHeader check = 1 << iota // §4.3 (1): one DPoP header
	checkClaims                      // (3): jti, htm, htu, iat present
	checkTyp                         // (4): typ dpop+jwt
	checkAlg                         // (5): alg from the allow-list
	checkSignature                   // (6): signature by the jwk
	checkPublicJWK                   // (7): no private key in the jwk
	checkHTM                         // (8)
	checkHTU                         // (9)
	checkNonce                       // (10)
	checkIAT                         // (11)
	checkATH                         // (12) ath
	checkBinding                     // (12) the token's key
	checkReplay                      // §11.1: jti used once
	checkKeyAlg                      // §4.2: the jwk is a key of the alg's type
)

// on reports whether check c is in force: always, outside tests.
func (v *Verifier) on(c check) bool { return v.skip&c == 0 }
