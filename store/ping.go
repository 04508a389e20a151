package store

import "context"

// Pinger is an optional capability of a store: a cheap round trip that
// says whether it can serve requests now, for health checks (see
// grant.Provider.HealthHandler). Every oauthkit backend implements it;
// callers detect it with a type assertion. Ping should return nil when the
// store answers, an error otherwise, and an error wrapping ctx's error once
// ctx is done.
type Pinger interface {
	Ping(ctx context.Context) error
}
