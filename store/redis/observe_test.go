package redis_test

import (
	"testing"

	"github.com/oauthkit/oauthkit/store"
	"github.com/oauthkit/oauthkit/store/redis"
	"github.com/oauthkit/oauthkit/store/storetest"
)

func TestObserver(t *testing.T) {
	rdb := testClient(t)
	storetest.RunObserver(t, func(t *testing.T, obs store.Observer) storetest.Store {
		s, err := redis.New(t.Context(), rdb, redis.WithPrefix(newPrefix(t, rdb)), redis.WithObserver(obs), quiet)
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}
