// Package tcpproxy is a TCP proxy for fault-injection tests: it forwards
// every connection it accepts to an upstream address, and can blackhole one
// of them, as a silent network would: from then on it reads what either
// side sends and drops it, forwarding nothing and closing nothing, so that
// neither side sees an error.
package tcpproxy

import (
	"errors"
	"net"
	"sync"
	"sync/atomic"
)

// Proxy forwards connections to one upstream address. Close stops it.
type Proxy struct {
	ln       net.Listener
	upstream string
	mu       sync.Mutex
	conns    map[*link]struct{}
	closed   bool
	wg       sync.WaitGroup
}

// link is one proxied connection.
type link struct {
	client, server net.Conn
	silent         atomic.Bool
	once           sync.Once
}

// Start listens on a loopback port and forwards to upstream (host:port).
func Start(upstream string) (*Proxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &Proxy{ln: ln, upstream: upstream, conns: make(map[*link]struct{})}
	p.wg.Go(p.accept)
	return p, nil
}

// Addr is the address clients connect to.
func (p *Proxy) Addr() string { return p.ln.Addr().String() }

func (p *Proxy) accept() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		s, err := net.Dial("tcp", p.upstream)
		if err != nil {
			c.Close()
			continue
		}
		l := &link{client: c, server: s}
		p.mu.Lock()
		if p.closed {
			p.mu.Unlock()
			l.close()
			return
		}
		p.conns[l] = struct{}{}
		p.mu.Unlock()
		p.wg.Go(func() { p.pipe(l, c, s) })
		p.wg.Go(func() { p.pipe(l, s, c) })
	}
}

// pipe copies from src to dst until either fails, dropping what it reads
// while the link is silent.
func (p *Proxy) pipe(l *link, src, dst net.Conn) {
	defer func() {
		l.close()
		p.mu.Lock()
		delete(p.conns, l)
		p.mu.Unlock()
	}()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 && !l.silent.Load() {
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

func (l *link) close() {
	l.once.Do(func() {
		l.client.Close()
		l.server.Close()
	})
}

// Blackhole silences the connection whose upstream side has the local port
// port: the client's port as the server sees it (PostgreSQL's
// pg_stat_activity.client_port, the addr of Redis's CLIENT LIST). It
// reports whether there was one.
func (p *Proxy) Blackhole(port int) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	for l := range p.conns {
		if a, ok := l.server.LocalAddr().(*net.TCPAddr); ok && a.Port == port {
			l.silent.Store(true)
			return true
		}
	}
	return false
}

// Close stops accepting, closes every connection and waits for them.
func (p *Proxy) Close() error {
	err := p.ln.Close()
	p.mu.Lock()
	p.closed = true
	for l := range p.conns {
		l.close()
	}
	p.mu.Unlock()
	p.wg.Wait()
	if errors.Is(err, net.ErrClosed) {
		err = nil
	}
	return err
}
