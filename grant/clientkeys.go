package grant

import (
	"bytes"
	"context"
	"errors"
	"net/url"
	"slices"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/oauthkit/oauthkit/internal/jwtverify"
	"github.com/oauthkit/oauthkit/internal/loopback"
	"github.com/oauthkit/oauthkit/internal/safefetch"
	"github.com/oauthkit/oauthkit/store"
)

// How the keys of private_key_jwt clients are kept.
const (
	// keysMaxAge is how long a set fetched from a jwks_uri is used: a key
	// the client withdraws stops working after at most this long. A set
	// older than this is never used, even when fetching it again fails.
	keysMaxAge = 5 * time.Minute
	// keysMinRefresh is the least time between two fetches of one
	// jwks_uri: an assertion with an unknown kid fetches the set again
	// only this long after the last fetch, so that forged kids cannot
	// hammer the client's server. After a failure the next fetch waits 1
	// second, doubling with each failure, up to keysMinRefresh.
	keysMinRefresh = 30 * time.Second
	// keysFetchTimeout bounds one fetch; keysMaxBytes one document.
	keysFetchTimeout = 5 * time.Second
	keysMaxBytes     = 256 << 10
	// maxInlineSets and maxRemoteSets bound the parsed sets kept.
	maxInlineSets = 4096
	maxRemoteSets = 1024
)

// clientKeys finds the public keys of private_key_jwt clients: from the
// registration's jwks, parsed once per registration change, or from its
// jwks_uri, fetched with package safefetch (https to public addresses
// only; http and loopback addresses too when the issuer itself is on
// loopback http, for development), cached, fetched again when stale or
// for an unknown kid (rate-limited), one fetch at a time per URI. It is
// safe for concurrent use.
type clientKeys struct {
	fetcher *safefetch.Fetcher
	now     func() time.Time
	flight  singleflight.Group

	mu     sync.Mutex
	inline map[string]inlineKeys  // by client ID
	remote map[string]*remoteKeys // by jwks_uri
}

type inlineKeys struct {
	raw []byte // the registration's jwks, to notice a change
	set jwtverify.Set
}

type remoteKeys struct {
	set      jwtverify.Set // nil until a fetch succeeded
	fetched  time.Time     // of set
	failures int           // consecutive failed fetches
	retryAt  time.Time     // after a failure: no fetch before
}

func newClientKeys(cfg *Config) *clientKeys {
	u, _ := url.Parse(cfg.Issuer) // checked by setDefaults
	dev := u.Scheme == "http" && loopback.Host(u.Hostname())
	return &clientKeys{
		fetcher: safefetch.New(safefetch.Options{AllowLoopback: dev, Timeout: keysFetchTimeout, MaxBytes: keysMaxBytes}),
		now:     cfg.Now,
		inline:  map[string]inlineKeys{},
		remote:  map[string]*remoteKeys{},
	}
}

// key returns c's key for an assertion of algorithm alg with key ID kid
// (for an assertion without kid, c's one key for alg).
func (k *clientKeys) key(ctx context.Context, c *store.Client, kid, alg string) (jwtverify.Key, *Error) {
	if len(c.JWKS) > 0 {
		set, err := k.inlineSet(c)
		if err != nil {
			return jwtverify.Key{}, errClientDetail("the client's registered jwks is not a usable key set")
		}
		if key, ok := set.Lookup(kid, alg); ok {
			return key, nil
		}
		return jwtverify.Key{}, errClientDetail("no key of the client for this kid and alg")
	}
	return k.remoteKey(ctx, c.JWKSURI, kid, alg)
}

func (k *clientKeys) inlineSet(c *store.Client) (jwtverify.Set, error) {
	k.mu.Lock()
	e, ok := k.inline[c.ID]
	k.mu.Unlock()
	if ok && bytes.Equal(e.raw, c.JWKS) {
		return e.set, nil
	}
	set, err := jwtverify.ParseSet(c.JWKS)
	if err != nil {
		return nil, err
	}
	k.mu.Lock()
	if len(k.inline) >= maxInlineSets {
		clear(k.inline)
	}
	k.inline[c.ID] = inlineKeys{raw: slices.Clone(c.JWKS), set: set}
	k.mu.Unlock()
	return set, nil
}

func (k *clientKeys) remoteKey(ctx context.Context, uri, kid, alg string) (jwtverify.Key, *Error) {
	now := k.now()
	k.mu.Lock()
	var set jwtverify.Set
	var fetched time.Time
	if e := k.remote[uri]; e != nil {
		set, fetched = e.set, e.fetched
	}
	k.mu.Unlock()
	if set != nil && now.Sub(fetched) < keysMaxAge {
		if key, ok := set.Lookup(kid, alg); ok {
			return key, nil
		}
	}
	set, err := k.fetch(ctx, uri) // the set it has, if fetched less than keysMinRefresh ago
	if err != nil {
		e := errClientDetail("the client's jwks_uri could not be used: " + err.Error())
		e.notCharged = true // the client's server, not the caller, failed
		return jwtverify.Key{}, e
	}
	if key, ok := set.Lookup(kid, alg); ok {
		return key, nil
	}
	return jwtverify.Key{}, errClientDetail("no key of the client for this kid and alg")
}

// fetch returns a fresh set from uri: it joins the fetch in flight or
// starts one, and waits for it as long as ctx lets it. The fetch runs on a
// context of its own, so that a caller giving up does not cancel it for
// the others.
func (k *clientKeys) fetch(ctx context.Context, uri string) (jwtverify.Set, error) {
	ch := k.flight.DoChan(uri, func() (any, error) { return k.fetchOnce(ctx, uri) })
	select {
	case res := <-ch:
		set, _ := res.Val.(jwtverify.Set)
		return set, res.Err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

var errKeysBackoff = errors.New("the last fetch failed; not retried yet")

// fetchOnce fetches uri unless it was fetched less than keysMinRefresh ago
// or the backoff after a failure holds. It runs alone for its URI.
func (k *clientKeys) fetchOnce(ctx context.Context, uri string) (jwtverify.Set, error) {
	now := k.now()
	k.mu.Lock()
	e := k.remote[uri]
	k.mu.Unlock()
	if e != nil {
		if e.set != nil && now.Sub(e.fetched) < keysMinRefresh {
			return e.set, nil // fetched since the caller looked
		}
		if now.Before(e.retryAt) {
			return nil, errKeysBackoff
		}
	}
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), keysFetchTimeout)
	defer cancel()
	body, err := k.fetcher.Get(fctx, uri, "application/jwk-set+json, application/json")
	var set jwtverify.Set
	if err == nil {
		set, err = jwtverify.ParseSet(body)
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if e = k.remote[uri]; e == nil {
		k.makeRoom()
		e = &remoteKeys{}
		k.remote[uri] = e
	}
	if err != nil {
		e.failures++
		e.retryAt = now.Add(min(time.Second<<min(e.failures-1, 16), keysMinRefresh))
		return nil, err
	}
	e.set, e.fetched, e.failures, e.retryAt = set, now, 0, time.Time{}
	return set, nil
}

// makeRoom drops the least recently fetched set when maxRemoteSets are
// kept. k.mu is held.
func (k *clientKeys) makeRoom() {
	if len(k.remote) < maxRemoteSets {
		return
	}
	var oldest string
	var at time.Time
	for uri, e := range k.remote {
		if oldest == "" || e.fetched.Before(at) {
			oldest, at = uri, e.fetched
		}
	}
	delete(k.remote, oldest)
}
