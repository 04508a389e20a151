package testservices

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path"
	"runtime/debug"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// The variables naming the servers, and the addresses tried when they are
// unset.
const (
	PostgresEnv     = "OAUTHKIT_TEST_POSTGRES"
	RedisEnv        = "OAUTHKIT_TEST_REDIS"
	DefaultPostgres = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
	DefaultRedis    = "127.0.0.1:6379"
)

// probeTimeout bounds the look for a server at a default address.
const probeTimeout = 2 * time.Second

// service is one server the tests need, found once per test binary.
type service struct {
	name, env, def string
	probe          func(ctx context.Context, addr string) error

	once    sync.Once
	addr    string // where the server is; "" when the tests skip
	why     string // why they skip
	skipped bool   // a test skipped for it
}

// The two services. They are the package's state because a test binary's
// tests share the answer: found once, reported once.
var (
	postgres = &service{name: "PostgreSQL", env: PostgresEnv, def: DefaultPostgres, probe: probePostgres}
	redis    = &service{name: "Redis", env: RedisEnv, def: DefaultRedis, probe: probeRedis}
	// redisBinaries stands for the tests that start redis-servers of their
	// own (RedisCluster, StartRedis), for report.
	redisBinaries = &service{name: "own redis-server", env: RedisClusterEnv,
		why: "redis-server is not in PATH (" + RedisClusterEnv + " unset)"}
	mu sync.Mutex // guards skipped
)

// Postgres returns the DSN of the PostgreSQL server to test against, or
// skips t.
func Postgres(t testing.TB) string {
	t.Helper()
	return postgres.find(t)
}

// Redis returns the host:port of the Redis server to test against, or skips
// t.
func Redis(t testing.TB) string {
	t.Helper()
	return redis.find(t)
}

func (s *service) find(t testing.TB) string {
	t.Helper()
	s.once.Do(func() {
		if v := os.Getenv(s.env); v != "" {
			s.addr = v
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), probeTimeout)
		defer cancel()
		if err := s.probe(ctx, s.def); err != nil {
			s.why = fmt.Sprintf("%s is unset and no usable server answers at %s (%v)", s.env, s.def, rootCause(err))
			return
		}
		s.addr = s.def
	})
	if s.addr == "" {
		mu.Lock()
		s.skipped = true
		mu.Unlock()
		t.Skipf("skipping the %s tests: %s", s.name, s.why)
	}
	return s.addr
}

// Main is a TestMain: it runs the package's tests and exits as Run says.
func Main(m *testing.M) { os.Exit(Run(m)) }

// Run runs the package's tests, stops the Redis Cluster they started (if
// any), and then, if some skipped for want of a service, prints one line
// saying which and why; it returns m.Run's exit code. A TestMain of its own
// calls it in place of m.Run.
func Run(m *testing.M) int {
	code := m.Run()
	stopCluster()
	if line := report(); line != "" {
		say(line)
	}
	return code
}

// report is the line Main prints, or "".
func report() string {
	mu.Lock()
	defer mu.Unlock()
	var parts []string
	for _, s := range []*service{postgres, redis, redisBinaries} {
		if s.skipped {
			parts = append(parts, fmt.Sprintf("the %s tests skipped: %s", s.name, s.why))
		}
	}
	if len(parts) == 0 {
		return ""
	}
	return fmt.Sprintf("%s: %s. Set the variables of the README's test command, or start the servers (-count=1 reruns a cached result).",
		testedPackage(), strings.Join(parts, "; "))
}

// rootCause is the innermost error that err wraps: "connection refused"
// rather than the driver's whole story.
func rootCause(err error) error {
	for {
		inner := errors.Unwrap(err)
		if inner == nil {
			return err
		}
		err = inner
	}
}

// testedPackage names the package whose test binary this is.
func testedPackage() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Path != "" {
		return strings.TrimSuffix(bi.Path, ".test")
	}
	return strings.TrimSuffix(path.Base(os.Args[0]), ".test")
}

// say writes line where the person running go test sees it: the terminal,
// when there is one and the output is not shown anyway (-v), else stderr.
func say(line string) {
	if !testing.Verbose() {
		if tty, err := os.OpenFile("/dev/tty", os.O_WRONLY, 0); err == nil {
			fmt.Fprintln(tty, line)
			tty.Close()
			return
		}
	}
	fmt.Fprintln(os.Stderr, line)
}

// probePostgres connects with the real driver: a server that answers but
// refuses the default DSN (no database "test", a password needed) is no
// use either.
func probePostgres(ctx context.Context, dsn string) error {
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return err
	}
	return conn.Close(ctx)
}

// probeRedis sends PING in the inline form of the Redis protocol and wants
// +PONG: the least that says a Redis server without a password answers.
// (go-redis would do, but logs its dial failures to stderr.)
func probeRedis(ctx context.Context, addr string) error {
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return err
	}
	defer c.Close()
	if dl, ok := ctx.Deadline(); ok {
		_ = c.SetDeadline(dl)
	}
	if _, err := c.Write([]byte("PING\r\n")); err != nil {
		return err
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return err
	}
	if line = strings.TrimSpace(line); line != "+PONG" {
		return fmt.Errorf("PING answered %.60q", line)
	}
	return nil
}
