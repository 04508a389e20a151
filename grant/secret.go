package grant

import (
	"crypto/rand"
	"encoding/base64"
	"strings"

	"github.com/oauthkit/oauthkit/store"
)

// Prefixes of the values this package generates, so that secret scanners can
// recognise a leaked oauthkit credential (and so that a token of one kind is
// never mistaken for another).
const (
	PrefixAccessToken  = "okat_" // opaque access token
	PrefixRefreshToken = "okrt_" // refresh token
	PrefixCode         = "okac_" // authorization code
	PrefixClientSecret = "okcs_" // generated client secret
	PrefixDeviceCode   = "okdc_" // device code (RFC 8628)
)

// secretBytes is the entropy of every generated value: 256 bits.
const secretBytes = 32

// newSecret returns prefix followed by 256 random bits in base64url, and the
// SHA-256 that stores keep instead.
func newSecret(prefix string) (string, store.Hash, error) {
	var b [secretBytes]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", store.Hash{}, err
	}
	var enc [43]byte // base64.RawURLEncoding.EncodedLen(secretBytes)
	base64.RawURLEncoding.Encode(enc[:], b[:])
	var sb strings.Builder
	sb.Grow(len(prefix) + len(enc))
	sb.WriteString(prefix)
	sb.Write(enc[:])
	s := sb.String()
	return s, store.HashSecret(s), nil
}

// NewClientSecret generates a client secret of 256 bits and returns it with
// the hash to register in store.Client.SecretHash. Show the secret to its
// owner once; only the hash is kept.
func NewClientSecret() (secret string, hash store.Hash, err error) {
	return newSecret(PrefixClientSecret)
}

// hasPrefix reports whether raw looks like a value this package made with
// prefix: a cheap check that spares the store lookups for garbage.
func hasPrefix(raw, prefix string) bool {
	return len(raw) == len(prefix)+43 && strings.HasPrefix(raw, prefix)
}
