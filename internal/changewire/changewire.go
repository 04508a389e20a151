// Package changewire is the text form of store.Change that the PostgreSQL
// and Redis change feeds send (NOTIFY payloads, pub/sub messages):
//
//	r              ChangeReset
//	t:<64 hex>     ChangeToken, the token's SHA-256 in lower-case hex
//	f:<name>       ChangeFamily
//	c:<client ID>  ChangeClient
//	m:<16 hex>     ChangeMark, the mark in lower-case hex
//
// A change whose text would be longer than the transport takes is sent as
// "r": subscribers then forget everything, which is always safe.
package changewire

import (
	"encoding/hex"
	"errors"
	"strconv"

	"github.com/oauthkit/oauthkit/store"
)

// Reset is the text of a ChangeReset.
const Reset = "r"

// Encode returns the text of c, or Reset if it would be longer than max
// bytes or c is not a change this package knows.
func Encode(c store.Change, max int) string {
	var s string
	switch c.Kind {
	case store.ChangeToken:
		s = "t:" + hex.EncodeToString(c.Hash[:])
	case store.ChangeFamily:
		s = "f:" + c.Family
	case store.ChangeClient:
		s = "c:" + c.ClientID
	case store.ChangeMark:
		s = "m:" + strconv.FormatUint(c.Mark, 16)
	default:
		return Reset
	}
	if len(s) > max {
		return Reset
	}
	return s
}

// ErrSyntax is returned by Decode for text that is not a change.
var ErrSyntax = errors.New("changewire: not a change")

// Decode parses a change's text. Subscribers should take an error as a
// ChangeReset: whoever can write to the channel can make them forget, but
// never keep a token.
func Decode(s string) (store.Change, error) {
	if s == Reset {
		return store.Change{Kind: store.ChangeReset}, nil
	}
	if len(s) < 2 || s[1] != ':' {
		return store.Change{}, ErrSyntax
	}
	v := s[2:]
	switch s[0] {
	case 't':
		var c store.Change
		if len(v) != 2*len(c.Hash) || !lowerHex(v) {
			return store.Change{}, ErrSyntax
		}
		_, _ = hex.Decode(c.Hash[:], []byte(v))
		c.Kind = store.ChangeToken
		return c, nil
	case 'f':
		return store.Change{Kind: store.ChangeFamily, Family: v}, nil
	case 'c':
		return store.Change{Kind: store.ChangeClient, ClientID: v}, nil
	case 'm':
		if len(v) == 0 || len(v) > 16 || !lowerHex(v) || len(v) > 1 && v[0] == '0' {
			return store.Change{}, ErrSyntax
		}
		m, err := strconv.ParseUint(v, 16, 64)
		if err != nil {
			return store.Change{}, ErrSyntax
		}
		return store.Change{Kind: store.ChangeMark, Mark: m}, nil
	}
	return store.Change{}, ErrSyntax
}

// lowerHex reports whether s is made of 0-9 and a-f only.
func lowerHex(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}
