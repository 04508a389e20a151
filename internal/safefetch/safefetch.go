// Package safefetch fetches small documents from URLs that someone else
// chose — client ID metadata documents, whose URL is whatever a client
// names as its client_id — without letting the URL make the server reach
// what it should not (server-side request forgery, SSRF):
//
//   - https only; http only for a loopback IP literal, and only when
//     loopback is allowed (development);
//   - the host is resolved once, and every address it resolves to must be
//     a public unicast address (Allowed): no private, loopback, link-local,
//     unspecified, multicast, CGNAT, documentation, benchmarking, reserved,
//     NAT64, 6to4, Teredo or IPv4-mapped private address. A name with one
//     disallowed address is refused whole, before any connection;
//   - the connection goes to the checked IP itself, never to the name
//     again, so DNS rebinding cannot switch it; and the dialer's Control
//     hook checks the address actually connected to once more;
//   - no proxy from the environment, no redirects (a 3xx is an error), no
//     status but 200, no compression;
//   - a bounded body (MaxBytes: longer is an error, not a truncation), a
//     bounded time for the whole exchange (Timeout), bounded headers, and a
//     bounded number of fetches in flight (MaxInFlight: more are refused at
//     once).
//
// Resolver and Dial are injectable for tests; Lifetime reads a response's
// HTTP cache lifetime (RFC 9111).
package safefetch

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/oauthkit/oauthkit/internal/loopback"
)

// Errors a fetch fails with (wrapped, with details).
var (
	ErrURL      = errors.New("safefetch: URL not allowed")
	ErrAddress  = errors.New("safefetch: address not allowed")
	ErrStatus   = errors.New("safefetch: response status not 200")
	ErrTooLarge = errors.New("safefetch: response too large")
	ErrBusy     = errors.New("safefetch: too many fetches in flight")
)

// Options configure a Fetcher. Each field's comment gives its default.
type Options struct {
	// AllowLoopback also allows loopback addresses (127.0.0.0/8, ::1), and
	// http URLs whose host is a loopback IP literal: for development, when
	// the server itself runs on loopback. Default false.
	AllowLoopback bool
	// MaxBytes bounds the response body. Default 5 KiB.
	MaxBytes int64
	// Timeout bounds the whole exchange, connection to last byte. Default
	// 5 seconds.
	Timeout time.Duration
	// MaxInFlight bounds concurrent fetches; one more fails with ErrBusy.
	// Default 8.
	MaxInFlight int
	// Accept is the request's Accept header. Default none.
	Accept string
	// RootCAs verify servers' certificates. Default the system's.
	RootCAs *x509.CertPool

	// Resolver resolves host names. Default net.DefaultResolver.
	Resolver Resolver
	// Dial connects to an address already checked, an IP and port. Default
	// a net.Dialer whose Control hook refuses a disallowed address.
	Dial func(ctx context.Context, network, address string) (net.Conn, error)
}

// Resolver is the part of *net.Resolver a Fetcher uses.
type Resolver interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

// Fetcher fetches documents; it is safe for concurrent use.
type Fetcher struct {
	o      Options
	client *http.Client
	slots  chan struct{}
}

// New returns a Fetcher with o's settings, defaults filled in.
func New(o Options) *Fetcher {
	if o.MaxBytes <= 0 {
		o.MaxBytes = 5 << 10
	}
	if o.Timeout <= 0 {
		o.Timeout = 5 * time.Second
	}
	if o.MaxInFlight <= 0 {
		o.MaxInFlight = 8
	}
	if o.Resolver == nil {
		o.Resolver = net.DefaultResolver
	}
	f := &Fetcher{o: o, slots: make(chan struct{}, o.MaxInFlight)}
	if f.o.Dial == nil {
		d := &net.Dialer{Timeout: o.Timeout, Control: f.control}
		f.o.Dial = d.DialContext
	}
	tr := &http.Transport{
		Proxy:                  nil, // never $HTTPS_PROXY: the dialer must see the real address
		DialContext:            f.dial,
		TLSClientConfig:        &tls.Config{RootCAs: o.RootCAs, MinVersion: tls.VersionTLS12},
		TLSHandshakeTimeout:    o.Timeout,
		ResponseHeaderTimeout:  o.Timeout,
		MaxResponseHeaderBytes: 16 << 10,
		DisableKeepAlives:      true,
		DisableCompression:     true,
	}
	f.client = &http.Client{
		Transport:     tr,
		Timeout:       o.Timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	return f
}

// Response is a fetched document.
type Response struct {
	Body   []byte
	Header http.Header
}

// Get fetches rawURL. It fails with an error matching one of the package's
// errors, or a network or TLS error.
func (f *Fetcher) Get(ctx context.Context, rawURL string) (*Response, error) {
	if err := f.checkURL(rawURL); err != nil {
		return nil, err
	}
	select {
	case f.slots <- struct{}{}:
		defer func() { <-f.slots }()
	default:
		return nil, ErrBusy
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrURL, err)
	}
	if f.o.Accept != "" {
		req.Header.Set("Accept", f.o.Accept)
	}
	res, err := f.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%w: %d", ErrStatus, res.StatusCode)
	}
	if res.ContentLength > f.o.MaxBytes {
		return nil, fmt.Errorf("%w: %d bytes", ErrTooLarge, res.ContentLength)
	}
	body, err := io.ReadAll(io.LimitReader(res.Body, f.o.MaxBytes+1))
	if err != nil {
		return nil, err
	}
	if int64(len(body)) > f.o.MaxBytes {
		return nil, fmt.Errorf("%w: more than %d bytes", ErrTooLarge, f.o.MaxBytes)
	}
	return &Response{Body: body, Header: res.Header}, nil
}

// checkURL allows https URLs, and http ones on a loopback IP literal when
// loopback is allowed; never userinfo.
func (f *Fetcher) checkURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.User != nil || u.Opaque != "" {
		return fmt.Errorf("%w: not an absolute URL with a host and no userinfo", ErrURL)
	}
	switch {
	case u.Scheme == "https":
	case u.Scheme == "http" && f.o.AllowLoopback && loopback.Host(u.Hostname()):
	default:
		return fmt.Errorf("%w: the scheme must be https", ErrURL)
	}
	return nil
}

// dial resolves the host of addr once, checks every address, and connects
// to a checked one.
func (f *Fetcher) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	var ips []netip.Addr
	if a, err := netip.ParseAddr(host); err == nil {
		ips = []netip.Addr{a}
	} else if ips, err = f.o.Resolver.LookupNetIP(ctx, "ip", host); err != nil {
		return nil, err
	}
	if len(ips) == 0 {
		return nil, fmt.Errorf("safefetch: %s has no address", host)
	}
	for _, ip := range ips {
		if !Allowed(ip, f.o.AllowLoopback) {
			return nil, fmt.Errorf("%w: %s resolves to %s", ErrAddress, host, ip)
		}
	}
	var first error
	for _, ip := range ips {
		c, err := f.o.Dial(ctx, network, net.JoinHostPort(ip.Unmap().String(), port))
		if err == nil {
			return c, nil
		}
		if first == nil {
			first = err
		}
	}
	return nil, first
}

// control is the dialer's last check, on the address the socket is about
// to connect to.
func (f *Fetcher) control(_, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil || !Allowed(ap.Addr(), f.o.AllowLoopback) {
		return fmt.Errorf("%w: %s", ErrAddress, address)
	}
	return nil
}

// Allowed reports whether a fetch may connect to a: a public unicast
// address (IPv4-mapped IPv6 addresses are judged as the IPv4 address they
// map), or, when loopback is true, a loopback one too.
func Allowed(a netip.Addr, loopback bool) bool {
	a = a.Unmap()
	if !a.IsValid() || a.Zone() != "" {
		return false
	}
	if a.IsLoopback() {
		return loopback
	}
	if !a.IsGlobalUnicast() || a.IsPrivate() {
		return false
	}
	for _, p := range special {
		if p.Contains(a) {
			return false
		}
	}
	if a.Is6() && !globalUnicast6.Contains(a) {
		return false
	}
	return true
}

// globalUnicast6 is where IANA allocates global unicast IPv6 addresses;
// the rest of the space is reserved or special.
var globalUnicast6 = netip.MustParsePrefix("2000::/3")

// special are the RFC 6890 special-use blocks (and their successors) that
// IsGlobalUnicast and IsPrivate leave in.
var special = func() []netip.Prefix {
	var ps []netip.Prefix
	for _, s := range []string{
		"0.0.0.0/8",       // this network
		"100.64.0.0/10",   // shared address space, CGNAT (RFC 6598)
		"192.0.0.0/24",    // IETF protocol assignments
		"192.0.2.0/24",    // TEST-NET-1
		"192.88.99.0/24",  // 6to4 relay anycast
		"198.18.0.0/15",   // benchmarking
		"198.51.100.0/24", // TEST-NET-2
		"203.0.113.0/24",  // TEST-NET-3
		"240.0.0.0/4",     // reserved, and the limited broadcast address
		"64:ff9b::/96",    // NAT64, which would reach IPv4 addresses (RFC 6052)
		"64:ff9b:1::/48",  // local-use NAT64 (RFC 8215)
		"100::/64",        // discard-only
		"2001::/23",       // IETF protocol assignments, Teredo included
		"2001:db8::/32",   // documentation
		"2002::/16",       // 6to4, which embeds an IPv4 address
		"3fff::/20",       // documentation (RFC 9637)
	} {
		ps = append(ps, netip.MustParsePrefix(s))
	}
	return ps
}()

// Lifetime is how long a response with header h, received at now, stays
// fresh by its cache headers (RFC 9111 §4.2.1): max-age, else Expires
// against Date, less Age, at most 2^31 seconds. It is zero for no-store,
// no-cache, or no explicit lifetime.
func Lifetime(h http.Header, now time.Time) time.Duration {
	maxAge := time.Duration(-1)
	for _, v := range h.Values("Cache-Control") {
		for d := range strings.SplitSeq(v, ",") {
			name, arg, _ := strings.Cut(strings.TrimSpace(d), "=")
			switch strings.ToLower(strings.TrimSpace(name)) {
			case "no-store", "no-cache":
				return 0
			case "max-age":
				n, err := strconv.ParseInt(strings.Trim(strings.TrimSpace(arg), `"`), 10, 64)
				if err == nil && n >= 0 && maxAge < 0 {
					maxAge = time.Duration(min(n, 1<<31)) * time.Second
				}
			}
		}
	}
	if maxAge < 0 {
		exp, err := http.ParseTime(h.Get("Expires"))
		if err != nil {
			return 0
		}
		date, err := http.ParseTime(h.Get("Date"))
		if err != nil {
			date = now
		}
		maxAge = exp.Sub(date)
	}
	if age, err := strconv.ParseInt(h.Get("Age"), 10, 64); err == nil && age > 0 {
		maxAge -= time.Duration(min(age, 1<<31)) * time.Second
	}
	return min(max(maxAge, 0), maxLifetime)
}

// maxLifetime caps Lifetime: RFC 9111 §1.2.2's largest delta-seconds.
const maxLifetime = (1 << 31) * time.Second
