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

// Options configure a Fetcher. The zero value is the strict default.
type Options struct {
	// AllowLoopback lets through URLs whose host is a loopback IP literal
	// (127.0.0.0/8, ::1), with http or https, and connections to loopback
	// addresses, for development. Default false: every loopback address is
	// refused.
	AllowLoopback bool
	// Timeout bounds each fetch, connection and body included. Default 5
	// seconds.
	Timeout time.Duration
	// MaxBytes bounds a document. Default 256 KiB.
	MaxBytes int64
	// MaxInFlight bounds concurrent fetches: one more fails at once with
	// ErrBusy. Default 0: no bound.
	MaxInFlight int
	// RootCAs verify servers' certificates. Default the system's.
	RootCAs *x509.CertPool

	// Resolver resolves host names. Default net.DefaultResolver.
	Resolver Resolver
	// Dial connects to an address already checked: an IP and a port.
	// Default a net.Dialer whose Control hook checks that address again.
	Dial func(ctx context.Context, network, address string) (net.Conn, error)
}

// Resolver is the part of *net.Resolver a Fetcher uses.
type Resolver interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

// Errors of Get. The messages never carry the document.
var (
	ErrURL       = errors.New("safefetch: URL not allowed")
	ErrAddress   = errors.New("safefetch: address not allowed")
	ErrRedirect  = errors.New("safefetch: redirects are not followed")
	ErrTooLarge  = errors.New("safefetch: document too large")
	ErrStatus    = errors.New("safefetch: unexpected status")
	ErrBusy      = errors.New("safefetch: too many fetches in flight")
	errNoAddress = errors.New("no address")
)

// Fetcher gets documents under its Options. It is safe for concurrent use.
type Fetcher struct {
	opts   Options
	client *http.Client
	slots  chan struct{} // nil: no bound on fetches in flight
}

// New returns a Fetcher with its own connection pool.
func New(o Options) *Fetcher {
	if o.Timeout <= 0 {
		o.Timeout = 5 * time.Second
	}
	if o.MaxBytes <= 0 {
		o.MaxBytes = 256 << 10
	}
	if o.Resolver == nil {
		o.Resolver = net.DefaultResolver
	}
	f := &Fetcher{opts: o}
	if o.MaxInFlight > 0 {
		f.slots = make(chan struct{}, o.MaxInFlight)
	}
	if f.opts.Dial == nil {
		dialer := &net.Dialer{Timeout: o.Timeout, Control: f.control}
		f.opts.Dial = dialer.DialContext
	}
	tr := &http.Transport{
		Proxy:                  nil, // a proxy would dial for us, unchecked
		DialContext:            f.dial,
		TLSClientConfig:        &tls.Config{RootCAs: o.RootCAs, MinVersion: tls.VersionTLS12},
		ForceAttemptHTTP2:      true,
		MaxIdleConns:           16,
		IdleConnTimeout:        30 * time.Second,
		TLSHandshakeTimeout:    o.Timeout,
		ResponseHeaderTimeout:  o.Timeout,
		MaxResponseHeaderBytes: 16 << 10,
	}
	f.client = &http.Client{
		Transport: tr,
		Timeout:   o.Timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return ErrRedirect
		},
	}
	return f
}

// CheckURL reports whether raw may be fetched at all: an absolute https
// URL with a host and no userinfo, or, with AllowLoopback, an http one on a
// loopback IP literal. Addresses are checked again when dialled.
func (f *Fetcher) CheckURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.User != nil || u.Opaque != "" {
		return ErrURL
	}
	switch {
	case u.Scheme == "https":
	case u.Scheme == "http" && f.opts.AllowLoopback && loopback.Host(u.Hostname()):
	default:
		return ErrURL
	}
	if a, err := netip.ParseAddr(u.Hostname()); err == nil && !f.allowed(a) {
		return ErrAddress
	}
	return nil
}

// Response is a fetched document with its response header (for its cache
// lifetime and content type).
type Response struct {
	Body   []byte
	Header http.Header
}

// Get fetches raw with GET and the given Accept header, and returns the
// body of a 200 answer, at most MaxBytes. The fetch ends with ctx or after
// Timeout, whichever comes first.
func (f *Fetcher) Get(ctx context.Context, raw, accept string) ([]byte, error) {
	res, err := f.Fetch(ctx, raw, accept)
	if err != nil {
		return nil, err
	}
	return res.Body, nil
}

// Fetch is Get returning the response header too.
func (f *Fetcher) Fetch(ctx context.Context, raw, accept string) (*Response, error) {
	if err := f.CheckURL(raw); err != nil {
		return nil, err
	}
	if f.slots != nil {
		select {
		case f.slots <- struct{}{}:
			defer func() { <-f.slots }()
		default:
			return nil, ErrBusy
		}
	}
	ctx, cancel := context.WithTimeout(ctx, f.opts.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, raw, nil)
	if err != nil {
		return nil, ErrURL
	}
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	res, err := f.client.Do(req)
	if err != nil {
		switch {
		case errors.Is(err, ErrRedirect):
			return nil, ErrRedirect
		case errors.Is(err, ErrAddress):
			return nil, fmt.Errorf("%w: %v", ErrAddress, err)
		}
		return nil, fmt.Errorf("safefetch: %w", err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%w %d", ErrStatus, res.StatusCode)
	}
	if res.ContentLength > f.opts.MaxBytes {
		return nil, ErrTooLarge
	}
	body, err := io.ReadAll(io.LimitReader(res.Body, f.opts.MaxBytes+1))
	if err != nil {
		return nil, fmt.Errorf("safefetch: reading the body: %w", err)
	}
	if int64(len(body)) > f.opts.MaxBytes {
		return nil, ErrTooLarge
	}
	return &Response{Body: body, Header: res.Header}, nil
}

// dial resolves the host of addr once, checks every address it resolves
// to (one disallowed address refuses the name whole, before any
// connection), and connects to a checked IP itself, so that a second
// resolution (DNS rebinding) never decides where the connection goes.
func (f *Fetcher) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	var ips []netip.Addr
	if a, err := netip.ParseAddr(host); err == nil {
		ips = []netip.Addr{a}
	} else if ips, err = f.opts.Resolver.LookupNetIP(ctx, "ip", host); err != nil {
		return nil, err
	}
	if len(ips) == 0 {
		return nil, fmt.Errorf("%w: %v", ErrAddress, errNoAddress)
	}
	for _, ip := range ips {
		if !f.allowed(ip) {
			return nil, fmt.Errorf("%w: %s", ErrAddress, ip)
		}
	}
	var first error
	for _, ip := range ips {
		c, err := f.opts.Dial(ctx, network, net.JoinHostPort(ip.Unmap().String(), port))
		if err == nil {
			return c, nil
		}
		if first == nil {
			first = err
		}
	}
	return nil, first
}

// control runs before every connection of the default dialer, on the
// address about to be connected to: it refuses what is not public (or
// loopback, when allowed) once more.
func (f *Fetcher) control(_, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrAddress, errNoAddress)
	}
	if !f.allowed(ap.Addr()) {
		return fmt.Errorf("%w: %s", ErrAddress, ap.Addr())
	}
	return nil
}

func (f *Fetcher) allowed(a netip.Addr) bool {
	a = a.Unmap()
	if f.opts.AllowLoopback && a.IsLoopback() && a.Zone() == "" {
		return true
	}
	return Public(a)
}

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
