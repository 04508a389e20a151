package safefetch

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"syscall"
	"time"

	"github.com/oauthkit/oauthkit/internal/loopback"
)

// Options configure a Fetcher. The zero value is the strict default.
type Options struct {
	// AllowLoopback lets through URLs whose host is a loopback IP literal
	// (127.0.0.0/8, ::1), with http or https, for development. Default
	// false: every loopback address is refused.
	AllowLoopback bool
	// Timeout bounds each fetch, connection and body included. Default 5
	// seconds.
	Timeout time.Duration
	// MaxBytes bounds a document. Default 256 KiB.
	MaxBytes int64
}

// Errors of Get. The messages never carry the document.
var (
	ErrURL       = errors.New("safefetch: URL not allowed")
	ErrAddress   = errors.New("safefetch: address not allowed")
	ErrRedirect  = errors.New("safefetch: redirects are not followed")
	ErrTooLarge  = errors.New("safefetch: document too large")
	ErrStatus    = errors.New("safefetch: unexpected status")
	errNoAddress = errors.New("no address")
)

// Fetcher gets documents under its Options. It is safe for concurrent use.
type Fetcher struct {
	opts   Options
	client *http.Client
}

// New returns a Fetcher with its own connection pool.
func New(o Options) *Fetcher {
	if o.Timeout <= 0 {
		o.Timeout = 5 * time.Second
	}
	if o.MaxBytes <= 0 {
		o.MaxBytes = 256 << 10
	}
	f := &Fetcher{opts: o}
	dialer := &net.Dialer{Timeout: o.Timeout, Control: f.control}
	tr := &http.Transport{
		Proxy:                  nil, // a proxy would dial for us, unchecked
		DialContext:            dialer.DialContext,
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

// Get fetches raw with GET and the given Accept header, and returns the
// body of a 200 answer, at most MaxBytes. The fetch ends with ctx or after
// Timeout, whichever comes first.
func (f *Fetcher) Get(ctx context.Context, raw, accept string) ([]byte, error) {
	if err := f.CheckURL(raw); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, f.opts.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, raw, nil)
	if err != nil {
		return nil, ErrURL
	}
	req.Header.Set("Accept", accept)
	res, err := f.client.Do(req)
	if err != nil {
		switch {
		case errors.Is(err, ErrRedirect):
			return nil, ErrRedirect
		case errors.Is(err, ErrAddress):
			return nil, ErrAddress
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
	return body, nil
}

// control runs before every connection, on the address resolved: it
// refuses what is not public (or loopback, when allowed).
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
