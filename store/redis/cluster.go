package redis

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/oauthkit/oauthkit/store"
)

// Redis Cluster. Every script touches the keys of one slot. A token is a
// hash under its own key (the SHA-256 of its value decides its slot), so
// that Token, ConsumeToken and RevokeToken stay one command or script on
// one key, as on one server. A family's revocation mark and its index of
// tokens share the family's hash tag ({family}), and a client's index is a
// key of its own, so the operations that span a token, its family and its
// client run in steps, ordered so that revocation holds under any
// interleaving (the package doc gives the argument; TestClusterInterleaving
// runs the racy interleavings).

// putTokenLua stores a token unless its hash is taken. It returns 0 for a
// taken hash, 2 for a token already expired (accepted, not stored), 1 when
// stored.
// KEYS: token. ARGV: expiry ms, now ms, fields….
const putTokenLua = `
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
if tonumber(ARGV[1]) <= tonumber(ARGV[2]) then return 2 end
redis.call('HSET', KEYS[1], unpack(ARGV, 3))
redis.call('PEXPIREAT', KEYS[1], ARGV[1])
return 1`

// joinFamilyLua adds a stored token to its family unless the family is
// revoked (-1), and keeps the family's mark and index alive as long as
// their longest-lived token; a token already expired is not added (1).
// KEYS: family, family's members. ARGV: expiry ms, now ms, token key.
const joinFamilyLua = `
if redis.call('HGET', KEYS[1], 'revoked') == '1' then return -1 end
local exp, now = tonumber(ARGV[1]), tonumber(ARGV[2])
if exp <= now then return 1 end
redis.call('HSETNX', KEYS[1], 'revoked', '0')
redis.call('ZADD', KEYS[2], exp, ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
for _, k in ipairs(KEYS) do
	local ttl = redis.call('PTTL', k)
	if ttl < 0 or now + ttl < exp then redis.call('PEXPIREAT', k, exp) end
end
return 1`

// indexTokenLua adds a stored token to its client's index, keeping the
// index alive as long as its longest-lived token.
// KEYS: client's tokens. ARGV: expiry ms, now ms, token key.
const indexTokenLua = `
local exp, now = tonumber(ARGV[1]), tonumber(ARGV[2])
redis.call('ZADD', KEYS[1], exp, ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 or now + ttl < exp then redis.call('PEXPIREAT', KEYS[1], exp) end
return 1`

// markFamilyLua marks a known family revoked (the mark keeps the family's
// expiry) and returns its token keys; false for an unknown family. The
// index stays until the tokens are deleted, so that a RevokeFamily that
// fails part way and is called again finds them.
// KEYS: family, family's members.
const markFamilyLua = `
if redis.call('EXISTS', KEYS[1]) == 0 then return false end
redis.call('HSET', KEYS[1], 'revoked', '1')
return redis.call('ZRANGE', KEYS[2], 0, -1)`

// dropIndexLua removes the given token keys from an index (all of it when
// none are given) and announces the family's or client's revocation
// (changes.go), once every token it names has been deleted (and announced
// on its own).
// KEYS: index. ARGV: change channel, change, token keys….
const dropIndexLua = `
if #ARGV > 2 then redis.call('ZREM', KEYS[1], unpack(ARGV, 3)) else redis.call('DEL', KEYS[1]) end
redis.call('PUBLISH', ARGV[1], ARGV[2])
return 1`

// checkClient refuses the clients the store cannot run on, and notes a
// cluster.
func (s *Store) checkClient() error {
	switch c := s.rdb.(type) {
	case *goredis.Ring:
		return errors.New("redis: a Ring is not supported (its shards share neither scripts nor an order of changes): use a Client or a ClusterClient")
	case *goredis.ClusterClient:
		if o := c.Options(); o.ReadOnly || o.RouteByLatency || o.RouteRandomly {
			return errors.New("redis: the cluster client reads from replicas (ReadOnly, RouteByLatency or RouteRandomly), which may still hold a token revoked on their master: read from the masters")
		}
		if i := strings.IndexByte(s.prefix, '{'); i >= 0 && strings.IndexByte(s.prefix[i+1:], '}') <= 0 {
			return fmt.Errorf("redis: the prefix %q opens a hash tag it does not close, which would split a family's keys over two slots of the cluster", s.prefix)
		}
		s.cluster = c
	}
	return nil
}

// familyTag is what a family's keys are named after: the family itself on
// one server; on a cluster, the family as a hash tag ({family}) that
// puts its keys in one slot, or, for a name with braces of its own, a
// hash tag of its SHA-256 followed by the name.
func (s *Store) familyTag(f string) string {
	if s.cluster == nil {
		return f
	}
	if f != "" && !strings.ContainsAny(f, "{}") {
		return "{" + f + "}"
	}
	sum := sha256.Sum256([]byte(f))
	return "{" + hex.EncodeToString(sum[:16]) + "}" + f
}

// createTokensCluster is CreateToken on a cluster (for one token or,
// from Exchange, several), in two steps: the tokens first, each under its
// own key (the step that refuses a taken hash), then their entries in
// their families (the step that refuses a revoked family) and their
// clients' indexes, on their nodes in parallel. A refused or failed step
// deletes the tokens it stored again. A token is in its family's index
// before CreateToken returns, and it was stored before it was added: so a
// RevokeFamily either marks the family before the token joins (the join is
// refused) or finds it in the index and deletes it.
func (s *Store) createTokensCluster(ctx context.Context, toks []*store.Token) error {
	now := s.now().UnixMilli()
	type made struct {
		keys   []string
		expMs  any
		family bool
		stored bool
	}
	ms := make([]made, len(toks))
	puts := make([]scriptCall, len(toks))
	for i, t := range toks {
		keys, head, fields, err := s.tokenArgs(t)
		if err != nil {
			return err
		}
		ms[i] = made{keys: keys, expMs: head[0], family: t.Family != ""}
		puts[i] = scriptCall{s.putToken, keys[:1], append([]any{head[0], now}, fields...)}
	}
	cmds, err := s.evalAll(ctx, puts)
	exists := false
	for i, c := range cmds {
		n, _ := c.Int()
		ms[i].stored = c.Err() == nil && n == 1
		exists = exists || c.Err() == nil && n == 0
	}
	undo := func() {
		// Nobody has the tokens' values yet; deleting them is tidiness.
		var keys []string
		for _, m := range ms {
			if m.stored {
				keys = append(keys, m.keys[0])
			}
		}
		s.deleteKeys(ctx, keys)
	}
	if err != nil || exists {
		undo()
		if err != nil {
			return isDone(ctx, err)
		}
		return store.ErrExists
	}
	if s.between != nil {
		s.between()
	}
	var joins []scriptCall
	joined := make([]int, 0, len(ms)) // joins[j] is ms[joined[j]]'s family's
	for i, m := range ms {
		if m.family {
			joins = append(joins, scriptCall{s.joinFamily, m.keys[1:3], []any{m.expMs, now, m.keys[0]}})
			joined = append(joined, i)
		}
	}
	for _, m := range ms {
		if m.stored {
			joins = append(joins, scriptCall{s.indexToken, m.keys[3:4], []any{m.expMs, now, m.keys[0]}})
		}
	}
	cmds, err = s.evalAll(ctx, joins)
	revoked := false
	for j := range joined {
		if n, _ := cmds[j].Int(); cmds[j].Err() == nil && n < 0 {
			revoked = true
		}
	}
	if err != nil || revoked {
		undo()
		if err != nil {
			return isDone(ctx, err)
		}
		return store.ErrRevoked
	}
	return nil
}

// deleteKeys deletes keys (of any slots) in one pipeline, as well as it
// can: a failure leaves tokens nobody has the value of.
func (s *Store) deleteKeys(ctx context.Context, keys []string) {
	if len(keys) == 0 {
		return
	}
	if ctx.Err() != nil {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
		defer cancel()
	}
	_, _ = s.rdb.Pipelined(ctx, func(p goredis.Pipeliner) error {
		for _, k := range keys {
			p.Del(ctx, k)
		}
		return nil
	})
}

// cleanupTimeout bounds the undoing of a cluster operation whose context
// ended part way.
const cleanupTimeout = 250 * time.Millisecond

// unconsumeLua gives back a token that an Exchange consumed, when nobody
// else has seen it consumed since (uses is still 1, set by this Exchange).
// KEYS: token. ARGV: the exchange's ID.
const unconsumeLua = `
if redis.call('HGET', KEYS[1], 'uses') ~= '1' or redis.call('HGET', KEYS[1], 'xid') ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'uses', '0')
redis.call('HDEL', KEYS[1], 'consumed_at', 'xid')
return 1`

// exchangeCluster is Exchange on a cluster, where the token to consume and
// the new ones are in several slots: consume the token (one script on its
// key, which records this exchange's ID), then store the new tokens as
// CreateToken does; if that fails (a family revoked, a hash taken, the
// store), give the token back (unconsumeLua) unless someone has seen it
// consumed meanwhile. A crash between the consumption and the storing
// leaves the token consumed with nothing issued (the Provider's refresh
// retry stores the tokens again; a code is burnt), which one transaction
// would not.
func (s *Store) exchangeCluster(ctx context.Context, h store.Hash, issue []*store.Token) (store.Token, error) {
	xid := rand.Text()
	key := s.tokenKey(h)
	res, err := s.consumeToken.Run(ctx, s.rdb, []string{key}, s.now().UnixMicro(), xid).StringSlice()
	switch {
	case errors.Is(err, goredis.Nil):
		return store.Token{}, store.ErrNotFound
	case err != nil:
		return store.Token{}, fmt.Errorf("redis: exchange: %w", isDone(ctx, err))
	}
	t, err := s.decodeConsumed(h, res)
	if err != nil {
		return store.Token{}, fmt.Errorf("redis: exchange: %w", err)
	}
	if t.uses != "1" {
		return t.Token, store.ErrConsumed
	}
	if err := s.createTokensCluster(ctx, issue); err != nil {
		uctx := ctx
		if ctx.Err() != nil {
			var cancel context.CancelFunc
			uctx, cancel = context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
			defer cancel()
		}
		_ = s.unconsume.Run(uctx, s.rdb, []string{key}, xid).Err()
		if errors.Is(err, store.ErrExists) || errors.Is(err, store.ErrRevoked) {
			return store.Token{}, err
		}
		return store.Token{}, fmt.Errorf("redis: exchange: %w", err)
	}
	return t.Token, nil
}

// revokeFamilyCluster is RevokeFamily on a cluster: mark the family and
// read its index (one script on the family's slot: from then on no token
// joins it), delete each indexed token on its own node (each deletion
// announced with it, as a ChangeToken), then drop the index and announce
// the family.
func (s *Store) revokeFamilyCluster(ctx context.Context, family string) error {
	keys := []string{s.familyKey(family), s.membersKey(family)}
	members, err := s.markFamily.Run(ctx, s.rdb, keys).StringSlice()
	switch {
	case errors.Is(err, goredis.Nil):
		return nil
	case err != nil:
		return fmt.Errorf("redis: revoke family: %w", isDone(ctx, err))
	}
	if err := s.deleteTokens(ctx, members); err != nil {
		return fmt.Errorf("redis: revoke family: %w", isDone(ctx, err))
	}
	c := payload(store.Change{Kind: store.ChangeFamily, Family: family})
	if err := s.dropIndex.Run(ctx, s.rdb, keys[1:], s.ChangeChannel(), c).Err(); err != nil {
		return fmt.Errorf("redis: revoke family: %w", isDone(ctx, err))
	}
	return nil
}

// revokeClientCluster is RevokeClient on a cluster: batch by batch, read
// the client's index, delete each token on its own node (each deletion
// announced with it, as a ChangeToken), then remove the batch from the
// index and announce the client.
func (s *Store) revokeClientCluster(ctx context.Context, clientID string) error {
	key := s.clientTokensKey(clientID)
	c := payload(store.Change{Kind: store.ChangeClient, ClientID: clientID})
	for {
		members, err := s.rdb.ZRange(ctx, key, 0, revokeClientBatch-1).Result()
		if err != nil {
			return fmt.Errorf("redis: revoke client: %w", isDone(ctx, err))
		}
		if len(members) == 0 {
			return nil
		}
		if err := s.deleteTokens(ctx, members); err != nil {
			return fmt.Errorf("redis: revoke client: %w", isDone(ctx, err))
		}
		args := []any{s.ChangeChannel(), c}
		for _, m := range members {
			args = append(args, m)
		}
		if err := s.dropIndex.Run(ctx, s.rdb, []string{key}, args...).Err(); err != nil {
			return fmt.Errorf("redis: revoke client: %w", isDone(ctx, err))
		}
		if len(members) < revokeClientBatch {
			return nil
		}
	}
}

// deleteTokens deletes the token keys, each with revokeTokenLua on its own
// slot (so each deletion is announced atomically with it), batch by batch
// in pipelines that run on the nodes in parallel.
func (s *Store) deleteTokens(ctx context.Context, keys []string) error {
	channel, tokenPrefix := s.ChangeChannel(), s.prefix+"token:"
	for len(keys) > 0 {
		batch := keys[:min(len(keys), revokeClientBatch)]
		keys = keys[len(batch):]
		calls := make([]scriptCall, len(batch))
		for i, k := range batch {
			c := store.Change{Kind: store.ChangeReset} // an entry that is not a token key: forget everything
			if b, err := hex.DecodeString(strings.TrimPrefix(k, tokenPrefix)); err == nil && len(b) == len(c.Hash) && strings.HasPrefix(k, tokenPrefix) {
				c = store.Change{Kind: store.ChangeToken}
				copy(c.Hash[:], b)
			}
			calls[i] = scriptCall{s.revokeToken, []string{k}, []any{channel, payload(c)}}
		}
		if _, err := s.evalAll(ctx, calls); err != nil {
			return err
		}
	}
	return nil
}

// scriptCall is one run of a script, for evalAll.
type scriptCall struct {
	script *goredis.Script
	keys   []string
	args   []any
}

// evalAll runs the calls in one pipeline (on a cluster, one per node, in
// parallel), by EVALSHA, and again by EVAL those that a server did not know
// (NOSCRIPT: a server restarted, or new). It returns each call's command
// and the first error, a nil reply (goredis.Nil) not counting as one.
func (s *Store) evalAll(ctx context.Context, calls []scriptCall) ([]*goredis.Cmd, error) {
	cmds := make([]*goredis.Cmd, len(calls))
	run := func(which []int, sha bool) {
		_, _ = s.rdb.Pipelined(ctx, func(p goredis.Pipeliner) error {
			for _, i := range which {
				c := calls[i]
				if sha {
					cmds[i] = c.script.EvalSha(ctx, p, c.keys, c.args...)
				} else {
					cmds[i] = c.script.Eval(ctx, p, c.keys, c.args...)
				}
			}
			return nil
		})
	}
	all := make([]int, len(calls))
	for i := range all {
		all[i] = i
	}
	run(all, true)
	var again []int
	for i, c := range cmds {
		if goredis.HasErrorPrefix(c.Err(), "NOSCRIPT") {
			again = append(again, i)
		}
	}
	if len(again) > 0 {
		run(again, false)
	}
	for _, c := range cmds {
		if err := c.Err(); err != nil && !errors.Is(err, goredis.Nil) {
			return cmds, err
		}
	}
	return cmds, nil
}

// isClusterURL reports whether raw is of the redis+cluster:// form.
func isClusterURL(raw string) bool {
	return strings.HasPrefix(raw, "redis+cluster://") || strings.HasPrefix(raw, "rediss+cluster://")
}

// clusterOptions parses a URL of the form
// redis+cluster://[user:password@]host:port[,host:port…][/][?param=value…]
// (rediss+cluster:// for TLS) into go-redis's cluster options: the same
// parameters as go-redis's own cluster URLs (ParseClusterURL), whose
// addr=host:port parameters it may carry too. Its errors never quote the
// URL, which may hold a password.
func clusterOptions(raw string) (*goredis.ClusterOptions, error) {
	scheme, rest, _ := strings.Cut(raw, "+cluster://")
	hosts, tail := rest, ""
	if i := strings.IndexAny(rest, "/?"); i >= 0 {
		hosts, tail = rest[:i], rest[i:]
	}
	userinfo := ""
	if i := strings.LastIndexByte(hosts, '@'); i >= 0 {
		userinfo, hosts = hosts[:i+1], hosts[i+1:]
	}
	path, query, _ := strings.Cut(tail, "?")
	if path != "" && path != "/" && path != "/0" {
		return nil, errors.New("redis: a cluster URL names no database (a cluster has database 0 only)")
	}
	q, err := url.ParseQuery(query)
	if err != nil {
		return nil, errors.New("redis: the cluster URL's parameters are malformed")
	}
	addrs := strings.Split(hosts, ",")
	for _, a := range addrs[1:] {
		q.Add("addr", a)
	}
	u := scheme + "://" + userinfo + addrs[0]
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	if slices.Contains(addrs, "") {
		return nil, errors.New("redis: the cluster URL names no node, or an empty one (write redis+cluster://host:port[,host:port…])")
	}
	o, err := goredis.ParseClusterURL(u)
	if err != nil {
		if userinfo != "" { // go-redis's message may quote the URL
			return nil, errors.New("redis: the cluster URL is malformed")
		}
		return nil, fmt.Errorf("redis: the cluster URL is malformed: %w", err)
	}
	return o, nil
}

// openCluster is Open for a redis+cluster:// URL.
func openCluster(ctx context.Context, raw string, opts []Option) (*Store, error) {
	o, err := clusterOptions(raw)
	if err != nil {
		return nil, err
	}
	cfg := newStore(nil, opts)
	if o.DialTimeout == 0 && cfg.connect > 0 {
		o.DialTimeout = cfg.connect
	}
	o.ContextTimeoutEnabled = true // as Open's single-server client
	goredis.SetLogger(driverLog{cfg.log})
	rdb := goredis.NewClusterClient(o)
	s, err := New(ctx, rdb, opts...)
	if err != nil {
		rdb.Close()
		return nil, err
	}
	s.own = true
	return s, nil
}
