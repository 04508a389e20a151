package redis

import "github.com/oauthkit/oauthkit/store"

// WithObserver makes the store report every call to its store methods to
// obs, for metrics: the method's name, how long it took and its error (see
// [store.Observer]). Default none.
func WithObserver(obs store.Observer) Option {
	return func(s *Store) { s.obs = obs }
}
