package throttle

import (
	"net/netip"
	"strings"
	"testing"
)

func TestAddrGroup(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"192.0.2.1", "192.0.2.1"},
		{"::ffff:192.0.2.1", "192.0.2.1"},
		{"2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"},
		{"2001:db8:1:2::", "2001:db8:1:2::/64"},
		{"fe80::1%eth0", "fe80::/64"},
		{"not an address", "not an address"},
		{"", ""},
	} {
		if got := AddrGroup(c.in); got != c.want {
			t.Errorf("AddrGroup(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestKey(t *testing.T) {
	if Key("a", "bc") == Key("ab", "c") || Key("a") == Key("a", "") {
		t.Fatal("keys of different part lists collide")
	}
	long := Key(strings.Repeat("x", 1<<20))
	if len(long) != 2*keyBytes || len(Key()) != 2*keyBytes {
		t.Fatalf("key length %d, want %d", len(long), 2*keyBytes)
	}
}

// FuzzAddrGroup: any input is grouped without panic; an IP address's group
// is the same for every address of its /64 (or itself for IPv4, mapped or
// not), and grouping is stable.
func FuzzAddrGroup(f *testing.F) {
	for _, s := range []string{"192.0.2.1", "::ffff:10.1.2.3", "2001:db8::1", "fe80::1%25eth0", "fe80::1%eth0", "[::1]", "1.2.3.4:80", "", "::", "ff02::1%x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		g := AddrGroup(s)
		ip, err := netip.ParseAddr(s)
		if err != nil {
			if g != s {
				t.Fatalf("non-address %q grouped as %q", s, g)
			}
			return
		}
		ip = ip.WithZone("").Unmap()
		if ip.Is4() {
			if g != ip.String() {
				t.Fatalf("IPv4 %q grouped as %q", s, g)
			}
			return
		}
		// Every address of the /64 falls in the same group.
		b := ip.As16()
		for i := 8; i < 16; i++ {
			b[i] ^= 0xff
		}
		// (but for the IPv4-mapped range ::ffff:0:0/96, inside ::/64, whose
		// addresses are IPv4 clients and grouped as such)
		if o := netip.AddrFrom16(b); o.Is4In6() {
			return
		}
		if other := AddrGroup(netip.AddrFrom16(b).String()); other != g {
			t.Fatalf("%q and %v in the same /64 grouped apart: %q, %q", s, netip.AddrFrom16(b), g, other)
		}
		if again := AddrGroup(g); strings.Contains(g, "/") && again != g {
			t.Fatalf("group %q is not stable: %q", g, again)
		}
	})
}
