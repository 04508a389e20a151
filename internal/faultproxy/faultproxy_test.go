package faultproxy

import (
	"bufio"
	"errors"
	"net"
	"os"
	"runtime"
	"syscall"
	"testing"
	"time"
)

// echo serves a line echo on a loopback port until the test ends.
func echo(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				r := bufio.NewReader(c)
				for {
					line, err := r.ReadString('\n')
					if err != nil {
						return
					}
					if _, err := c.Write([]byte(line)); err != nil {
						return
					}
				}
			}()
		}
	}()
	return ln.Addr().String()
}

func start(t *testing.T) *Proxy {
	t.Helper()
	p, err := Start(echo(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

type conn struct {
	net.Conn
	r *bufio.Reader
}

func dial(t *testing.T, p *Proxy) (*conn, error) {
	t.Helper()
	c, err := net.DialTimeout("tcp", p.Addr(), time.Second)
	if err != nil {
		return nil, err
	}
	t.Cleanup(func() { c.Close() })
	return &conn{c, bufio.NewReader(c)}, nil
}

// roundTrip sends a line and waits up to wait for its echo; it returns how
// long the echo took, or the error.
func (c *conn) roundTrip(wait time.Duration) (time.Duration, error) {
	start := time.Now()
	c.SetDeadline(start.Add(wait))
	if _, err := c.Write([]byte("ping\n")); err != nil {
		return 0, err
	}
	line, err := c.r.ReadString('\n')
	if err != nil {
		return 0, err
	}
	if line != "ping\n" {
		return 0, errors.New("echo garbled: " + line)
	}
	return time.Since(start), nil
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

func TestPass(t *testing.T) {
	p := start(t)
	c, err := dial(t, p)
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if _, err := c.roundTrip(time.Second); err != nil {
			t.Fatal(err)
		}
	}
}

func TestDrop(t *testing.T) {
	p := start(t)
	c, err := dial(t, p)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.roundTrip(time.Second); err != nil {
		t.Fatal(err)
	}
	p.Drop()
	if _, err := c.roundTrip(time.Second); err == nil || isTimeout(err) {
		t.Fatalf("an open connection after Drop: %v, want it closed", err)
	}
	c2, err := dial(t, p)
	if err != nil {
		t.Fatalf("Drop stopped accepting: %v", err)
	}
	if _, err := c2.roundTrip(time.Second); err == nil || isTimeout(err) {
		t.Fatalf("a new connection under Drop: %v, want it closed", err)
	}
	p.Pass()
	c3, err := dial(t, p)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c3.roundTrip(time.Second); err != nil {
		t.Fatalf("after Pass: %v", err)
	}
}

func TestRefuse(t *testing.T) {
	p := start(t)
	c, err := dial(t, p)
	if err != nil {
		t.Fatal(err)
	}
	p.Refuse()
	if _, err := c.roundTrip(time.Second); err == nil || isTimeout(err) {
		t.Fatalf("an open connection after Refuse: %v, want it closed", err)
	}
	if _, err := dial(t, p); !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("connecting under Refuse: %v, want connection refused", err)
	}
	if err := p.Pass(); err != nil {
		t.Fatal(err)
	}
	c2, err := dial(t, p)
	if err != nil {
		t.Fatalf("after Pass, at the same address: %v", err)
	}
	if _, err := c2.roundTrip(time.Second); err != nil {
		t.Fatal(err)
	}
}

func TestBlackhole(t *testing.T) {
	p := start(t)
	idle, err := dial(t, p)
	if err != nil {
		t.Fatal(err)
	}
	busy, err := dial(t, p)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := busy.roundTrip(time.Second); err != nil {
		t.Fatal(err)
	}
	p.Blackhole()
	if _, err := busy.roundTrip(200 * time.Millisecond); !isTimeout(err) {
		t.Fatalf("under Blackhole: %v, want no answer (a timeout)", err)
	}
	held, err := dial(t, p)
	if err != nil {
		t.Fatalf("Blackhole stopped accepting: %v", err)
	}
	if _, err := held.roundTrip(200 * time.Millisecond); !isTimeout(err) {
		t.Fatalf("a new connection under Blackhole: %v, want no answer", err)
	}
	p.Pass()
	// The connection whose request was thrown away is closed; the idle
	// one carries on.
	if _, err := busy.roundTrip(time.Second); err == nil || isTimeout(err) {
		t.Fatalf("a connection that lost bytes, after Pass: %v, want it closed", err)
	}
	if _, err := held.roundTrip(time.Second); err == nil || isTimeout(err) {
		t.Fatalf("a connection accepted under Blackhole, after Pass: %v, want it closed", err)
	}
	if _, err := idle.roundTrip(time.Second); err != nil {
		t.Fatalf("an idle connection, after Pass: %v", err)
	}
}

func TestLatency(t *testing.T) {
	p := start(t)
	c, err := dial(t, p)
	if err != nil {
		t.Fatal(err)
	}
	const d = 100 * time.Millisecond
	p.Latency(d)
	took, err := c.roundTrip(2 * time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if took < 2*d {
		t.Fatalf("a round trip under +%v each way took %v, want at least %v", d, took, 2*d)
	}
	p.Pass()
	if _, err := c.roundTrip(time.Second); err != nil {
		t.Fatal(err)
	}
}

// Close ends every goroutine of the proxy.
func TestCloseLeavesNoGoroutine(t *testing.T) {
	before := runtime.NumGoroutine()
	up := echo(t)
	p, err := Start(up)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range []func() error{p.Pass, p.Blackhole, p.Pass} {
		m()
		c, err := net.Dial("tcp", p.Addr())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
	}
	p.Close()
	if err := p.Pass(); err == nil {
		t.Error("a closed proxy took a mode")
	}
	deadline := time.Now().Add(2 * time.Second)
	for runtime.NumGoroutine() > before+2 { // the echo server's listener and its connections
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<16)
			os.Stderr.Write(buf[:runtime.Stack(buf, true)])
			t.Fatalf("%d goroutines after Close, %d before", runtime.NumGoroutine(), before)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
