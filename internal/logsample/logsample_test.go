package logsample

import (
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func TestSampler(t *testing.T) {
	now := time.Unix(0, 0)
	s := New(3, time.Second, func() time.Time { return now })
	for i := range 3 {
		if ok, n := s.Allow("a"); !ok || n != 0 {
			t.Fatalf("record %d of the burst: %v %d", i+1, ok, n)
		}
	}
	for range 10 {
		if ok, _ := s.Allow("a"); ok {
			t.Fatal("a record beyond the burst went through")
		}
	}
	if ok, _ := s.Allow("b"); !ok {
		t.Fatal("another kind was held back")
	}
	now = now.Add(time.Second)
	if ok, n := s.Allow("a"); !ok || n != 10 {
		t.Fatalf("after a second: %v, %d held back; want true, 10", ok, n)
	}
	// Kinds are bounded: beyond maxKeys they share one allowance.
	for i := range 10 * maxKeys {
		s.Allow("k" + strconv.Itoa(i))
	}
	if n := len(s.kinds); n > maxKeys+1 {
		t.Fatalf("%d kinds kept", n)
	}
}

func TestClip(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"svc", "svc"},
		{"a\x00b\nc", `a\x00b\nc`},
		{"caf\xe9", `caf\xe9`},
		{`say "hi"`, `say \"hi\"`},
		{"été", "été"},
	} {
		if got := Clip(c.in); got != c.want {
			t.Errorf("Clip(%q) = %q, want %q", c.in, got, c.want)
		}
	}
	long := Clip(strings.Repeat("\x01", 10_000))
	if len(long) > 4*ClipBytes+len("…") || !strings.HasSuffix(long, "…") || !utf8.ValidString(long) {
		t.Fatalf("Clip of a long value: %d bytes %q", len(long), long[:20])
	}
}

// FuzzClip: whatever comes in, the result is short, valid UTF-8 and has no
// control characters.
func FuzzClip(f *testing.F) {
	for _, s := range []string{"", "svc", "a\x00\r\n", "\xff\xfe", strings.Repeat("é", 40)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c := Clip(s)
		if len(c) > 4*ClipBytes+len("…") || !utf8.ValidString(c) {
			t.Fatalf("Clip(%q) = %q", s, c)
		}
		for _, r := range c {
			if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
				t.Fatalf("Clip(%q) = %q keeps control character %U", s, c, r)
			}
		}
	})
}
