package sqlite_test

import (
	"path/filepath"
	"testing"

	"github.com/oauthkit/oauthkit/store"
	"github.com/oauthkit/oauthkit/store/sqlite"
	"github.com/oauthkit/oauthkit/store/storetest"
)

func TestObserver(t *testing.T) {
	storetest.RunObserver(t, func(t *testing.T, obs store.Observer) storetest.Store {
		s, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "oauthkit.db"), sqlite.WithObserver(obs))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	})
}
