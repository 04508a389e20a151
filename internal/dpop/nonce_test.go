package dpop

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

var t0 = time.Date(2031, 5, 6, 7, 8, 9, 0, time.UTC)

func testNonces(t *testing.T, key byte) *Nonces {
	t.Helper()
	n, err := NewNonces(bytes.Repeat([]byte{key}, 32), time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestNonces: a nonce is accepted in its step and the next only, by every
// instance with the same key and by no other; it is NQCHAR (RFC 9449 §8.1)
// and unpredictable without the key.
func TestNonces(t *testing.T) {
	a, b, other := testNonces(t, 1), testNonces(t, 1), testNonces(t, 2)
	n := a.Nonce(t0)
	for _, c := range []byte(n) {
		if c < 0x21 || c == 0x22 || c == 0x5c || c > 0x7e {
			t.Fatalf("nonce %q has %q, not NQCHAR", n, c)
		}
	}
	if b.Nonce(t0) != n {
		t.Fatal("two instances with one key disagree")
	}
	if other.Nonce(t0) == n || other.Valid(n, t0) {
		t.Fatal("a nonce of one key is valid under another")
	}
	for _, c := range []struct {
		at   time.Duration
		want bool
	}{{0, true}, {59 * time.Second, true}, {119 * time.Second, true}, {2 * time.Minute, false}, {-time.Minute, false}, {time.Hour, false}} {
		if got := b.Valid(n, t0.Truncate(time.Minute).Add(c.at)); got != c.want {
			t.Errorf("nonce of step 0 at +%v: valid %v, want %v", c.at, got, c.want)
		}
	}
	if a.Nonce(t0.Add(time.Minute)) == n {
		t.Fatal("the nonce does not change with the step")
	}
	for _, bad := range []string{"", n[:len(n)-1], n + "A", strings.ToUpper(n), "!!!!", n[:10] + "A" + n[11:]} {
		if bad != n && a.Valid(bad, t0) {
			t.Errorf("Valid(%q) = true", bad)
		}
	}
	if _, err := NewNonces(make([]byte, 31), time.Minute); err == nil {
		t.Error("a 31-byte key accepted")
	}
	if _, err := NewNonces(make([]byte, 32), time.Millisecond); err == nil {
		t.Error("a step under a second accepted")
	}
}
