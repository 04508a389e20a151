package middleware

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/oauthkit/oauthkit/internal/dpop/dpoptest"
	"github.com/oauthkit/oauthkit/internal/replay"
)

// distinctKeys is the in-process replay cache, seeing each use as a new
// key, so that a benchmark can send a pool of proofs round and round and
// still pay for every entry.
type distinctKeys struct {
	c *replay.Cache
	n atomic.Int64
}

func (d *distinctKeys) UseOnce(ctx context.Context, key string, until time.Time) (bool, error) {
	return d.c.UseOnce(ctx, key+strconv.FormatInt(d.n.Add(1), 10), until)
}

// BenchmarkRequireOAuthDPoP compares, in one run, a request through
// RequireOAuth with a bearer token and with a DPoP-bound token and a proof
// of each algorithm: the proof costs a signature verification, a
// thumbprint and a replay cache entry per request.
//
//	go test -run '^$' -bench RequireOAuthDPoP -benchtime 2000x -count 3 ./middleware
func BenchmarkRequireOAuthDPoP(b *testing.B) {
	ok := http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})
	b.Run("Bearer", func(b *testing.B) {
		h := RequireOAuth(testTokens, "read")(ok)
		r := httptest.NewRequest("GET", rsURL, nil)
		r.Header.Set("Authorization", "Bearer read")
		b.ReportAllocs()
		for b.Loop() {
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if w.Code != 200 {
				b.Fatal(w.Code)
			}
		}
	})
	for _, alg := range []string{"ES256", "EdDSA", "PS256", "RS256", "ES384"} {
		b.Run("DPoP-"+alg, func(b *testing.B) {
			key := dpoptest.NewKey(b, alg)
			now := time.Now()
			tokens := mapValidator{"bound": {ClientID: "c", Scopes: []string{"read"}, JKT: key.JKT}}
			g, err := New(tokens, Options{DPoP: DPoPOptions{
				Algorithms: []string{alg}, Now: func() time.Time { return now },
				Replay: &distinctKeys{c: replay.New(0, func() time.Time { return now })},
			}})
			if err != nil {
				b.Fatal(err)
			}
			h := g.Require("read")(ok)
			reqs := make([]*http.Request, 64)
			for i := range reqs {
				reqs[i] = dpopRequest("GET", "DPoP bound", key.Proof(b, "GET", rsURL, dpoptest.Token("bound"), dpoptest.IssuedAt(now)))
			}
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				w := httptest.NewRecorder()
				h.ServeHTTP(w, reqs[i%len(reqs)])
				if w.Code != 200 {
					b.Fatal(w.Code, w.Header())
				}
				i++
			}
		})
	}
}
