package dpop

import (
	"errors"
	"strings"
	"testing"

	"github.com/oauthkit/oauthkit/internal/dpop/dpoptest"
)

// FuzzVerify feeds arbitrary DPoP header values to Verify: no panic, and
// every refusal is ErrNoProof or an *Error (never a replay cache failure,
// which the in-process cache does not have).
func FuzzVerify(f *testing.F) {
	k := dpoptest.NewKey(f, "ES256")
	valid := k.Proof(f, "POST", asURL, dpoptest.IssuedAt(t0))
	f.Add(valid)
	f.Add(valid[:len(valid)-2])
	f.Add(strings.Replace(valid, ".", "..", 1))
	f.Add(dpoptest.NewKey(f, "EdDSA").Proof(f, "GET", rsURL, dpoptest.IssuedAt(t0), dpoptest.Token(token)))
	f.Fuzz(func(t *testing.T, h string) {
		v := newVerifier(t)
		_, err := v.Verify(t.Context(), []string{h}, asReq)
		var e *Error
		if err != nil && !errors.Is(err, ErrNoProof) && !errors.As(err, &e) {
			t.Fatalf("Verify(%q) = %v", h, err)
		}
	})
}

// FuzzNormalizeHTU: no panic; what it returns normalises to itself and is
// accepted again.
func FuzzNormalizeHTU(f *testing.F) {
	for _, s := range []string{asURL, "HTTP://[::1]:80/a/../b/%7e?q#f", "https://x:0443", "https://x/%2F%2e%2E/"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := NormalizeHTU(s)
		if err != nil {
			return
		}
		again, err := NormalizeHTU(n)
		if err != nil || again != n {
			t.Fatalf("NormalizeHTU(%q) = %q, then %q, %v", s, n, again, err)
		}
	})
}
