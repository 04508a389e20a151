package tcpproxy

import (
	"bufio"
	"net"
	"testing"
	"time"
)

// echo serves a line echo on a loopback port.
func echo(t *testing.T) string {
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
					c.Write([]byte(line))
				}
			}()
		}
	}()
	return ln.Addr().String()
}

func TestForwardAndBlackhole(t *testing.T) {
	p, err := Start(echo(t))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	dial := func() (net.Conn, *bufio.Reader) {
		c, err := net.Dial("tcp", p.Addr())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c, bufio.NewReader(c)
	}
	roundTrip := func(c net.Conn, r *bufio.Reader) bool {
		c.SetDeadline(time.Now().Add(300 * time.Millisecond))
		if _, err := c.Write([]byte("ping\n")); err != nil {
			t.Fatal(err)
		}
		line, err := r.ReadString('\n')
		return err == nil && line == "ping\n"
	}
	a, ar := dial()
	b, br := dial()
	if !roundTrip(a, ar) || !roundTrip(b, br) {
		t.Fatal("the proxy does not forward")
	}
	// The upstream port of a: the only link whose client side is a's.
	var port int
	p.mu.Lock()
	for l := range p.conns {
		if l.client.RemoteAddr().String() == a.LocalAddr().String() {
			port = l.server.LocalAddr().(*net.TCPAddr).Port
		}
	}
	p.mu.Unlock()
	if !p.Blackhole(port) {
		t.Fatal("Blackhole found no connection")
	}
	if p.Blackhole(1) {
		t.Error("Blackhole found a connection on port 1")
	}
	if roundTrip(a, ar) {
		t.Error("a blackholed connection still forwards")
	}
	if !roundTrip(b, br) {
		t.Error("the other connection stopped forwarding")
	}
	c, cr := dial()
	if !roundTrip(c, cr) {
		t.Error("a new connection does not forward")
	}
}
