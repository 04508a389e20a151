package redis

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/oauthkit/oauthkit/store"
)

var _ store.DeviceStore = (*Store)(nil)

// A device grant is a hash under device:<hex of the device code hash>; its
// user code leads to it through device-user:<hex of the user code hash>, a
// hash of the device code hash and the expiry. Both keys expire with the
// grant. Times are µs of the callers' clocks: every script compares them
// with the now it is given, so expiry holds whatever the server's clock.

// createDeviceLua stores a grant unless a live one (at ARGV[1]) holds its
// device code; an expired one is replaced whole. claimUserCodeLua then
// points the user code at it, unless a live grant holds the user code.
// The two keys may be on two nodes of a cluster, so CreateDeviceGrant
// runs them one after the other, and deletes the grant again when the
// user code is taken: until then nobody has the device code.
// KEYS: device. ARGV: now µs, expiry ms, fields….
const createDeviceLua = `
local e = redis.call('HGET', KEYS[1], 'expires_at')
if e and tonumber(e) > tonumber(ARGV[1]) then return 0 end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], unpack(ARGV, 3))
redis.call('PEXPIREAT', KEYS[1], ARGV[2])
return 1`

// claimUserCodeLua: see createDeviceLua.
// KEYS: user code. ARGV: now µs, expiry ms, device hex, expiry µs.
const claimUserCodeLua = `
local e = redis.call('HGET', KEYS[1], 'expires_at')
if e and tonumber(e) > tonumber(ARGV[1]) then return 0 end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'device', ARGV[3], 'expires_at', ARGV[4])
redis.call('PEXPIREAT', KEYS[1], ARGV[2])
return 1`

// decideDeviceLua records an answer on a live, pending grant of the given
// user code hash: store.DeviceGrant.Decide, on the server. Returns -1 for
// no such grant, 0 when it is no longer pending, 1 when decided.
// KEYS: device. ARGV: now µs, user code hex, status, subject, username,
// auth time µs or "", scopes JSON or "" to keep them.
const decideDeviceLua = `
local f = redis.call('HMGET', KEYS[1], 'expires_at', 'user_code_hash', 'status')
if not f[1] or tonumber(f[1]) <= tonumber(ARGV[1]) or f[2] ~= ARGV[2] then return -1 end
if f[3] ~= '1' then return 0 end
redis.call('HSET', KEYS[1], 'status', ARGV[3], 'subject', ARGV[4], 'username', ARGV[5])
if ARGV[6] ~= '' then redis.call('HSET', KEYS[1], 'auth_time', ARGV[6]) end
if ARGV[7] ~= '' then redis.call('HSET', KEYS[1], 'scopes', ARGV[7]) end
return 1`

// pollDeviceLua records a poll of a live grant of the given client:
// store.DeviceGrant.Poll, on the server. It returns nil for no such grant,
// else {outcome, status as found, fields after the poll}, outcome 0 for
// nil, 1 for ErrSlowDown, 2 for ErrConsumed.
// KEYS: device. ARGV: client ID, now µs, slow-down µs.
const pollDeviceLua = `
local f = redis.call('HMGET', KEYS[1], 'expires_at', 'client_id', 'status', 'last_polled_at', 'interval_us')
local now = tonumber(ARGV[2])
if not f[1] or tonumber(f[1]) <= now or f[2] ~= ARGV[1] then return false end
local status, interval = f[3], tonumber(f[5])
local early = f[4] and now < tonumber(f[4]) + interval
local outcome = 0
redis.call('HSET', KEYS[1], 'last_polled_at', ARGV[2])
if status == '1' and early then
	redis.call('HSET', KEYS[1], 'interval_us', string.format('%d', interval + tonumber(ARGV[3])))
	outcome = 1
elseif status == '2' then
	redis.call('HSET', KEYS[1], 'status', '4')
elseif status == '4' then
	outcome = 2
end
return {outcome, status, redis.call('HGETALL', KEYS[1])}`

func (s *Store) deviceKey(h store.Hash) string {
	return s.prefix + "device:" + hex.EncodeToString(h[:])
}
func (s *Store) deviceUserKey(h store.Hash) string {
	return s.prefix + "device-user:" + hex.EncodeToString(h[:])
}

// CreateDeviceGrant implements store.DeviceStore.
func (s *Store) CreateDeviceGrant(ctx context.Context, g *store.DeviceGrant) (err error) {
	defer s.obs.Done(ctx, "CreateDeviceGrant", s.obs.Start(), &err)
	scopes, err := json.Marshal(g.Scopes)
	if err != nil {
		return fmt.Errorf("redis: create device grant: %w", err)
	}
	expMs := (g.ExpiresAt.UnixMicro() + 999) / 1000
	args := []any{micros(g.IssuedAt), expMs,
		"device_code_hash", hex.EncodeToString(g.DeviceCodeHash[:]),
		"user_code_hash", hex.EncodeToString(g.UserCodeHash[:]), "client_id", g.ClientID, "scopes", scopes,
		"family", g.Family, "issued_at", micros(g.IssuedAt), "expires_at", micros(g.ExpiresAt),
		"interval_us", g.Interval.Microseconds(), "status", int(g.Status), "subject", g.Subject, "username", g.Username}
	if !g.LastPolledAt.IsZero() {
		args = append(args, "last_polled_at", micros(g.LastPolledAt))
	}
	if !g.AuthTime.IsZero() {
		args = append(args, "auth_time", micros(g.AuthTime))
	}
	dev := s.deviceKey(g.DeviceCodeHash)
	n, err := s.createDevice.Run(ctx, s.rdb, []string{dev}, args...).Int()
	switch {
	case err != nil:
		return fmt.Errorf("redis: create device grant: %w", isDone(ctx, err))
	case n == 0:
		return store.ErrExists
	}
	n, err = s.claimUserCode.Run(ctx, s.rdb, []string{s.deviceUserKey(g.UserCodeHash)},
		micros(g.IssuedAt), expMs, hex.EncodeToString(g.DeviceCodeHash[:]), micros(g.ExpiresAt)).Int()
	if err != nil || n == 0 {
		_ = s.rdb.Del(ctx, dev).Err()
	}
	switch {
	case err != nil:
		return fmt.Errorf("redis: create device grant: %w", isDone(ctx, err))
	case n == 0:
		return store.ErrExists
	}
	return nil
}

// deviceOf returns the device key of the live grant of user code hash h,
// or "" if there is none.
func (s *Store) deviceOf(ctx context.Context, h store.Hash, now time.Time) (string, error) {
	f, err := s.rdb.HMGet(ctx, s.deviceUserKey(h), "device", "expires_at").Result()
	if err != nil {
		return "", err
	}
	dev, _ := f[0].(string)
	exp, _ := f[1].(string)
	if dev == "" {
		return "", nil
	}
	if e, err := strconv.ParseInt(exp, 10, 64); err != nil || e <= now.UnixMicro() {
		return "", err
	}
	return s.prefix + "device:" + dev, nil
}

// DeviceGrantByUserCode implements store.DeviceStore.
func (s *Store) DeviceGrantByUserCode(ctx context.Context, h store.Hash, now time.Time) (_ store.DeviceGrant, err error) {
	defer s.obs.Done(ctx, "DeviceGrantByUserCode", s.obs.Start(), &err)
	key, err := s.deviceOf(ctx, h, now)
	if err != nil {
		return store.DeviceGrant{}, fmt.Errorf("redis: device grant: %w", isDone(ctx, err))
	}
	if key == "" {
		return store.DeviceGrant{}, store.ErrNotFound
	}
	m, err := s.rdb.HGetAll(ctx, key).Result()
	if err != nil {
		return store.DeviceGrant{}, fmt.Errorf("redis: device grant: %w", isDone(ctx, err))
	}
	if len(m) == 0 {
		return store.DeviceGrant{}, store.ErrNotFound
	}
	g, err := decodeDevice(m)
	if err != nil {
		return store.DeviceGrant{}, fmt.Errorf("redis: device grant: %w", err)
	}
	if g.UserCodeHash != h || !now.Before(g.ExpiresAt) {
		return store.DeviceGrant{}, store.ErrNotFound
	}
	return g, nil
}

// DecideDeviceGrant implements store.DeviceStore: the answer is applied by
// one script on the grant's key.
func (s *Store) DecideDeviceGrant(ctx context.Context, h store.Hash, d store.DeviceDecision, now time.Time) (err error) {
	defer s.obs.Done(ctx, "DecideDeviceGrant", s.obs.Start(), &err)
	key, err := s.deviceOf(ctx, h, now)
	if err != nil {
		return fmt.Errorf("redis: decide device grant: %w", isDone(ctx, err))
	}
	if key == "" {
		return store.ErrNotFound
	}
	status, authTime, scopes := store.DeviceDenied, "", ""
	if d.Approved {
		status = store.DeviceApproved
	}
	if !d.AuthTime.IsZero() {
		authTime = micros(d.AuthTime)
	}
	if d.Scopes != nil {
		b, err := json.Marshal(d.Scopes)
		if err != nil {
			return fmt.Errorf("redis: decide device grant: %w", err)
		}
		scopes = string(b)
	}
	n, err := s.decideDevice.Run(ctx, s.rdb, []string{key}, micros(now), hex.EncodeToString(h[:]),
		int(status), d.Subject, d.Username, authTime, scopes).Int()
	switch {
	case err != nil:
		return fmt.Errorf("redis: decide device grant: %w", isDone(ctx, err))
	case n < 0:
		return store.ErrNotFound
	case n == 0:
		return store.ErrConsumed
	}
	return nil
}

// PollDeviceGrant implements store.DeviceStore: the poll is applied by one
// script on the grant's key.
func (s *Store) PollDeviceGrant(ctx context.Context, h store.Hash, clientID string, now time.Time) (_ store.DeviceGrant, err error) {
	defer s.obs.Done(ctx, "PollDeviceGrant", s.obs.Start(), &err)
	res, err := s.pollDevice.Run(ctx, s.rdb, []string{s.deviceKey(h)}, clientID, micros(now),
		store.DeviceSlowDown.Microseconds()).Slice()
	switch {
	case errors.Is(err, goredis.Nil):
		return store.DeviceGrant{}, store.ErrNotFound
	case err != nil:
		return store.DeviceGrant{}, fmt.Errorf("redis: poll device grant: %w", isDone(ctx, err))
	}
	g, outcome, err := decodePoll(res)
	if err != nil {
		return store.DeviceGrant{}, fmt.Errorf("redis: poll device grant: %w", err)
	}
	switch outcome {
	case 1:
		return g, store.ErrSlowDown
	case 2:
		return g, store.ErrConsumed
	}
	return g, nil
}

// decodePoll reads pollDeviceLua's answer: the grant after the poll, with
// the status it was found in, and the outcome.
func decodePoll(res []any) (store.DeviceGrant, int64, error) {
	if len(res) != 3 {
		return store.DeviceGrant{}, 0, fmt.Errorf("unexpected answer %v", res)
	}
	outcome, _ := res[0].(int64)
	found, _ := res[1].(string)
	fields, _ := res[2].([]any)
	m := make(map[string]string, len(fields)/2)
	for i := 0; i+1 < len(fields); i += 2 {
		k, _ := fields[i].(string)
		v, _ := fields[i+1].(string)
		m[k] = v
	}
	m["status"] = found
	g, err := decodeDevice(m)
	return g, outcome, err
}

// decodeDevice makes a DeviceGrant of the fields of its hash.
func decodeDevice(m map[string]string) (store.DeviceGrant, error) {
	g := store.DeviceGrant{ClientID: m["client_id"], Family: m["family"], Subject: m["subject"], Username: m["username"]}
	for _, f := range [...]struct {
		name string
		dst  *store.Hash
	}{{"device_code_hash", &g.DeviceCodeHash}, {"user_code_hash", &g.UserCodeHash}} {
		b, err := hex.DecodeString(m[f.name])
		if err != nil || len(b) != len(f.dst) {
			return store.DeviceGrant{}, fmt.Errorf("stored %s %q", f.name, m[f.name])
		}
		copy(f.dst[:], b)
	}
	if err := json.Unmarshal([]byte(m["scopes"]), &g.Scopes); err != nil {
		return store.DeviceGrant{}, fmt.Errorf("stored scopes: %w", err)
	}
	status, err := strconv.Atoi(m["status"])
	if err != nil {
		return store.DeviceGrant{}, fmt.Errorf("stored status %q: %w", m["status"], err)
	}
	g.Status = store.DeviceStatus(status)
	interval, err := strconv.ParseInt(m["interval_us"], 10, 64)
	if err != nil {
		return store.DeviceGrant{}, fmt.Errorf("stored interval %q: %w", m["interval_us"], err)
	}
	g.Interval = time.Duration(interval) * time.Microsecond
	for _, f := range [...]struct {
		name     string
		dst      *time.Time
		optional bool
	}{{"issued_at", &g.IssuedAt, false}, {"expires_at", &g.ExpiresAt, false}, {"last_polled_at", &g.LastPolledAt, true}, {"auth_time", &g.AuthTime, true}} {
		v, ok := m[f.name]
		if !ok && f.optional {
			continue
		}
		if *f.dst, err = parseMicros(v); err != nil {
			return store.DeviceGrant{}, err
		}
	}
	return g, nil
}
