package safefetch

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// counter is a TCP listener on loopback that counts the connections it
// accepts: the disallowed address the tests assert nothing reaches.
type counter struct {
	ln net.Listener
	n  atomic.Int32
}

func newCounter(t *testing.T) *counter {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	c := &counter{ln: ln}
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			c.n.Add(1)
			conn.Close()
		}
	}()
	t.Cleanup(func() { ln.Close() })
	return c
}

func (c *counter) port() string { return fmt.Sprint(c.ln.Addr().(*net.TCPAddr).Port) }

func (c *counter) none(t *testing.T, what string) {
	t.Helper()
	time.Sleep(10 * time.Millisecond) // let a stray connection be accepted before counting
	if n := c.n.Load(); n != 0 {
		t.Errorf("%s: %d connections reached the disallowed address", what, n)
	}
}

// resolver answers from a table; each host may have a sequence of answers,
// the last of which repeats (DNS rebinding).
type resolver struct {
	mu      sync.Mutex
	answers map[string][][]string
	calls   map[string]int
}

func (r *resolver) LookupNetIP(_ context.Context, _, host string) ([]netip.Addr, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	seq := r.answers[host]
	if len(seq) == 0 {
		return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
	}
	if r.calls == nil {
		r.calls = map[string]int{}
	}
	i := min(r.calls[host], len(seq)-1)
	r.calls[host]++
	var out []netip.Addr
	for _, s := range seq[i] {
		out = append(out, netip.MustParseAddr(s))
	}
	return out, nil
}

// dialer records every address asked for, and connects the "public"
// addresses in route to local test servers.
type dialer struct {
	mu     sync.Mutex
	dialed []string
	route  map[string]string // public ip:port → local address
}

func (d *dialer) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	d.mu.Lock()
	d.dialed = append(d.dialed, addr)
	to, ok := d.route[addr]
	d.mu.Unlock()
	if !ok {
		return nil, errors.New("test dialer: no route to " + addr)
	}
	var nd net.Dialer
	return nd.DialContext(ctx, network, to)
}

func (d *dialer) addrs() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]string(nil), d.dialed...)
}

// public serves h over TLS as if at 8.8.8.8:port for the host example.com
// (the name in httptest's certificate), where port is the counter's, so
// that a connection to the name's loopback address would reach the counter.
func public(t *testing.T, h http.HandlerFunc, c *counter) (*httptest.Server, *dialer, *x509.CertPool) {
	t.Helper()
	srv := httptest.NewTLSServer(h)
	t.Cleanup(srv.Close)
	pool := x509.NewCertPool()
	pool.AddCert(srv.Certificate())
	d := &dialer{route: map[string]string{"8.8.8.8:" + c.port(): srv.Listener.Addr().String()}}
	return srv, d, pool
}

func doc(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Connection", "close") // every fetch dials anew
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprint(w, `{"client_id":"x"}`)
}

// TestDisallowedAddressesNeverDialed: a name that resolves to a private,
// loopback, link-local, CGNAT, IPv4-mapped or otherwise special address —
// or to a public and a disallowed one — is refused before any connection
// is attempted.
func TestDisallowedAddressesNeverDialed(t *testing.T) {
	c := newCounter(t)
	for _, addrs := range [][]string{
		{"127.0.0.1"}, {"127.0.0.53"}, {"::1"}, {"10.0.0.1"}, {"172.16.5.4"}, {"192.168.1.1"},
		{"169.254.169.254"}, {"fe80::1"}, {"100.64.0.1"}, {"0.0.0.0"}, {"::"}, {"224.0.0.1"}, {"255.255.255.255"},
		{"::ffff:127.0.0.1"}, {"::ffff:10.0.0.1"}, {"::ffff:169.254.169.254"}, {"fc00::1"}, {"fd12:3456::1"},
		{"64:ff9b::a00:1"}, {"2002:a00:1::1"}, {"2001::1"}, {"2001:db8::1"}, {"192.0.2.1"}, {"198.18.0.1"}, {"240.0.0.1"},
		{"8.8.8.8", "10.0.0.1"}, {"2606:4700::1", "::1"},
	} {
		r := &resolver{answers: map[string][][]string{"example.com": {addrs}}}
		d := &dialer{}
		f := New(Options{Resolver: r, Dial: d.dial})
		_, err := f.Fetch(context.Background(), "https://example.com:"+c.port()+"/client.json", "")
		if !errors.Is(err, ErrAddress) {
			t.Errorf("%v: %v, want ErrAddress", addrs, err)
		}
		if got := d.addrs(); len(got) != 0 {
			t.Errorf("%v: dialed %v", addrs, got)
		}
	}
	c.none(t, "names resolving to disallowed addresses")
}

// TestLoopbackRefusedWithTheRealDialer: with the default dialer, a
// loopback IP literal and a name resolving to loopback reach nothing, and
// the dialer's Control hook refuses a disallowed address on its own.
func TestLoopbackRefusedWithTheRealDialer(t *testing.T) {
	c := newCounter(t)
	r := &resolver{answers: map[string][][]string{"example.com": {{"127.0.0.1"}}}}
	f := New(Options{Resolver: r})
	for _, u := range []string{
		"https://127.0.0.1:" + c.port() + "/c", "https://example.com:" + c.port() + "/c", "https://[::ffff:127.0.0.1]:" + c.port() + "/c",
		"http://127.0.0.1:" + c.port() + "/c", // http, and loopback, both outside development
	} {
		if _, err := f.Fetch(context.Background(), u, ""); err == nil {
			t.Errorf("%s fetched", u)
		}
	}
	if _, err := f.opts.Dial(context.Background(), "tcp", c.ln.Addr().String()); !errors.Is(err, ErrAddress) {
		t.Errorf("the Control hook let a dial to %s through: %v", c.ln.Addr(), err)
	}
	c.none(t, "loopback outside development")
}

// TestDNSRebinding: the name is resolved once and the checked address is
// the one connected to; a later answer pointing at loopback is never used.
func TestDNSRebinding(t *testing.T) {
	c := newCounter(t)
	_, d, pool := public(t, doc, c)
	r := &resolver{answers: map[string][][]string{"example.com": {{"8.8.8.8"}, {"127.0.0.1"}}}}
	f := New(Options{Resolver: r, Dial: d.dial, RootCAs: pool})
	res, err := f.Fetch(context.Background(), "https://example.com:"+c.port()+"/client.json", "")
	if err != nil || string(res.Body) != `{"client_id":"x"}` {
		t.Fatalf("fetch: %v", err)
	}
	if _, err := f.Fetch(context.Background(), "https://example.com:"+c.port()+"/client.json", ""); !errors.Is(err, ErrAddress) {
		t.Errorf("after rebinding to loopback: %v, want ErrAddress", err)
	}
	if got := d.addrs(); len(got) != 1 || got[0] != "8.8.8.8:"+c.port() {
		t.Errorf("dialed %v, want the checked address once", got)
	}
	c.none(t, "rebinding")
}

// TestRedirectsNotFollowed: a redirect is an error, and its target is
// never contacted.
func TestRedirectsNotFollowed(t *testing.T) {
	c := newCounter(t)
	for _, status := range []int{301, 302, 303, 307, 308} {
		_, d, pool := public(t, func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, "https://127.0.0.1:"+c.port()+"/x", status)
		}, c)
		r := &resolver{answers: map[string][][]string{"example.com": {{"8.8.8.8"}}}}
		f := New(Options{Resolver: r, Dial: d.dial, RootCAs: pool, AllowLoopback: true})
		if _, err := f.Fetch(context.Background(), "https://example.com:"+c.port()+"/client.json", ""); !errors.Is(err, ErrRedirect) {
			t.Errorf("%d: %v, want ErrRedirect", status, err)
		}
	}
	c.none(t, "redirect targets")
}

// TestBoundedDocuments: a body over MaxBytes is an error (with or without
// Content-Length), so is a status other than 200, and a server that does
// not finish within Timeout.
func TestBoundedDocuments(t *testing.T) {
	c := newCounter(t)
	release := make(chan struct{})
	_, d, pool := public(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/big":
			w.Header().Set("Content-Length", "6000")
			w.Write([]byte(strings.Repeat("x", 6000)))
		case "/big-chunked":
			for range 6 {
				w.Write([]byte(strings.Repeat("x", 1000)))
				w.(http.Flusher).Flush()
			}
		case "/exact":
			w.Write([]byte(strings.Repeat("x", 5<<10)))
		case "/slow": // a trickle that never ends: the request's context is of no use, the server would end the answer
			w.Write([]byte("{"))
			w.(http.Flusher).Flush()
			<-release
		case "/slow-headers":
			<-release
		case "/404":
			http.NotFound(w, r)
		case "/204":
			w.WriteHeader(http.StatusNoContent)
		}
	}, c)
	t.Cleanup(func() { close(release) }) // before the server closes (cleanups run last first)
	r := &resolver{answers: map[string][][]string{"example.com": {{"8.8.8.8"}}}}
	f := New(Options{Resolver: r, Dial: d.dial, RootCAs: pool, Timeout: 300 * time.Millisecond, MaxBytes: 5 << 10})
	base := "https://example.com:" + c.port()
	for path, want := range map[string]error{"/big": ErrTooLarge, "/big-chunked": ErrTooLarge, "/404": ErrStatus, "/204": ErrStatus} {
		if _, err := f.Fetch(context.Background(), base+path, ""); !errors.Is(err, want) {
			t.Errorf("%s: %v, want %v", path, err, want)
		}
	}
	if res, err := f.Fetch(context.Background(), base+"/exact", ""); err != nil || len(res.Body) != 5<<10 {
		t.Errorf("a body of exactly MaxBytes: %v", err)
	}
	for _, path := range []string{"/slow", "/slow-headers"} {
		done := make(chan error, 1)
		go func() {
			_, err := f.Fetch(context.Background(), base+path, "")
			done <- err
		}()
		select {
		case err := <-done:
			if err == nil {
				t.Errorf("%s: fetched", path)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("%s: the fetch outlived its Timeout", path)
		}
	}
	c.none(t, "bounded documents")
}

// TestNoProxyFromEnvironment: $HTTPS_PROXY is never used, so the dialer
// always sees the real destination.
func TestNoProxyFromEnvironment(t *testing.T) {
	c := newCounter(t)
	proxy := newCounter(t)
	t.Setenv("HTTPS_PROXY", "http://127.0.0.1:"+proxy.port())
	t.Setenv("HTTP_PROXY", "http://127.0.0.1:"+proxy.port())
	_, d, pool := public(t, doc, c)
	r := &resolver{answers: map[string][][]string{"example.com": {{"8.8.8.8"}}}}
	f := New(Options{Resolver: r, Dial: d.dial, RootCAs: pool})
	if _, err := f.Fetch(context.Background(), "https://example.com:"+c.port()+"/client.json", ""); err != nil {
		t.Fatal(err)
	}
	proxy.none(t, "the environment's proxy")
}

// TestDevelopmentLoopback: with AllowLoopback, http and https on loopback
// work; http never works for a name, nor for another address.
func TestDevelopmentLoopback(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(doc))
	t.Cleanup(srv.Close)
	f := New(Options{AllowLoopback: true})
	if _, err := f.Fetch(context.Background(), srv.URL+"/client.json", ""); err != nil {
		t.Errorf("http on loopback in development: %v", err)
	}
	port := srv.Listener.Addr().(*net.TCPAddr).Port
	for _, u := range []string{fmt.Sprintf("http://localhost:%d/c", port), "http://example.com/c", "http://8.8.8.8/c", "ftp://127.0.0.1/c", "https://u:p@127.0.0.1/c", "/c"} {
		if _, err := f.Fetch(context.Background(), u, ""); !errors.Is(err, ErrURL) {
			t.Errorf("%s: %v, want ErrURL", u, err)
		}
	}
	r := &resolver{answers: map[string][][]string{"example.com": {{"10.0.0.1"}}}}
	d := &dialer{}
	f = New(Options{AllowLoopback: true, Resolver: r, Dial: d.dial})
	if _, err := f.Fetch(context.Background(), "https://example.com/c", ""); !errors.Is(err, ErrAddress) || len(d.addrs()) != 0 {
		t.Errorf("a private address in development: %v, dialed %v", err, d.addrs())
	}
}

// TestBusy: past MaxInFlight, a fetch fails at once.
func TestBusy(t *testing.T) {
	c := newCounter(t)
	release, started := make(chan struct{}), make(chan struct{}, 1)
	_, d, pool := public(t, func(w http.ResponseWriter, r *http.Request) {
		started <- struct{}{}
		<-release
	}, c)
	r := &resolver{answers: map[string][][]string{"example.com": {{"8.8.8.8"}}}}
	f := New(Options{Resolver: r, Dial: d.dial, RootCAs: pool, MaxInFlight: 1})
	go f.Fetch(context.Background(), "https://example.com:"+c.port()+"/a", "")
	<-started
	_, err := f.Fetch(context.Background(), "https://example.com:"+c.port()+"/b", "")
	close(release)
	if !errors.Is(err, ErrBusy) {
		t.Errorf("second fetch: %v, want ErrBusy", err)
	}
}

// TestAllowLoopback: AllowLoopback allows loopback addresses, and only
// those, beside the public ones.
func TestAllowLoopback(t *testing.T) {
	strict, dev := New(Options{}), New(Options{AllowLoopback: true})
	for s, want := range map[string][2]bool{ // strict, dev
		"127.0.0.1": {false, true}, "::1": {false, true}, "::ffff:127.0.0.1": {false, true},
		"10.0.0.1": {false, false}, "169.254.169.254": {false, false}, "fe80::1": {false, false}, "8.8.8.8": {true, true},
	} {
		a := netip.MustParseAddr(s)
		if strict.allowed(a) != want[0] || dev.allowed(a) != want[1] {
			t.Errorf("allowed(%s): strict %v, development %v", s, strict.allowed(a), dev.allowed(a))
		}
	}
}

func TestLifetime(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		h    http.Header
		want time.Duration
	}{
		{http.Header{"Cache-Control": {"max-age=600"}}, 10 * time.Minute},
		{http.Header{"Cache-Control": {"public, MAX-AGE=60"}, "Age": {"20"}}, 40 * time.Second},
		{http.Header{"Cache-Control": {`max-age="30"`}}, 30 * time.Second},
		{http.Header{"Cache-Control": {"max-age=600, no-store"}}, 0},
		{http.Header{"Cache-Control": {"no-cache"}}, 0},
		{http.Header{"Cache-Control": {"max-age=-5"}}, 0},
		{http.Header{"Cache-Control": {"max-age=99999999999999"}}, (1 << 31) * time.Second},
		{http.Header{"Expires": {now.Add(time.Hour).Format(http.TimeFormat)}, "Date": {now.Format(http.TimeFormat)}}, time.Hour},
		{http.Header{"Expires": {now.Add(time.Hour).Format(http.TimeFormat)}}, time.Hour},
		{http.Header{"Expires": {"0"}}, 0},
		{http.Header{}, 0},
	} {
		if got := Lifetime(c.h, now); got != c.want {
			t.Errorf("Lifetime(%v) = %v, want %v", c.h, got, c.want)
		}
	}
}

// FuzzLifetime: whatever cache headers a server sends, the lifetime is
// never negative and never more than 2^31 seconds.
func FuzzLifetime(f *testing.F) {
	f.Add("max-age=60, public", "", "", "5")
	f.Add(`no-store,max-age="1"`, "Thu, 01 Jan 2026 00:00:00 GMT", "Wed, 31 Dec 2025 00:00:00 GMT", "")
	f.Add("max-age=99999999999999999999", "x", "y", "-3")
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, cc, expires, date, age string) {
		h := http.Header{"Cache-Control": {cc}, "Expires": {expires}, "Date": {date}, "Age": {age}}
		if d := Lifetime(h, now); d < 0 || d > (1<<31)*time.Second {
			t.Fatalf("Lifetime = %v", d)
		}
	})
}
