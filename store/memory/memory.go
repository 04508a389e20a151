package memory

import (
	"time"
)

// Store keeps clients, users, tokens and device authorization grants in
// memory. It implements store.ClientRegistry, store.UserStore,
// store.TokenStore and store.DeviceStore. The zero value
// is not usable; call [New].
type Store struct {
	now func() time.Time
	clientTable
	userTable
	tokenTable
	deviceTable
}

// Option configures a Store.
type Option func(*Store)

// WithClock makes the store read the time from now instead of time.Now, so
// that tests can move time forward without sleeping.
func WithClock(now func() time.Time) Option {
	return func(s *Store) { s.now = now }
}

// New returns an empty Store.
func New(opts ...Option) *Store {
	s := &Store{now: time.Now}
	for _, o := range opts {
		o(s)
	}
	s.clientTable.init()
	s.userTable.init()
	s.tokenTable.init(s.now)
	s.deviceTable.init(s.now)
	return s
}
