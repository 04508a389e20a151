package dpop

import "testing"

// TestNormalizeHTU is the spec table of RFC 9449 §4.3's htu comparison:
// RFC 3986 §6.2.2 syntax-based normalisation (case of scheme and host,
// percent-encoding, dot segments) and §6.2.3 scheme-based normalisation
// (default ports, empty path), query and fragment ignored.
func TestNormalizeHTU(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"https://server.example.com/token", "https://server.example.com/token"},
		{"HTTPS://Server.Example.COM/token", "https://server.example.com/token"},
		{"https://server.example.com:443/token", "https://server.example.com/token"},
		{"http://server.example.com:80/token", "http://server.example.com/token"},
		{"http://server.example.com:443/token", "http://server.example.com:443/token"},
		{"https://server.example.com:8443/token", "https://server.example.com:8443/token"},
		{"https://server.example.com:/token", "https://server.example.com/token"},
		{"https://server.example.com", "https://server.example.com/"},
		{"https://server.example.com?x=1", "https://server.example.com/"},
		{"https://server.example.com/token?code=1#frag", "https://server.example.com/token"},
		{"https://server.example.com/token#frag", "https://server.example.com/token"},
		{"https://server.example.com/%7Euser/%41", "https://server.example.com/~user/A"},
		{"https://server.example.com/a%2fb%3a", "https://server.example.com/a%2Fb%3A"},
		{"https://server.example.com/a/./b/../c", "https://server.example.com/a/c"},
		{"https://server.example.com/a/b/..", "https://server.example.com/a/"},
		{"https://server.example.com/../a", "https://server.example.com/a"},
		{"https://server.example.com/a//b/", "https://server.example.com/a//b/"},
		{"https://server.example.com/a/%2E%2E/b", "https://server.example.com/b"},
		{"https://[::1]:443/api", "https://[::1]/api"},
		{"http://[::1]:5000/api", "http://[::1]:5000/api"},
		{"https://[2001:DB8::1]/api", "https://[2001:db8::1]/api"},
		{"http://127.0.0.1:5000/api/data", "http://127.0.0.1:5000/api/data"},
		{"https://server.example.com:0443/token", "https://server.example.com/token"},
	} {
		got, err := NormalizeHTU(c.in)
		if err != nil || got != c.want {
			t.Errorf("NormalizeHTU(%q) = %q, %v; want %q", c.in, got, err, c.want)
		}
		// Normalising is idempotent.
		if again, err := NormalizeHTU(got); err != nil || again != got {
			t.Errorf("NormalizeHTU(%q) = %q, %v; not idempotent", got, again, err)
		}
	}
	for _, bad := range []string{
		"", "/token", "server.example.com/token", "ftp://server.example.com/", "https:/server.example.com/",
		"https://", "https:///token", "https://user@server.example.com/", "https://user:pw@server.example.com/",
		"https://server.example.com:port/", "https://server.example.com:99999/", "https://server.example.com:1:2/",
		"https://server.example.com/a b", "https://server.example.com/%zz", "https://server.example.com/%4",
		"https://ser ver.example.com/", "https://bücher.example/", "https://server.example.com/ä",
		"https://[::1/api", "https://[zz::1]/api", "https://::1/api", "https://server.example.com/\x00",
		"https://server.example.com\\evil.example/",
	} {
		if got, err := NormalizeHTU(bad); err == nil {
			t.Errorf("NormalizeHTU(%q) = %q, want an error", bad, got)
		}
	}
}
