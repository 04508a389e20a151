package otelmetrics

import "context"

// CacheLookup records a lookup in a validation cache: hit when the cache
// answered, miss when the validator behind it had to. It is meant for the
// hook of a cache in front of a shared token store.
func (m *Metrics) CacheLookup(ctx context.Context, hit bool) {
	if hit {
		m.cacheLookups.Add(ctx, 1, m.cacheHit.add...)
		return
	}
	m.cacheLookups.Add(ctx, 1, m.cacheMiss.add...)
}
