package redis

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	goredis "github.com/redis/go-redis/v9"

	"github.com/oauthkit/oauthkit/store"
)

// createTokenLua stores a token unless its family is revoked or its hash is
// taken, adds it to its family's (if it has one) and its client's indexes,
// and keeps the family's mark and the indexes alive as long as their
// longest-lived token.
// KEYS: token, family, family's members, client's tokens. ARGV: expiry ms,
// now ms, "1" if the token has a family, fields….
const createTokenLua = `
local fam = ARGV[3] == '1'
if fam and redis.call('HGET', KEYS[2], 'revoked') == '1' then return -1 end
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
local exp, now = tonumber(ARGV[1]), tonumber(ARGV[2])
if exp <= now then return 1 end
redis.call('HSET', KEYS[1], unpack(ARGV, 4))
redis.call('PEXPIREAT', KEYS[1], exp)
local indexes, marks = {4}, {4}
if fam then
	redis.call('HSETNX', KEYS[2], 'revoked', '0')
	indexes, marks = {3, 4}, {2, 3, 4}
end
for _, i in ipairs(indexes) do
	redis.call('ZADD', KEYS[i], exp, KEYS[1])
	redis.call('ZREMRANGEBYSCORE', KEYS[i], '-inf', now)
end
for _, i in ipairs(marks) do
	local ttl = redis.call('PTTL', KEYS[i])
	if ttl < 0 or now + ttl < exp then redis.call('PEXPIREAT', KEYS[i], exp) end
end
return 1`

// consumeTokenLua counts a use of a live token and returns the token; the
// use that makes the count 1 records the time, and the ID of the
// exchange that made it, if any (cluster.go's exchangeCluster).
// KEYS: token. ARGV: now µs[, exchange ID].
const consumeTokenLua = `
local exp = redis.call('HGET', KEYS[1], 'expires_at')
if not exp or tonumber(exp) <= tonumber(ARGV[1]) then return false end
if redis.call('HINCRBY', KEYS[1], 'uses', 1) == 1 then
	redis.call('HSET', KEYS[1], 'consumed_at', ARGV[1])
	if ARGV[2] then redis.call('HSET', KEYS[1], 'xid', ARGV[2]) end
end
return redis.call('HGETALL', KEYS[1])`

// revokeTokenLua replaces a token by a revocation record until it would
// have expired, and announces it (changes.go); a key that holds no token
// (unknown, or already revoked) is left alone. The record, a hash holding
// only revoked = 1, is no token to any reader (they need expires_at or
// uses), but it makes CreateToken and Exchange answer ErrExists for the
// revoked hash, so that a refresh retry cannot store again an access token
// revoked alone (grant/refresh_retry.go).
// KEYS: token. ARGV: change channel, change.
const revokeTokenLua = `
if not redis.call('HGET', KEYS[1], 'expires_at') then return 0 end
local ttl = redis.call('PTTL', KEYS[1])
redis.call('DEL', KEYS[1])
if ttl > 0 then
	redis.call('HSET', KEYS[1], 'revoked', '1')
	redis.call('PEXPIRE', KEYS[1], ttl)
end
redis.call('PUBLISH', ARGV[1], ARGV[2])
return 1`

// exchangeLua consumes a live, unconsumed token and creates new tokens as
// createTokenLua does, all or nothing: everything is checked before
// anything is written. It returns false for a token not live, {"consumed",
// fields} for one already consumed, {"revoked"} or {"exists"} for a new
// token that cannot be created, and {"ok", fields} (the consumed token's)
// on success.
// KEYS: the token to consume, then each new token's four keys (as
// createTokenLua's). ARGV: now µs, now ms, then for each new token: expiry
// ms, "1" if it has a family, the number of its fields, its fields….
const exchangeLua = `
local now_us, now_ms = tonumber(ARGV[1]), tonumber(ARGV[2])
local exp = redis.call('HGET', KEYS[1], 'expires_at')
if not exp or tonumber(exp) <= now_us then return false end
if redis.call('HGET', KEYS[1], 'uses') ~= '0' then
	return {'consumed', redis.call('HGETALL', KEYS[1])}
end
local toks, a = {}, 3
for k = 2, #KEYS, 4 do
	local t = {k = k, exp = tonumber(ARGV[a]), fam = ARGV[a + 1] == '1', first = a + 3, last = a + 2 + tonumber(ARGV[a + 2])}
	a = t.last + 1
	if t.fam and redis.call('HGET', KEYS[k + 1], 'revoked') == '1' then return {'revoked'} end
	if redis.call('EXISTS', KEYS[k]) == 1 then return {'exists'} end
	toks[#toks + 1] = t
end
redis.call('HINCRBY', KEYS[1], 'uses', 1)
redis.call('HSET', KEYS[1], 'consumed_at', ARGV[1])
for _, t in ipairs(toks) do
	if t.exp > now_ms then
		local k = t.k
		redis.call('HSET', KEYS[k], unpack(ARGV, t.first, t.last))
		redis.call('PEXPIREAT', KEYS[k], t.exp)
		local indexes, marks = {k + 3}, {k + 3}
		if t.fam then
			redis.call('HSETNX', KEYS[k + 1], 'revoked', '0')
			indexes, marks = {k + 2, k + 3}, {k + 1, k + 2, k + 3}
		end
		for _, i in ipairs(indexes) do
			redis.call('ZADD', KEYS[i], t.exp, KEYS[k])
			redis.call('ZREMRANGEBYSCORE', KEYS[i], '-inf', now_ms)
		end
		for _, i in ipairs(marks) do
			local ttl = redis.call('PTTL', KEYS[i])
			if ttl < 0 or now_ms + ttl < t.exp then redis.call('PEXPIREAT', KEYS[i], t.exp) end
		end
	end
end
return {'ok', redis.call('HGETALL', KEYS[1])}`

// revokeFamilyLua marks a known family revoked (the mark keeps the family's
// expiry), deletes its tokens and announces it (changes.go).
// KEYS: family, family's members. ARGV: change channel, change.
const revokeFamilyLua = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], 'revoked', '1')
local m = redis.call('ZRANGE', KEYS[2], 0, -1)
for i = 1, #m, 500 do redis.call('DEL', unpack(m, i, math.min(i + 499, #m))) end
redis.call('DEL', KEYS[2])
redis.call('PUBLISH', ARGV[1], ARGV[2])
return 1`

// revokeClientLua deletes up to ARGV[1] of a client's indexed tokens,
// removes them from the index and announces it (changes.go); it returns how
// many it took.
// KEYS: client's tokens. ARGV: batch size, change channel, change.
const revokeClientLua = `
local m = redis.call('ZRANGE', KEYS[1], 0, tonumber(ARGV[1]) - 1)
if #m == 0 then return 0 end
redis.call('DEL', unpack(m))
redis.call('ZREM', KEYS[1], unpack(m))
redis.call('PUBLISH', ARGV[2], ARGV[3])
return #m`

// revokeClientBatch is how many tokens one run of revokeClientLua deletes,
// so that revoking a client with many tokens never blocks the server long.
const revokeClientBatch = 500

func (s *Store) tokenKey(h store.Hash) string     { return s.prefix + "token:" + hex.EncodeToString(h[:]) }
func (s *Store) familyKey(f string) string        { return s.prefix + "family:" + s.familyTag(f) }
func (s *Store) membersKey(f string) string       { return s.prefix + "family-tokens:" + s.familyTag(f) }
func (s *Store) clientTokensKey(id string) string { return s.prefix + "client-tokens:" + id }

// CreateToken stores t. It returns store.ErrRevoked if t's family was
// revoked and store.ErrExists if a token with t's hash is stored.
func (s *Store) CreateToken(ctx context.Context, t *store.Token) (err error) {
	defer s.obs.Done(ctx, "CreateToken", s.obs.Start(), &err)
	if s.cluster != nil {
		if err := s.createTokensCluster(ctx, []*store.Token{t}); err != nil && !errors.Is(err, store.ErrExists) && !errors.Is(err, store.ErrRevoked) {
			return fmt.Errorf("redis: create token: %w", err)
		} else if err != nil {
			return err
		}
		return nil
	}
	keys, head, fields, err := s.tokenArgs(t)
	if err != nil {
		return fmt.Errorf("redis: create token: %w", err)
	}
	args := append([]any{head[0], s.now().UnixMilli(), head[1]}, fields...)
	n, err := s.createToken.Run(ctx, s.rdb, keys, args...).Int()
	switch {
	case err != nil:
		return fmt.Errorf("redis: create token: %w", isDone(ctx, err))
	case n < 0:
		return store.ErrRevoked
	case n == 0:
		return store.ErrExists
	}
	return nil
}

// tokenArgs returns what createTokenLua (and exchangeLua, for each new
// token; on a cluster, the scripts of createTokenCluster) takes for t: its
// four keys (token, family, family's members, client's tokens), its expiry
// in ms and whether it has a
// family ("1" or "0"), and the fields of its hash.
func (s *Store) tokenArgs(t *store.Token) (keys []string, head [2]any, fields []any, err error) {
	scopes, err := json.Marshal(t.Scopes)
	if err != nil {
		return nil, head, nil, err
	}
	expMs := (t.ExpiresAt.UnixMicro() + 999) / 1000 // Redis keeps the key at least as long
	keys = []string{s.tokenKey(t.Hash), s.familyKey(t.Family), s.membersKey(t.Family), s.clientTokensKey(t.ClientID)}
	hasFamily := "0"
	if t.Family != "" {
		hasFamily = "1"
	}
	fields = []any{
		"kind", int(t.Kind), "family", t.Family, "client_id", t.ClientID, "subject", t.Subject,
		"username", t.Username, "scopes", scopes, "issued_at", micros(t.IssuedAt),
		"expires_at", micros(t.ExpiresAt), "redirect_uri", t.RedirectURI,
		"code_challenge", t.CodeChallenge, "uses", 0}
	// The grant's properties only when set: a bearer token's hash stays
	// as small as it was before they existed, and reads the same.
	if len(t.Audience) > 0 {
		audience, err := json.Marshal(t.Audience)
		if err != nil {
			return nil, head, nil, err
		}
		fields = append(fields, "audience", audience)
	}
	for _, f := range [...]struct{ name, value string }{{"jkt", t.JKT}, {"nonce", t.Nonce}} {
		if f.value != "" {
			fields = append(fields, f.name, f.value)
		}
	}
	if !t.AuthTime.IsZero() {
		fields = append(fields, "auth_time", micros(t.AuthTime))
	}
	return keys, [2]any{expMs, hasFamily}, fields, nil
}

// Token returns the live, unconsumed token with hash h, or store.ErrNotFound.
func (s *Store) Token(ctx context.Context, h store.Hash) (_ store.Token, err error) {
	defer s.obs.Done(ctx, "Token", s.obs.Start(), &err)
	m, err := s.rdb.HGetAll(ctx, s.tokenKey(h)).Result()
	if err != nil {
		return store.Token{}, fmt.Errorf("redis: token: %w", isDone(ctx, err))
	}
	if len(m) == 0 || m["uses"] != "0" {
		return store.Token{}, store.ErrNotFound
	}
	t, err := s.decodeToken(h, m)
	if err != nil {
		return store.Token{}, fmt.Errorf("redis: token: %w", err)
	}
	if !s.now().Before(t.ExpiresAt) {
		return store.Token{}, store.ErrNotFound
	}
	return t, nil
}

// ConsumeToken marks the live token with hash h used, atomically on the
// server: the call that makes its use count 1 wins, later calls get the token
// and store.ErrConsumed.
func (s *Store) ConsumeToken(ctx context.Context, h store.Hash) (_ store.Token, err error) {
	defer s.obs.Done(ctx, "ConsumeToken", s.obs.Start(), &err)
	res, err := s.consumeToken.Run(ctx, s.rdb, []string{s.tokenKey(h)}, s.now().UnixMicro()).StringSlice()
	switch {
	case errors.Is(err, goredis.Nil):
		return store.Token{}, store.ErrNotFound
	case err != nil:
		return store.Token{}, fmt.Errorf("redis: consume token: %w", isDone(ctx, err))
	}
	t, err := s.decodeConsumed(h, res)
	if err != nil {
		return store.Token{}, fmt.Errorf("redis: consume token: %w", err)
	}
	if t.uses != "1" {
		return t.Token, store.ErrConsumed
	}
	return t.Token, nil
}

// consumed is a token as consumeTokenLua and exchangeLua return it, with
// its use count.
type consumed struct {
	store.Token
	uses string
}

// decodeConsumed reads the HGETALL of a consumed token.
func (s *Store) decodeConsumed(h store.Hash, res []string) (consumed, error) {
	m := make(map[string]string, len(res)/2)
	for i := 0; i+1 < len(res); i += 2 {
		m[res[i]] = res[i+1]
	}
	t, err := s.decodeToken(h, m)
	if err == nil {
		t.ConsumedAt, err = parseMicros(m["consumed_at"])
	}
	return consumed{t, m["uses"]}, err
}

var _ store.Exchanger = (*Store)(nil)

// Exchange implements store.Exchanger in one script (exchangeLua), which
// Redis runs atomically: it checks the token to consume and every new
// token (family not revoked, hash free) before it writes anything, then
// consumes and creates them all. On Redis Cluster, whose slots no script
// spans, it consumes, stores, and gives the token back if storing fails
// (cluster.go's exchangeCluster).
func (s *Store) Exchange(ctx context.Context, h store.Hash, issue ...*store.Token) (_ store.Token, err error) {
	defer s.obs.Done(ctx, "Exchange", s.obs.Start(), &err)
	if s.cluster != nil {
		return s.exchangeCluster(ctx, h, issue)
	}
	keys := make([]string, 1, 1+4*len(issue))
	keys[0] = s.tokenKey(h)
	now := s.now()
	args := []any{now.UnixMicro(), now.UnixMilli()}
	for _, t := range issue {
		k, head, fields, err := s.tokenArgs(t)
		if err != nil {
			return store.Token{}, fmt.Errorf("redis: exchange: %w", err)
		}
		keys = append(keys, k...)
		args = append(append(args, head[0], head[1], len(fields)), fields...)
	}
	res, err := s.exchange.Run(ctx, s.rdb, keys, args...).Slice()
	switch {
	case errors.Is(err, goredis.Nil):
		return store.Token{}, store.ErrNotFound
	case err != nil:
		return store.Token{}, fmt.Errorf("redis: exchange: %w", isDone(ctx, err))
	case len(res) == 0:
		return store.Token{}, errors.New("redis: exchange: empty answer")
	}
	switch res[0] {
	case "revoked":
		return store.Token{}, store.ErrRevoked
	case "exists":
		return store.Token{}, store.ErrExists
	case "ok", "consumed":
	default:
		return store.Token{}, fmt.Errorf("redis: exchange: answer %v", res[0])
	}
	var fields []string
	if len(res) > 1 {
		l, _ := res[1].([]any)
		for _, v := range l {
			f, _ := v.(string)
			fields = append(fields, f)
		}
	}
	t, err := s.decodeConsumed(h, fields)
	if err != nil {
		return store.Token{}, fmt.Errorf("redis: exchange: %w", err)
	}
	if res[0] == "consumed" {
		return t.Token, store.ErrConsumed
	}
	return t.Token, nil
}

// RevokeToken replaces the token with hash h, if any, by a revocation
// record that lives as long as the token would have, and announces it: the
// token is found no more, and CreateToken refuses its hash with
// store.ErrExists until then.
func (s *Store) RevokeToken(ctx context.Context, h store.Hash) (err error) {
	defer s.obs.Done(ctx, "RevokeToken", s.obs.Start(), &err)
	c := payload(store.Change{Kind: store.ChangeToken, Hash: h})
	if err := s.revokeToken.Run(ctx, s.rdb, []string{s.tokenKey(h)}, s.ChangeChannel(), c).Err(); err != nil {
		return fmt.Errorf("redis: revoke token: %w", isDone(ctx, err))
	}
	return nil
}

// RevokeFamily marks the family revoked, so that CreateToken refuses it until
// its last token would have expired, deletes its tokens and announces it,
// atomically.
func (s *Store) RevokeFamily(ctx context.Context, family string) (err error) {
	defer s.obs.Done(ctx, "RevokeFamily", s.obs.Start(), &err)
	if family == "" { // tokens of no family are revoked one by one
		return ctx.Err()
	}
	if s.cluster != nil {
		return s.revokeFamilyCluster(ctx, family)
	}
	keys := []string{s.familyKey(family), s.membersKey(family)}
	c := payload(store.Change{Kind: store.ChangeFamily, Family: family})
	if err := s.revokeFamily.Run(ctx, s.rdb, keys, s.ChangeChannel(), c).Err(); err != nil && !errors.Is(err, goredis.Nil) {
		return fmt.Errorf("redis: revoke family: %w", isDone(ctx, err))
	}
	return nil
}

// RevokeClient deletes every token issued to the client, found by the
// client's index, in batches of revokeClientBatch: each batch is atomic and
// announced, the whole is not, so a token created during the call may escape
// it.
func (s *Store) RevokeClient(ctx context.Context, clientID string) (err error) {
	defer s.obs.Done(ctx, "RevokeClient", s.obs.Start(), &err)
	if s.cluster != nil {
		return s.revokeClientCluster(ctx, clientID)
	}
	key := []string{s.clientTokensKey(clientID)}
	c := payload(store.Change{Kind: store.ChangeClient, ClientID: clientID})
	for {
		n, err := s.revokeClient.Run(ctx, s.rdb, key, revokeClientBatch, s.ChangeChannel(), c).Int()
		if err != nil {
			return fmt.Errorf("redis: revoke client: %w", isDone(ctx, err))
		}
		if n < revokeClientBatch {
			return nil
		}
	}
}

// decodeToken makes a Token of the fields of its hash.
func (s *Store) decodeToken(h store.Hash, m map[string]string) (store.Token, error) {
	t := store.Token{
		Hash: h, Family: m["family"], ClientID: m["client_id"], Subject: m["subject"],
		Username: m["username"], RedirectURI: m["redirect_uri"], CodeChallenge: m["code_challenge"],
		JKT: m["jkt"], Nonce: m["nonce"],
	}
	kind, err := strconv.Atoi(m["kind"])
	if err != nil {
		return store.Token{}, fmt.Errorf("stored kind %q: %w", m["kind"], err)
	}
	t.Kind = store.Kind(kind)
	if err := json.Unmarshal([]byte(m["scopes"]), &t.Scopes); err != nil {
		return store.Token{}, fmt.Errorf("stored scopes: %w", err)
	}
	if t.IssuedAt, err = parseMicros(m["issued_at"]); err != nil {
		return store.Token{}, err
	}
	if t.ExpiresAt, err = parseMicros(m["expires_at"]); err != nil {
		return store.Token{}, err
	}
	// Absent from tokens stored before these fields existed, and from
	// tokens without them.
	if a, ok := m["audience"]; ok {
		if err := json.Unmarshal([]byte(a), &t.Audience); err != nil {
			return store.Token{}, fmt.Errorf("stored audience: %w", err)
		}
	}
	if at, ok := m["auth_time"]; ok {
		if t.AuthTime, err = parseMicros(at); err != nil {
			return store.Token{}, err
		}
	}
	return t, nil
}
