// Package usercode makes and reads the short codes a person copies from
// one screen to another: the user codes of the device authorization grant
// (RFC 8628 §6.1). A code is Length characters of a 20-letter alphabet of
// consonants, case-insensitive, without vowels (no words are spelled) and
// without characters that look alike (no 0/O, 1/I/l): 20^8 ≈ 2.56·10^10
// codes, 34.6 bits. It is shown as two groups of four, "WDJB-MJHT", and read
// back whatever the case, dashes, spaces or other characters typed with it.
//
// The package knows nothing of OAuth; what makes so few bits enough is the
// caller's throttling and the codes' lifetime.
package usercode

import (
	"crypto/rand"
	"math"
	"strings"
)

// Alphabet is the characters of a code (RFC 8628 §6.1's base-20 set).
const Alphabet = "BCDFGHJKLMNPQRSTVWXZ"

// Length is the number of characters of a code.
const Length = 8

// MaxInput bounds what Normalize reads: an input longer than this is
// refused before it is looked at.
const MaxInput = 64

// Space is the number of possible codes, 20^8.
func Space() float64 { return math.Pow(float64(len(Alphabet)), Length) }

// New returns a random code from crypto/rand, each character uniform over
// Alphabet (bytes of 240 or more are drawn again, so that no character is
// likelier than another).
func New() (string, error) {
	var out [Length]byte
	var buf [2 * Length]byte
	for n := 0; n < Length; {
		if _, err := rand.Read(buf[:]); err != nil {
			return "", err
		}
		for _, b := range buf {
			if b >= 240 || n == Length { // 240 = 12·20
				continue
			}
			out[n] = Alphabet[b%20]
			n++
		}
	}
	return string(out[:]), nil
}

// Format shows code in two groups of four: "WDJB-MJHT".
func Format(code string) string {
	if len(code) != Length {
		return code
	}
	return code[:4] + "-" + code[4:]
}

// Normalize reads a code as a person typed it: ASCII letters are upper-cased
// and every character outside Alphabet is dropped (dashes, spaces,
// punctuation, and letters the alphabet lacks, RFC 8628 §6.1). It reports
// false unless exactly Length characters remain, or for an input longer
// than MaxInput bytes.
func Normalize(input string) (string, bool) {
	if len(input) > MaxInput {
		return "", false
	}
	var out [Length]byte
	n := 0
	for i := 0; i < len(input); i++ {
		c := input[i]
		if 'a' <= c && c <= 'z' {
			c -= 'a' - 'A'
		}
		if strings.IndexByte(Alphabet, c) < 0 {
			continue
		}
		if n == Length {
			return "", false
		}
		out[n] = c
		n++
	}
	if n != Length {
		return "", false
	}
	return string(out[:]), true
}
