package main

import (
	"fmt"
	"net"
	"net/netip"

	"github.com/oauthkit/oauthkit/internal/loopback"
)

// localURL is the http URL of the listening address addr that a client on
// this machine reaches: addr itself, or 127.0.0.1 and its port when addr
// names every interface (":5000", "0.0.0.0:5000", "[::]:5000").
func localURL(addr string) (string, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", fmt.Errorf("-addr %q: want HOST:PORT, such as 127.0.0.1:5000, or :PORT for every interface", addr)
	}
	if ip, err := netip.ParseAddr(host); host == "" || err == nil && ip.IsUnspecified() {
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, port), nil
}

// defaultIssuer is the issuer when -issuer is not given: local, the URL of
// addr on this machine, which serves as an http issuer only on a loopback
// IP literal (grant.Config.Issuer).
func defaultIssuer(addr, local string) (string, error) {
	host, _, _ := net.SplitHostPort(local[len("http://"):])
	if !loopback.Host(host) {
		return "", fmt.Errorf("-addr %s: give -issuer too, the https URL clients reach this server at (TLS in front of it): an http issuer is allowed only on a loopback address such as 127.0.0.1 (or with -addr :PORT, every interface, and the issuer http://127.0.0.1:PORT)", addr)
	}
	return local, nil
}
