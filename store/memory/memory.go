package memory

import (
	"time"

	"github.com/oauthkit/oauthkit/internal/replay"
	"github.com/oauthkit/oauthkit/store"
)

// Store keeps clients, users, tokens and device authorization grants in
// memory. It implements store.ClientRegistry, store.UserStore,
// store.TokenStore, store.ReplayCache, store.DeviceStore and
// store.ChangeFeed (in process). The zero value is not usable; call [New].
type Store struct {
	now func() time.Time
	clientTable
	userTable
	tokenTable
	deviceTable
	replay *replay.Cache
	obs    store.Observer

	changes changeFeed // changes.go
}

// Option configures a Store.
type Option func(*Store)

// WithClock makes the store read the time from now instead of time.Now, so
// that tests can move time forward without sleeping.
func WithClock(now func() time.Time) Option {
	return func(s *Store) { s.now = now }
}

// WithObserver makes the store report every call to its store methods to
// obs, for metrics (see [store.Observer]). Default none.
func WithObserver(obs store.Observer) Option {
	return func(s *Store) { s.obs = obs }
}

// New returns an empty Store.
func New(opts ...Option) *Store {
	s := &Store{now: time.Now}
	for _, o := range opts {
		o(s)
	}
	s.clientTable.obs, s.userTable.obs, s.tokenTable.obs, s.deviceTable.obs = s.obs, s.obs, s.obs, s.obs
	s.clientTable.init()
	s.userTable.init()
	s.tokenTable.init(s.now)
	s.deviceTable.init(s.now)
	s.replay = replay.New(0, s.now)
	return s
}
