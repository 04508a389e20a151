package postgres_test

import (
	"testing"

	"github.com/oauthkit/oauthkit/store"
	"github.com/oauthkit/oauthkit/store/postgres"
	"github.com/oauthkit/oauthkit/store/storetest"
)

func TestObserver(t *testing.T) {
	pool := testPool(t)
	storetest.RunObserver(t, func(t *testing.T, obs store.Observer) storetest.Store {
		s, err := postgres.New(t.Context(), pool, postgres.WithSchema(newSchema(t, pool)), postgres.WithObserver(obs))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	})
}
