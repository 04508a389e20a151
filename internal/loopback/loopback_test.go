package loopback

import (
	"net/netip"
	"testing"
)

func TestHost(t *testing.T) {
	for host, want := range map[string]bool{
		"127.0.0.1": true, "127.0.0.2": true, "127.255.255.254": true, "::1": true, "0:0:0:0:0:0:0:1": true,
		"localhost": false, "LOCALHOST": false, "localhost.": false, "localhost.attacker.example": false,
		"127.attacker.example": false, "127.0.0.1.attacker.example": false, "127.0.0.1.": false,
		"::ffff:127.0.0.1": false, "::ffff:7f00:1": false, "::1%lo": false, "[::1]": false,
		"127.1": false, "127.000.000.001": false, "0x7f.0.0.1": false, "2130706433": false,
		"128.0.0.1": false, "10.0.0.1": false, "0.0.0.0": false, "::": false, "::2": false, "": false,
		"127.0.0.1:80": false, " 127.0.0.1": false,
	} {
		if got := Host(host); got != want {
			t.Errorf("Host(%q) = %v, want %v", host, got, want)
		}
	}
}

// FuzzHost checks that whatever Host accepts is a loopback address that
// prints back as the input, up to the IPv6 spelling.
func FuzzHost(f *testing.F) {
	for _, s := range []string{"127.0.0.1", "::1", "localhost", "::ffff:127.0.0.1", "127.1", "::1%lo", "127.0.0.1.x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, host string) {
		if !Host(host) {
			return
		}
		a, err := netip.ParseAddr(host)
		if err != nil || !a.IsLoopback() || a.Zone() != "" || a.Is4In6() {
			t.Fatalf("Host accepted %q", host)
		}
		if a.Is4() && a.String() != host {
			t.Fatalf("Host accepted a non-canonical IPv4 literal %q", host)
		}
	})
}
