package testservices

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"
)

// RedisServer is a redis-server process of the tests' own, on a free
// loopback port and a directory of its own, for the tests that crash a
// server (Kill) and start it again on the same files (Restart).
type RedisServer struct {
	Addr string // host:port
	Dir  string // its working directory (--dir): the AOF and RDB files

	args []string
	log  string // its log file

	mu     sync.Mutex
	proc   *os.Process   // the running process; nil once killed
	exited chan struct{} // closed when proc has exited
}

// serverStartTimeout bounds how long a redis-server may take to answer
// PING after it is started.
const serverStartTimeout = 10 * time.Second

// StartRedis starts a redis-server on a free loopback port with the extra
// arguments args (such as "--appendonly", "yes"), in a directory that t
// removes at its end, and kills it when t ends. It skips t when
// redis-server is not in PATH, unless RedisClusterEnv is set (CI sets it):
// then it fails.
func StartRedis(t testing.TB, args ...string) *RedisServer {
	t.Helper()
	bin := redisBinary(t, "redis-server")
	port, err := freePort()
	if err != nil {
		t.Fatal(err)
	}
	r, err := startServer(bin, t.TempDir(), port, args)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.stop)
	return r
}

// redisBinary returns the path of a Redis program, or skips (or fails) t
// as StartRedis says.
func redisBinary(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err == nil {
		return p
	}
	if os.Getenv(RedisClusterEnv) != "" {
		t.Fatalf("%s is set, and %s is not in PATH: %v", RedisClusterEnv, name, err)
	}
	mu.Lock()
	redisBinaries.skipped = true
	mu.Unlock()
	t.Skipf("skipping: %s", redisBinaries.why)
	return ""
}

// startServer starts redis-server on port with its files in dir.
func startServer(bin, dir string, port int, args []string) (*RedisServer, error) {
	r := &RedisServer{
		Addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)),
		Dir:  dir,
		log:  filepath.Join(dir, "redis-"+strconv.Itoa(port)+".log"),
	}
	r.args = append([]string{
		"--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--dir", dir,
		"--daemonize", "no", "--logfile", r.log, "--save", "", "--appendonly", "no",
	}, args...) // later arguments win: args may turn persistence on
	return r, r.start(bin)
}

// start runs the process and waits until it answers PING.
func (r *RedisServer) start(bin string) error {
	cmd := exec.Command(bin, r.args...)
	cmd.Dir = r.Dir
	dieWithParent(cmd)
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("testservices: start redis-server: %w", err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	deadline := time.Now().Add(serverStartTimeout)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		err := probeRedis(ctx, r.Addr)
		cancel()
		if err == nil {
			r.mu.Lock()
			r.proc, r.exited = cmd.Process, exited
			r.mu.Unlock()
			return nil
		}
		select {
		case <-exited:
			return fmt.Errorf("testservices: redis-server on %s exited (%v); its log:\n%s", r.Addr, cmd.ProcessState, r.tail())
		default:
		}
		if time.Now().After(deadline) {
			_ = cmd.Process.Kill()
			<-exited
			return fmt.Errorf("testservices: redis-server on %s did not answer within %v; its log:\n%s", r.Addr, serverStartTimeout, r.tail())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// tail is the end of the server's log, for error messages.
func (r *RedisServer) tail() string {
	b, _ := os.ReadFile(r.log)
	if len(b) > 2000 {
		b = b[len(b)-2000:]
	}
	return string(b)
}

// Kill ends the server with SIGKILL, as a crash would: nothing is flushed
// that the server had not written already, and waits until it is gone.
func (r *RedisServer) Kill(t testing.TB) {
	t.Helper()
	if err := r.kill(); err != nil {
		t.Fatal(err)
	}
}

func (r *RedisServer) kill() error {
	r.mu.Lock()
	proc, exited := r.proc, r.exited
	r.proc = nil
	r.mu.Unlock()
	if proc == nil {
		return nil
	}
	if err := proc.Kill(); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("testservices: kill redis-server: %w", err)
	}
	<-exited
	return nil
}

// Restart starts the server again, on the same port, directory and
// arguments, after Kill.
func (r *RedisServer) Restart(t testing.TB) {
	t.Helper()
	bin := redisBinary(t, "redis-server")
	if err := r.start(bin); err != nil {
		t.Fatal(err)
	}
}

// stop kills the server if it runs.
func (r *RedisServer) stop() { _ = r.kill() }

// freePort returns a loopback TCP port nobody listens on now.
func freePort() (int, error) {
	ports, err := freePorts(1)
	if err != nil {
		return 0, err
	}
	return ports[0], nil
}

// freePorts returns n distinct loopback TCP ports nobody listens on now.
func freePorts(n int) ([]int, error) {
	var ports []int
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		defer l.Close() // held until all are chosen, so that they differ
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}
