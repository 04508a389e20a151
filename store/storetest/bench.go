package storetest

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/oauthkit/oauthkit/store"
)

// Bench runs the benchmarks every backend reports, against s, as parallel
// sub-benchmarks (run with -cpu to change the parallelism):
//
//   - CreateToken: issuing a token in a new family.
//   - Token: looking up one of 1,000 stored tokens, the resource server's
//     validation path when it does not cache.
func Bench(b *testing.B, s Store) {
	b.Run("CreateToken", func(b *testing.B) {
		ctx := b.Context()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				tok, _ := newToken(store.KindAccess, newFamily(), time.Hour)
				if err := s.CreateToken(ctx, &tok); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
	b.Run("Token", func(b *testing.B) {
		ctx := b.Context()
		hashes := make([]store.Hash, 1000)
		for i := range hashes {
			tok, _ := newToken(store.KindAccess, newFamily(), time.Hour)
			if err := s.CreateToken(ctx, &tok); err != nil {
				b.Fatal(err)
			}
			hashes[i] = tok.Hash
		}
		var next atomic.Uint64
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				h := hashes[next.Add(1)%uint64(len(hashes))]
				if _, err := s.Token(ctx, h); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
}
