package store

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"unsafe"
)

// Hash is the SHA-256 digest of a token, code or generated client secret: the
// only form in which a store keeps them. These values carry at least 256 bits
// from crypto/rand, so a fast hash is safe; slow password hashes are for
// human-chosen passwords (see store/password).
type Hash [sha256.Size]byte

// HashSecret returns the SHA-256 of s. It does not copy s: it runs on every
// token validation, where an allocation is a measurable share of the cost.
func HashSecret(s string) Hash {
	// The bytes are only read, never kept or written.
	return sha256.Sum256(unsafe.Slice(unsafe.StringData(s), len(s)))
}

// Equal reports in constant time whether h and other are the same digest.
func (h Hash) Equal(other Hash) bool {
	return subtle.ConstantTimeCompare(h[:], other[:]) == 1
}

// IsZero reports whether h is the zero value (no hash set).
func (h Hash) IsZero() bool {
	return h == Hash{}
}

// String returns the digest in lower-case hex, the form SQL and key-value
// backends store it in.
func (h Hash) String() string {
	return hex.EncodeToString(h[:])
}
