package middleware

import (
	"fmt"
	"net/url"

	"github.com/oauthkit/oauthkit/internal/loopback"
)

// checkEndpoint accepts https URLs, and http ones on a loopback IP literal
// (package loopback: 127.0.0.0/8 or ::1, never a host name, localhost
// included), for development.
func checkEndpoint(s string) error {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" {
		return fmt.Errorf("%q is not an absolute URL", s)
	}
	if u.Scheme == "https" || u.Scheme == "http" && loopback.Host(u.Hostname()) {
		return nil
	}
	return fmt.Errorf("%q must use https (http only on a loopback IP literal such as 127.0.0.1 or [::1])", s)
}
