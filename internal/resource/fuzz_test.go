package resource

import (
	"strings"
	"testing"
)

// FuzzCanonical: Canonical never panics, its output is canonical (a fixed
// point), carries no fragment, userinfo or characters outside the grammar,
// and Equal agrees with comparing canonical forms.
func FuzzCanonical(f *testing.F) {
	for _, s := range []string{
		"https://mcp.example.com/mcp", "HTTP://127.0.0.1:080/a/../b/%2e/c?x=%2f", "https://[::1]:443/",
		"https://h/mcp#x", "https://u@h/", "https://h/%zz",
	} {
		f.Add(s, "https://mcp.example.com/mcp")
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		ca, err := Canonical(a)
		if err != nil {
			if Equal(a, b) {
				t.Fatalf("Equal(%q, %q) with an invalid first argument", a, b)
			}
			return
		}
		again, err := Canonical(ca)
		if err != nil || again != ca {
			t.Fatalf("Canonical(%q) = %q is not canonical: %q, %v", a, ca, again, err)
		}
		if strings.ContainsAny(ca, "# \"<>\\^`{|}") {
			t.Fatalf("Canonical(%q) = %q has a forbidden character", a, ca)
		}
		_, rest, ok := strings.Cut(ca, "://")
		if !ok || !strings.HasPrefix(ca, "http://") && !strings.HasPrefix(ca, "https://") {
			t.Fatalf("Canonical(%q) = %q: scheme", a, ca)
		}
		if auth, _, _ := strings.Cut(rest, "/"); strings.ContainsAny(auth, "@%") || auth == "" {
			t.Fatalf("Canonical(%q) = %q: authority %q", a, ca, auth)
		}
		cb, errb := Canonical(b)
		if want := errb == nil && ca == cb; Equal(a, b) != want {
			t.Fatalf("Equal(%q, %q) = %v, canonical forms %q, %q", a, b, !want, ca, cb)
		}
	})
}
