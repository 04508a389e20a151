package throttle

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"net/netip"
)

// keyBytes is how much of a SHA-256 a key keeps: 128 bits, beyond reach
// of collisions made on purpose.
const keyBytes = 16

// Key returns the counter key for parts: the hex of a SHA-256 over the
// length-prefixed parts, truncated to 128 bits (32 characters), so that
// keys have a fixed size and no two part lists share one.
func Key(parts ...string) string {
	h := sha256.New()
	var n [8]byte
	for _, p := range parts {
		binary.BigEndian.PutUint64(n[:], uint64(len(p)))
		h.Write(n[:])
		h.Write([]byte(p))
	}
	var sum [sha256.Size]byte
	return hex.EncodeToString(h.Sum(sum[:0])[:keyBytes])
}

// AddrGroup returns the group an address is counted in: an IPv4 address
// alone (IPv4-mapped IPv6 addresses count as IPv4), an IPv6 address by its
// /64, since one subscriber commonly holds a whole /64. A zone is dropped.
// Anything that is not an IP address (a host's own ClientAddr may return
// anything) is its own group, as given.
func AddrGroup(addr string) string {
	ip, err := netip.ParseAddr(addr)
	if err != nil {
		return addr
	}
	ip = ip.WithZone("").Unmap()
	if ip.Is4() {
		return ip.String()
	}
	p, _ := ip.Prefix(64) // cannot fail for an IPv6 address without zone
	return p.String()
}
