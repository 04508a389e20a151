package middleware_test

import (
	"testing"

	"github.com/oauthkit/oauthkit/middleware"
)

// TestEndpointHTTPOnlyOnLoopback: the JWKS and introspection URLs may use
// http only when their host is a loopback IP literal; host names that
// merely start like one, and localhost itself, need https.
func TestEndpointHTTPOnlyOnLoopback(t *testing.T) {
	for u, ok := range map[string]bool{
		"https://as.example.com/x":            true,
		"http://127.0.0.1:5000/x":             true,
		"http://127.3.2.1/x":                  true,
		"http://[::1]:5000/x":                 true,
		"http://as.example.com/x":             false,
		"http://127.attacker.example/x":       false,
		"http://127.0.0.1.attacker.example/x": false,
		"http://localhost.attacker.example/x": false,
		"http://localhost:5000/x":             false,
		"http://[::ffff:127.0.0.1]:5000/x":    false,
		"http://127.1/x":                      false,
		"ftp://127.0.0.1/x":                   false,
	} {
		_, err := middleware.NewJWKSValidator(middleware.JWKSConfig{URL: u, Issuer: tIss, Audience: tAud})
		if (err == nil) != ok {
			t.Errorf("JWKS URL %s: err = %v, want accepted = %v", u, err, ok)
		}
		_, err = middleware.NewIntrospectionValidator(middleware.IntrospectionConfig{URL: u, ClientID: "rs", ClientSecret: "s"})
		if (err == nil) != ok {
			t.Errorf("introspection URL %s: err = %v, want accepted = %v", u, err, ok)
		}
	}
}
