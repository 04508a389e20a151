// Package faultproxy is a TCP proxy for fault-injection tests: it stands
// between a client (a store's driver) and its server on the loopback
// interface and, on command, makes the server look down in the ways
// networks and servers fail:
//
//   - [Proxy.Pass] forwards every byte (the default);
//   - [Proxy.Drop] closes every connection, and each new one as soon as it
//     is accepted (a server that crashes and restarts in a loop);
//   - [Proxy.Refuse] stops listening and closes every connection (a server
//     that is down: connecting fails with "connection refused");
//   - [Proxy.Blackhole] accepts connections and never answers: what either
//     side sends is read and thrown away, nothing is closed (a silent
//     network, a hung server); when it ends, the connections whose bytes
//     were thrown away are closed, as a firewall that forgot them would;
//   - [Proxy.Latency] forwards every byte d late, each way.
//
// It knows nothing of the protocols it carries. Only tests import it.
package faultproxy

import (
	"errors"
	"net"
	"sync"
	"time"
)

// mode is what the proxy does with connections.
type mode int

const (
	pass mode = iota
	drop
	refuse
	blackhole
	latency
)

// Proxy forwards the connections made to Addr to one upstream address.
// Its methods are safe for concurrent use.
type Proxy struct {
	upstream string
	addr     string // the listening address, kept across Refuse

	mu     sync.Mutex
	cond   *sync.Cond // signalled when the mode changes
	mode   mode
	delay  time.Duration // in latency mode
	ln     net.Listener  // nil while refusing
	links  map[*link]struct{}
	closed bool
	wg     sync.WaitGroup
}

// link is one proxied connection.
type link struct {
	client, server net.Conn
	tainted        bool // bytes were thrown away: the streams are no longer whole (under Proxy.mu)
	once           sync.Once
}

func (l *link) close() {
	l.once.Do(func() {
		l.client.Close()
		if l.server != nil {
			l.server.Close()
		}
	})
}

// Start listens on a loopback port and forwards to upstream (host:port).
func Start(upstream string) (*Proxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &Proxy{upstream: upstream, addr: ln.Addr().String(), ln: ln, links: make(map[*link]struct{})}
	p.cond = sync.NewCond(&p.mu)
	p.wg.Add(1)
	go p.accept(ln)
	return p, nil
}

// Addr is the address clients connect to (host:port); it stays the same
// across Refuse.
func (p *Proxy) Addr() string { return p.addr }

// Pass forwards everything again; after Refuse it listens again.
func (p *Proxy) Pass() error { return p.set(pass, 0) }

// Drop closes every connection, and each new one once accepted.
func (p *Proxy) Drop() error { return p.set(drop, 0) }

// Refuse closes every connection and stops listening, so that connecting
// is refused.
func (p *Proxy) Refuse() error { return p.set(refuse, 0) }

// Blackhole keeps every connection open and forwards nothing: bytes
// either side sends are read and thrown away; new connections are
// accepted and never answered.
func (p *Proxy) Blackhole() error { return p.set(blackhole, 0) }

// Latency forwards every byte d after it arrived, each way.
func (p *Proxy) Latency(d time.Duration) error { return p.set(latency, d) }

func (p *Proxy) set(m mode, d time.Duration) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return errors.New("faultproxy: closed")
	}
	prev := p.mode
	p.mode, p.delay = m, d
	p.cond.Broadcast()
	switch {
	case m == drop || m == refuse:
		for l := range p.links {
			l.close()
		}
	case prev == blackhole && m != blackhole:
		for l := range p.links {
			if l.tainted || l.server == nil {
				l.close()
			}
		}
	}
	if m == refuse && p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	if m != refuse && p.ln == nil {
		ln, err := listenAgain(p.addr)
		if err != nil {
			return err
		}
		p.ln = ln
		p.wg.Add(1)
		go p.accept(ln)
	}
	return nil
}

// listenAgain listens on addr again after Refuse, retrying briefly while
// the port is still being released.
func listenAgain(addr string) (net.Listener, error) {
	var err error
	for range 50 {
		var ln net.Listener
		if ln, err = net.Listen("tcp", addr); err == nil {
			return ln, nil
		}
		time.Sleep(10 * time.Millisecond)
	}
	return nil, err
}

func (p *Proxy) accept(ln net.Listener) {
	defer p.wg.Done()
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		m := p.mode
		p.mu.Unlock()
		var s net.Conn
		switch m {
		case drop, refuse:
			c.Close()
			continue
		case blackhole: // held, unanswered, never connected upstream
		default:
			if s, err = net.DialTimeout("tcp", p.upstream, 5*time.Second); err != nil {
				c.Close()
				continue
			}
		}
		l := &link{client: c, server: s}
		p.mu.Lock()
		if p.closed || p.mode == drop || p.mode == refuse {
			p.mu.Unlock()
			l.close()
			continue
		}
		p.links[l] = struct{}{}
		p.wg.Add(2)
		p.mu.Unlock()
		go p.pump(l, c, s)
		go p.pump(l, s, c)
	}
}

// pump copies from src to dst as the mode says, until either side closes.
// A link held in blackhole mode has no server: its pump from the client
// throws bytes away, and the other only waits for the end.
func (p *Proxy) pump(l *link, src, dst net.Conn) {
	defer p.wg.Done()
	defer func() {
		l.close()
		p.mu.Lock()
		delete(p.links, l)
		p.mu.Unlock()
	}()
	if src == nil { // the server side of a link accepted in blackhole mode
		p.mu.Lock()
		for !p.closed && p.mode == blackhole {
			p.cond.Wait()
		}
		p.mu.Unlock()
		return
	}
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			arrived := time.Now()
			p.mu.Lock()
			m, d := p.mode, p.delay
			if m == blackhole || dst == nil {
				l.tainted = true
			}
			p.mu.Unlock()
			switch {
			case m == blackhole || dst == nil:
				// thrown away
			case m == latency:
				time.Sleep(time.Until(arrived.Add(d)))
				if _, werr := dst.Write(buf[:n]); werr != nil {
					return
				}
			default:
				if _, werr := dst.Write(buf[:n]); werr != nil {
					return
				}
			}
		}
		if err != nil {
			return
		}
	}
}

// Conns returns the number of connections the proxy holds; each has two
// goroutines of the proxy's.
func (p *Proxy) Conns() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.links)
}

// Close stops the proxy, closes every connection and waits for its
// goroutines.
func (p *Proxy) Close() error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil
	}
	p.closed = true
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	for l := range p.links {
		l.close()
	}
	p.cond.Broadcast()
	p.mu.Unlock()
	p.wg.Wait()
	return nil
}
