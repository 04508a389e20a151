package dpop

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"time"
)

// Nonces are server-provided DPoP nonces (RFC 9449 §8, §9) that need no
// state: a nonce is a time step and its HMAC under a key, accepted during
// its step and the next. Every instance holding the key makes and accepts
// the same nonces, and nobody without it can predict them.
type Nonces struct {
	key  []byte
	step int64 // milliseconds
}

// nonceMAC is how many bytes of the HMAC a nonce carries: 128 bits.
const nonceMAC = 16

// NewNonces returns the nonces of key (at least 32 bytes) changing every
// step (at least a second): a nonce lives between one and two steps.
func NewNonces(key []byte, step time.Duration) (*Nonces, error) {
	if len(key) < 32 {
		return nil, errors.New("dpop: the nonce key must have at least 32 bytes")
	}
	if step < time.Second {
		return nil, errors.New("dpop: the nonce step must be at least a second")
	}
	return &Nonces{key: append([]byte(nil), key...), step: step.Milliseconds()}, nil
}

// Nonce returns the nonce of now's step.
func (n *Nonces) Nonce(now time.Time) string { return n.encode(n.counter(now)) }

// Valid reports whether s is the nonce of now's step or of the one before.
func (n *Nonces) Valid(s string, now time.Time) bool {
	if base64.RawURLEncoding.DecodedLen(len(s)) != 8+nonceMAC {
		return false
	}
	c := n.counter(now)
	for _, want := range []uint64{c, c - 1} {
		if hmac.Equal([]byte(s), []byte(n.encode(want))) {
			return true
		}
	}
	return false
}

func (n *Nonces) counter(now time.Time) uint64 { return uint64(now.UnixMilli() / n.step) }

// encode is base64url(counter || HMAC-SHA256(key, counter)[:16]).
func (n *Nonces) encode(c uint64) string {
	b := binary.BigEndian.AppendUint64(make([]byte, 0, 8+sha256.Size), c)
	m := hmac.New(sha256.New, n.key)
	m.Write(b)
	b = m.Sum(b)[:8+nonceMAC]
	return base64.RawURLEncoding.EncodeToString(b)
}
