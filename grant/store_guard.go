package grant

import (
	"context"
	"net/http"
	"time"

	"github.com/oauthkit/oauthkit/internal/bulkhead"
	"github.com/oauthkit/oauthkit/internal/replay"
	"github.com/oauthkit/oauthkit/internal/throttle"
	"github.com/oauthkit/oauthkit/store"
)

// Every call to a store goes through the bulkhead of its store object
// (internal/bulkhead, configured by Config.Store): a deadline, a bound on
// calls in flight, and the outage log. The Provider keeps the guarded
// stores beside Config's (tokens, clients, users; the capabilities in
// Config.Throttle, ClientAuth, DPoP and Device are replaced by guarded
// ones), and Config's own fields keep the host's objects, so that type
// assertions for optional capabilities still see them.

// storeSet is the Provider's stores, guarded.
type storeSet struct {
	tokens    store.TokenStore
	exchanger store.Exchanger // tokens' store.Exchanger, or nil
	clients   store.ClientStore
	users     store.UserStore
	budget    time.Duration // of the store calls of one request (bounded); 0 when no store is guarded
}

// guards makes one bulkhead per store object.
type guards struct {
	cfg  *Config
	list []namedGuard
}

type namedGuard struct {
	obj any
	b   *bulkhead.Bulkhead
}

// of returns the bulkhead of the store s, named name in logs, making it
// the first time; nil when s lives in the process (store.Local) and needs
// none.
func (g *guards) of(s any, name string) *bulkhead.Bulkhead {
	if _, local := s.(store.Local); local {
		return nil
	}
	for _, ng := range g.list {
		if same(ng.obj, s) {
			return ng.b
		}
	}
	cfg := g.cfg
	b, _ := bulkhead.New(bulkhead.Options{ // the limits were checked by setDefaults
		Timeout: cfg.Store.Timeout, MaxInFlight: cfg.Store.MaxInFlight,
		Answer: storeAnswer, Now: cfg.Now,
		Down: func(err error) {
			cfg.Logger.Error("grant: the "+name+" is unavailable; answering 503 until it is back", "err", err)
		},
		Up: func(d time.Duration, failed int64) {
			cfg.Logger.Warn("grant: the "+name+" answers again", "down_for", d.Round(time.Millisecond), "failed_calls", failed)
		},
	})
	g.list = append(g.list, namedGuard{s, b})
	return b
}

// guardStores returns cfg's stores guarded, and replaces the capabilities
// in cfg's sub-structs (throttle counter, replay caches, device store) by
// guarded ones. The in-process tables that setDefaults made need none.
func guardStores(cfg *Config) storeSet {
	g := &guards{cfg: cfg}
	var ss storeSet
	ss.tokens, ss.exchanger = guardTokens(cfg.Tokens, g.of(cfg.Tokens, "token store"))
	ss.clients = cfg.Clients
	if b := g.of(cfg.Clients, "client store"); b != nil {
		ss.clients = guardedClients{cfg.Clients, b}
		if reg, ok := cfg.Clients.(store.ClientRegistry); ok {
			ss.clients = guardedRegistry{guardedClients{reg, b}, reg}
		}
	}
	ss.users = cfg.Users
	if cfg.Users != nil {
		if b := g.of(cfg.Users, "user store"); b != nil {
			ss.users = guardedUsers{cfg.Users, b}
		}
	}
	if c := cfg.Throttle.Counter; !isTable(c) {
		if b := g.of(c, "throttle counter's store"); b != nil {
			cfg.Throttle.Counter = guardedCounter{c, b}
		}
	}
	if cfg.DPoP.Replay == nil { // newDPoP's default, guarded
		if rc, ok := cfg.Tokens.(store.ReplayCache); ok {
			cfg.DPoP.Replay = rc
		}
	}
	for _, rc := range []*store.ReplayCache{&cfg.ClientAuth.Replay, &cfg.DPoP.Replay} {
		if *rc != nil && !isTable(*rc) {
			if b := g.of(*rc, "replay cache's store"); b != nil {
				*rc = guardedReplay{*rc, b}
			}
		}
	}
	if d := cfg.Device.Store; d != nil {
		if b := g.of(d, "device store"); b != nil {
			cfg.Device.Store = guardedDevices{d, b}
		}
	}
	if len(g.list) > 0 {
		ss.budget = cfg.Store.Timeout * 3 / 2
	}
	return ss
}

// isTable reports whether s is one of the in-process tables setDefaults
// makes (the throttle's and the replay cache's defaults).
func isTable(s any) bool {
	switch s.(type) {
	case *throttle.Table, *replay.Cache:
		return true
	}
	return false
}

// bounded gives the store calls of each request to h one budget: together
// they take at most 1.5×Config.Store.Timeout (3 seconds by default), each
// at most Timeout, so that an answer leaves in time even when each of
// several calls is slow without failing. Without a guarded store it is h.
func (p *Provider) bounded(h http.Handler) http.Handler {
	if p.budget == 0 {
		return h
	}
	return boundedHandler{h, p.budget}
}

type boundedHandler struct {
	h      http.Handler
	budget time.Duration
}

func (b boundedHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := bulkhead.Budget(r.Context(), b.budget)
	defer cancel()
	b.h.ServeHTTP(w, r.WithContext(ctx))
}

// unbounded returns the handler that bounded wrapped, or h.
func unbounded(h http.Handler) http.Handler {
	if b, ok := h.(boundedHandler); ok {
		return b.h
	}
	return h
}

// guardTokens returns ts guarded by b, and its store.Exchanger, guarded
// too, or nil.
func guardTokens(ts store.TokenStore, b *bulkhead.Bulkhead) (store.TokenStore, store.Exchanger) {
	ex, _ := ts.(store.Exchanger)
	if b == nil {
		return ts, ex
	}
	gt := guardedTokens{ts, b}
	if ex != nil {
		return gt, guardedExchanger{ex, b}
	}
	return gt, nil
}

type guardedTokens struct {
	s store.TokenStore
	b *bulkhead.Bulkhead
}

func (g guardedTokens) CreateToken(ctx context.Context, t *store.Token) error {
	c, err := g.b.Begin(ctx)
	if err != nil {
		return err
	}
	return c.End(g.s.CreateToken(c.Ctx, t))
}

func (g guardedTokens) Token(ctx context.Context, h store.Hash) (store.Token, error) {
	c, err := g.b.Begin(ctx)
	if err != nil {
		return store.Token{}, err
	}
	t, err := g.s.Token(c.Ctx, h)
	return t, c.End(err)
}

func (g guardedTokens) ConsumeToken(ctx context.Context, h store.Hash) (store.Token, error) {
	c, err := g.b.Begin(ctx)
	if err != nil {
		return store.Token{}, err
	}
	t, err := g.s.ConsumeToken(c.Ctx, h)
	return t, c.End(err)
}

func (g guardedTokens) RevokeToken(ctx context.Context, h store.Hash) error {
	c, err := g.b.Begin(ctx)
	if err != nil {
		return err
	}
	return c.End(g.s.RevokeToken(c.Ctx, h))
}

func (g guardedTokens) RevokeFamily(ctx context.Context, family string) error {
	c, err := g.b.Begin(ctx)
	if err != nil {
		return err
	}
	return c.End(g.s.RevokeFamily(c.Ctx, family))
}

func (g guardedTokens) RevokeClient(ctx context.Context, clientID string) error {
	c, err := g.b.Begin(ctx)
	if err != nil {
		return err
	}
	return c.End(g.s.RevokeClient(c.Ctx, clientID))
}

type guardedExchanger struct {
	s store.Exchanger
	b *bulkhead.Bulkhead
}

func (g guardedExchanger) Exchange(ctx context.Context, h store.Hash, issue ...*store.Token) (store.Token, error) {
	c, err := g.b.Begin(ctx)
	if err != nil {
		return store.Token{}, err
	}
	t, err := g.s.Exchange(c.Ctx, h, issue...)
	return t, c.End(err)
}

type guardedClients struct {
	s store.ClientStore
	b *bulkhead.Bulkhead
}

func (g guardedClients) Client(ctx context.Context, id string) (*store.Client, error) {
	c, err := g.b.Begin(ctx)
	if err != nil {
		return nil, err
	}
	cl, err := g.s.Client(c.Ctx, id)
	return cl, c.End(err)
}

// guardedRegistry is guardedClients for a store.ClientRegistry, so that
// registration (register.go) and the CORS origin list (cors.go) are
// bounded too.
type guardedRegistry struct {
	guardedClients
	r store.ClientRegistry
}

func (g guardedRegistry) CreateClient(ctx context.Context, cl *store.Client) error {
	c, err := g.b.Begin(ctx)
	if err != nil {
		return err
	}
	return c.End(g.r.CreateClient(c.Ctx, cl))
}

func (g guardedRegistry) UpdateClient(ctx context.Context, cl *store.Client) error {
	c, err := g.b.Begin(ctx)
	if err != nil {
		return err
	}
	return c.End(g.r.UpdateClient(c.Ctx, cl))
}

func (g guardedRegistry) DeleteClient(ctx context.Context, id string) error {
	c, err := g.b.Begin(ctx)
	if err != nil {
		return err
	}
	return c.End(g.r.DeleteClient(c.Ctx, id))
}

func (g guardedRegistry) Clients(ctx context.Context) ([]*store.Client, error) {
	c, err := g.b.Begin(ctx)
	if err != nil {
		return nil, err
	}
	cls, err := g.r.Clients(c.Ctx)
	return cls, c.End(err)
}

type guardedUsers struct {
	s store.UserStore
	b *bulkhead.Bulkhead
}

func (g guardedUsers) Authenticate(ctx context.Context, username, password string) (*store.User, error) {
	c, err := g.b.Begin(ctx)
	if err != nil {
		return nil, err
	}
	u, err := g.s.Authenticate(c.Ctx, username, password)
	return u, c.End(err)
}

type guardedCounter struct {
	s store.AttemptCounter
	b *bulkhead.Bulkhead
}

func (g guardedCounter) AttemptWait(ctx context.Context, key string, l store.Limit, now time.Time) (time.Duration, error) {
	c, err := g.b.Begin(ctx)
	if err != nil {
		return 0, err
	}
	d, err := g.s.AttemptWait(c.Ctx, key, l, now)
	return d, c.End(err)
}

func (g guardedCounter) ChargeAttempt(ctx context.Context, key string, l store.Limit, now time.Time) (time.Duration, error) {
	c, err := g.b.Begin(ctx)
	if err != nil {
		return 0, err
	}
	d, err := g.s.ChargeAttempt(c.Ctx, key, l, now)
	return d, c.End(err)
}

func (g guardedCounter) RefundAttempt(ctx context.Context, key string, l store.Limit, now time.Time) error {
	c, err := g.b.Begin(ctx)
	if err != nil {
		return err
	}
	return c.End(g.s.RefundAttempt(c.Ctx, key, l, now))
}

func (g guardedCounter) ResetAttempts(ctx context.Context, key string) error {
	c, err := g.b.Begin(ctx)
	if err != nil {
		return err
	}
	return c.End(g.s.ResetAttempts(c.Ctx, key))
}

type guardedReplay struct {
	s store.ReplayCache
	b *bulkhead.Bulkhead
}

func (g guardedReplay) UseOnce(ctx context.Context, key string, until time.Time) (bool, error) {
	c, err := g.b.Begin(ctx)
	if err != nil {
		return false, err
	}
	first, err := g.s.UseOnce(c.Ctx, key, until)
	return first, c.End(err)
}

type guardedDevices struct {
	s store.DeviceStore
	b *bulkhead.Bulkhead
}

func (g guardedDevices) CreateDeviceGrant(ctx context.Context, dg *store.DeviceGrant) error {
	c, err := g.b.Begin(ctx)
	if err != nil {
		return err
	}
	return c.End(g.s.CreateDeviceGrant(c.Ctx, dg))
}

func (g guardedDevices) DeviceGrantByUserCode(ctx context.Context, h store.Hash, now time.Time) (store.DeviceGrant, error) {
	c, err := g.b.Begin(ctx)
	if err != nil {
		return store.DeviceGrant{}, err
	}
	dg, err := g.s.DeviceGrantByUserCode(c.Ctx, h, now)
	return dg, c.End(err)
}

func (g guardedDevices) DecideDeviceGrant(ctx context.Context, h store.Hash, d store.DeviceDecision, now time.Time) error {
	c, err := g.b.Begin(ctx)
	if err != nil {
		return err
	}
	return c.End(g.s.DecideDeviceGrant(c.Ctx, h, d, now))
}

func (g guardedDevices) PollDeviceGrant(ctx context.Context, h store.Hash, clientID string, now time.Time) (store.DeviceGrant, error) {
	c, err := g.b.Begin(ctx)
	if err != nil {
		return store.DeviceGrant{}, err
	}
	dg, err := g.s.PollDeviceGrant(c.Ctx, h, clientID, now)
	return dg, c.End(err)
}
