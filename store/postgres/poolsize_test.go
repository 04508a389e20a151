package postgres_test

import (
	"net/url"
	"runtime"
	"strings"
	"testing"

	"github.com/oauthkit/oauthkit/internal/testservices"
	"github.com/oauthkit/oauthkit/store/postgres"
)

// TestPoolSize: Open's pool has max(10, 4×GOMAXPROCS) connections unless
// the DSN sets pool_max_conns, in either DSN form; pgx's own default would
// be max(4, NumCPU).
func TestPoolSize(t *testing.T) {
	dsn := testservices.Postgres(t)
	pool := testPool(t)
	want := int32(max(10, 4*runtime.GOMAXPROCS(0)))
	if got := postgres.DefaultMaxConns(); got != want {
		t.Fatalf("DefaultMaxConns() = %d, want %d", got, want)
	}
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("pool_max_conns", "3")
	u.RawQuery = q.Encode()
	for name, c := range map[string]struct {
		dsn  string
		want int32
	}{
		"default":          {dsn, want},
		"pool_max_conns":   {u.String(), 3},
		"key=value format": {keyValue(t, dsn) + " pool_max_conns=5", 5},
	} {
		t.Run(name, func(t *testing.T) {
			s, err := postgres.Open(t.Context(), c.dsn, postgres.WithSchema(newSchema(t, pool)), postgres.WithCleanupInterval(0))
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if got := postgres.MaxConns(s); got != c.want {
				t.Errorf("pool of %d connections, want %d", got, c.want)
			}
		})
	}
}

// keyValue turns a postgres:// URL into the key=value form.
func keyValue(t *testing.T, dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	kv := []string{"host=" + u.Hostname(), "port=" + u.Port(), "dbname=" + strings.TrimPrefix(u.Path, "/"), "user=" + u.User.Username()}
	if pw, ok := u.User.Password(); ok {
		kv = append(kv, "password="+pw)
	}
	for k, vs := range u.Query() {
		kv = append(kv, k+"="+vs[0])
	}
	return strings.Join(kv, " ")
}
