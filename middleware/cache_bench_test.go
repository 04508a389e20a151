package middleware_test

import (
	"context"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/oauthkit/oauthkit/middleware"
)

// Run: go test -run '^$' -bench 'JWKS|Introspection' -benchmem ./middleware

func benchJWKS(b *testing.B, alg jose.SignatureAlgorithm, cacheSize int) {
	k := newTestKey(b, "k1", alg)
	s := newJWKSServer(b, k)
	clk := &tclock{t: t0.Add(time.Minute)}
	v := newJWKSValidator(b, s, clk, func(c *middleware.JWKSConfig) { c.CacheSize = cacheSize })
	raw := sign(b, k, goodClaims(), nil)
	ctx := context.Background()
	if _, err := v.ValidateToken(ctx, raw); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := v.ValidateToken(ctx, raw); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkJWKSWarmCacheEdDSA(b *testing.B) { benchJWKS(b, jose.EdDSA, 0) }
func BenchmarkJWKSNoCacheEdDSA(b *testing.B)   { benchJWKS(b, jose.EdDSA, -1) }
func BenchmarkJWKSWarmCacheES256(b *testing.B) { benchJWKS(b, jose.ES256, 0) }
func BenchmarkJWKSNoCacheES256(b *testing.B)   { benchJWKS(b, jose.ES256, -1) }

func BenchmarkIntrospectionCacheHit(b *testing.B) {
	a := newFakeAS(b, map[string]map[string]any{"good": active(t0.Add(time.Hour))})
	clk := &tclock{t: t0}
	v := newIntrospector(b, a, clk)
	ctx := context.Background()
	if _, err := v.ValidateToken(ctx, "good"); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := v.ValidateToken(ctx, "good"); err != nil {
			b.Fatal(err)
		}
	}
	if n := a.calls.Load(); n != 1 {
		b.Fatalf("%d calls to the AS", n)
	}
}

func BenchmarkIntrospectionNoCache(b *testing.B) {
	a := newFakeAS(b, map[string]map[string]any{"good": active(t0.Add(time.Hour))})
	clk := &tclock{t: t0}
	v := newIntrospector(b, a, clk, func(c *middleware.IntrospectionConfig) { c.CacheTTL = -1 })
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := v.ValidateToken(ctx, "good"); err != nil {
			b.Fatal(err)
		}
	}
}
