package grant

import (
	"context"
	"errors"
	"time"

	"github.com/oauthkit/oauthkit/internal/tokencache"
	"github.com/oauthkit/oauthkit/store"
)

// ValidationCache configures a cache of validated access tokens in this
// instance, in front of a shared token store (PostgreSQL, Redis), so that
// a token seen again costs what the memory store costs instead of a round
// trip, while a revocation made on any instance stops being accepted here
// within Bound.
//
// The cache follows the store's change feed (store.ChangeFeed: PostgreSQL
// LISTEN/NOTIFY, Redis pub/sub), on which every revocation (of a token, a
// family, a client) is announced as it commits, and on which the cache
// sends itself a heartbeat every Bound/4. It serves cached tokens only
// while its latest heartbeat back was sent less than 0.9·Bound ago, which
// proves every revocation committed before then has been applied; when the
// feed is lost or silent it validates every token against the store, and
// after 2·Bound without a heartbeat it drops every entry and subscribes
// again. Only access tokens are cached, never refresh tokens, codes or
// refusals (a token issued by another instance is accepted at once), each
// until it expires and for at most MaxAge. The Provider's own revocations
// leave its cache at once. The zero value is off.
type ValidationCache struct {
	// Enabled turns the cache on. It needs Config.Tokens to implement
	// store.ChangeFeed (the memory, PostgreSQL and Redis stores do; SQLite
	// does not), and Provider.Close to stop it. Default false.
	Enabled bool
	// Bound is the longest a revocation committed on any instance is still
	// accepted here. Default 1 second; at least 50 milliseconds. The cache
	// publishes four heartbeats per Bound.
	Bound time.Duration
	// MaxAge is the longest a token is served from the cache before the
	// store is asked again: the bound for changes made to the store
	// without going through it (a row deleted by hand). Default 1 minute.
	MaxAge time.Duration
	// MaxEntries bounds the tokens held. Default 100,000.
	MaxEntries int
	// MaxBytes bounds their memory, estimated from their sizes (about 600
	// bytes a token). Default 64 MiB.
	MaxBytes int
	// OnLookup, if set, is told of every validation the cache sees, for
	// metrics: hit when the cache answered, false when the store was asked
	// (grant/otelmetrics' Metrics.CacheLookup fits). It should return
	// quickly. Default none.
	OnLookup func(ctx context.Context, hit bool)
}

// defaultCacheBound is ValidationCache.Bound's default.
const defaultCacheBound = time.Second

// newValidationCache starts the cache cfg asks for, if any.
func newValidationCache(cfg *Config) (*tokencache.Cache, error) {
	vc := cfg.ValidationCache
	if !vc.Enabled {
		return nil, nil
	}
	feed, ok := cfg.Tokens.(store.ChangeFeed)
	if !ok {
		return nil, errors.New("grant: ValidationCache needs a token store with a change feed (store.ChangeFeed: the memory, PostgreSQL and Redis stores have one, SQLite does not)")
	}
	if vc.Bound == 0 {
		vc.Bound = defaultCacheBound
	}
	if vc.Bound < tokencache.MinBound || vc.MaxAge < 0 || vc.MaxEntries < 0 || vc.MaxBytes < 0 {
		return nil, errors.New("grant: ValidationCache.Bound must be at least 50ms, and MaxAge, MaxEntries and MaxBytes not negative")
	}
	return tokencache.New(tokencache.Config{
		Feed: feed, Lookup: cfg.Tokens.Token, Bound: vc.Bound, MaxAge: vc.MaxAge,
		MaxEntries: vc.MaxEntries, MaxBytes: vc.MaxBytes, Now: cfg.Now, Logger: cfg.Logger, OnLookup: vc.OnLookup,
	})
}

// findToken looks up the token with hash h for validation: in the cache
// when there is one, otherwise in the store.
func (p *Provider) findToken(ctx context.Context, h store.Hash) (store.Token, error) {
	if p.cache != nil {
		return p.cache.Token(ctx, h)
	}
	return p.tokens.Token(ctx, h)
}

// forget takes what a revocation of this Provider's revoked out of its
// cache at once, without waiting for the feed to bring it back.
func (p *Provider) forget(c store.Change) {
	if p.cache != nil {
		p.cache.Forget(c)
	}
}

// Close stops what the Provider runs in the background: the validation
// cache's subscription and heartbeat (see [ValidationCache]); call it
// before closing the store. A Provider without a cache has nothing to
// stop. The handlers keep working after Close, validating every token
// against the store. It always returns nil.
func (p *Provider) Close() error {
	if p.cache != nil {
		p.cache.Close()
	}
	return nil
}

// CacheStats are the validation cache's counters.
type CacheStats struct {
	Hits    uint64 // validations answered from the cache
	Misses  uint64 // validations that asked the store
	Losses  uint64 // times the change feed was taken for lost
	Entries int    // tokens held
	Bytes   int    // their estimated size
	Serving bool   // whether the feed is fresh, so that cached tokens are served
}

// ValidationCacheStats returns the validation cache's counters, and false
// if the Provider has no cache.
func (p *Provider) ValidationCacheStats() (CacheStats, bool) {
	if p.cache == nil {
		return CacheStats{}, false
	}
	s := p.cache.Stats()
	return CacheStats{Hits: s.Hits, Misses: s.Misses, Losses: s.Losses, Entries: s.Entries, Bytes: s.Bytes, Serving: s.Serving}, true
}
