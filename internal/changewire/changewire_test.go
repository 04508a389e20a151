package changewire

import (
	"strings"
	"testing"

	"github.com/oauthkit/oauthkit/store"
)

func TestRoundTrip(t *testing.T) {
	for _, c := range []store.Change{
		{Kind: store.ChangeReset},
		{Kind: store.ChangeToken, Hash: store.HashSecret("okt_x")},
		{Kind: store.ChangeFamily, Family: "fam-1"},
		{Kind: store.ChangeFamily, Family: ""},
		{Kind: store.ChangeClient, ClientID: "c:with:colons"},
		{Kind: store.ChangeMark, Mark: 0},
		{Kind: store.ChangeMark, Mark: 1<<64 - 1},
	} {
		s := Encode(c, 8000)
		got, err := Decode(s)
		if err != nil || got != c {
			t.Errorf("Decode(Encode(%+v)) = %q → %+v, %v", c, s, got, err)
		}
	}
}

// TestTooLong: a change longer than the transport takes becomes a reset,
// never a truncated name (which could name another client).
func TestTooLong(t *testing.T) {
	c := store.Change{Kind: store.ChangeClient, ClientID: strings.Repeat("x", 100)}
	if s := Encode(c, 101); s != Reset {
		t.Errorf("Encode of a 102-byte change with max 101 = %q, want %q", s, Reset)
	}
	if s := Encode(c, 102); s != "c:"+c.ClientID {
		t.Errorf("Encode with max 102 = %q", s)
	}
	if s := Encode(store.Change{Kind: 99}, 100); s != Reset {
		t.Errorf("Encode of an unknown kind = %q, want %q", s, Reset)
	}
}

func TestDecodeRefuses(t *testing.T) {
	for _, s := range []string{"", "x", "r:", "t:", "t:" + strings.Repeat("A", 64), "t:" + strings.Repeat("a", 63),
		"m:", "m:00", "m:G", "m:" + strings.Repeat("f", 17), "z:1", "tt"} {
		if c, err := Decode(s); err == nil {
			t.Errorf("Decode(%q) = %+v, want an error", s, c)
		}
	}
}

// FuzzDecode: any text decodes to a change that encodes back to it, or is
// refused; nothing panics.
func FuzzDecode(f *testing.F) {
	for _, s := range []string{"r", "t:" + strings.Repeat("0", 64), "f:fam", "c:client", "m:ff", "m:0", "x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := Decode(s)
		if err != nil {
			return
		}
		if back := Encode(c, len(s)); back != s {
			t.Fatalf("Decode(%q) = %+v, which encodes as %q", s, c, back)
		}
	})
}
