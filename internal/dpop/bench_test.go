package dpop

import (
	"testing"
	"time"

	"github.com/oauthkit/oauthkit/internal/dpop/dpoptest"
	"github.com/oauthkit/oauthkit/internal/replay"
)

// BenchmarkVerify: one proof checked per algorithm (a signature
// verification, a thumbprint and a replay cache entry each), every proof
// fresh as a client sends them.
func BenchmarkVerify(b *testing.B) {
	for _, alg := range SupportedAlgorithms {
		b.Run(alg, func(b *testing.B) {
			k := dpoptest.NewKey(b, alg)
			now := time.Now()
			v, _ := New(Config{Replay: replay.New(0, nil), Now: func() time.Time { return now }})
			proofs := make([]string, 512)
			for i := range proofs {
				proofs[i] = k.Proof(b, "GET", rsURL, dpoptest.IssuedAt(now), dpoptest.Token(token))
			}
			req := Request{Method: "GET", URL: rsURL, AccessToken: token, JKT: k.JKT}
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				v.skip = 0
				if i >= len(proofs) {
					v.skip = checkReplay // the proofs come round again
				}
				if _, err := v.Verify(b.Context(), []string{proofs[i%len(proofs)]}, req); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
	}
}
