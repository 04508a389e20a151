package resource

import (
	"errors"
	"net/url"
	"strings"
	"testing"
)

// TestCanonical is the spec table: every spelling of one resource maps to
// one canonical form, the trailing-slash policy included, and what is not
// a resource identifier is refused.
func TestCanonical(t *testing.T) {
	for in, want := range map[string]string{
		"https://api.example.com/mcp":             "https://api.example.com/mcp",
		"HTTPS://API.Example.COM/mcp":             "https://api.example.com/mcp",
		"https://api.example.com:443/mcp":         "https://api.example.com/mcp",
		"http://api.example.com:80/mcp":           "http://api.example.com/mcp",
		"https://api.example.com:80/mcp":          "https://api.example.com:80/mcp",
		"http://127.0.0.1:8080/mcp":               "http://127.0.0.1:8080/mcp",
		"https://api.example.com:/mcp":            "https://api.example.com/mcp",
		"https://api.example.com:08443/mcp":       "https://api.example.com:8443/mcp",
		"https://api.example.com/%7Euser/mcp":     "https://api.example.com/~user/mcp",
		"https://api.example.com/a%2fb":           "https://api.example.com/a%2Fb",
		"https://api.example.com/MCP":             "https://api.example.com/MCP", // the path keeps its case
		"https://[::1]:8443/mcp":                  "https://[::1]:8443/mcp",
		"https://[0:0:0:0:0:0:0:1]/mcp":           "https://[::1]/mcp",
		"https://[2001:DB8::1]/mcp":               "https://[2001:db8::1]/mcp",
		"https://api.example.com/mcp?tenant=a%7e": "https://api.example.com/mcp?tenant=a~",
		// The trailing-slash policy: one trailing slash is dropped.
		"https://api.example.com":          "https://api.example.com",
		"https://api.example.com/":         "https://api.example.com",
		"https://api.example.com/mcp/":     "https://api.example.com/mcp",
		"https://api.example.com/?x=1":     "https://api.example.com?x=1",
		"https://api.example.com/mcp/?x=1": "https://api.example.com/mcp?x=1",
		"https://api.example.com/a//b":     "https://api.example.com/a//b",
	} {
		got, err := Canonical(in)
		if err != nil || got != want {
			t.Errorf("Canonical(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{
		"", "api.example.com/mcp", "/mcp", "mcp", "urn:example:mcp", "ftp://api.example.com/",
		"https://api.example.com/mcp#frag", "https://api.example.com/mcp#",
		"https://user@api.example.com/mcp", "https://user:pw@api.example.com/mcp",
		"https:///mcp", "https:api.example.com/mcp", "https://:443/mcp",
		"https://api.example.com/a/../b", "https://api.example.com/./b", "https://api.example.com/%2e%2E/b",
		"https://api.example.com/mcp//", "https://api.example.com//",
		"https://api.example.com:0/", "https://api.example.com:65536/", "https://api.example.com:x/",
		"https://api..example.com/", "https://api.example.com./", "https://.example.com/",
		"https://127.1/", "https://0x7f.0.0.1/", "https://2130706433/", "https://127.000.000.001/",
		"https://[fe80::1%25lo]/", "https://[::ffff:1.2.3.4]x/",
		"https://api.example.com/m cp", "https://api.example.com/mcp\x00", "https://bücher.example/",
		"https://api.example.com/%zz", "https://api.example.com/mcp?a=%z",
		"https://" + strings.Repeat("a", MaxLen) + ".example/",
	} {
		if got, err := Canonical(in); !errors.Is(err, ErrInvalid) {
			t.Errorf("Canonical(%q) = %q, %v; want ErrInvalid", in, got, err)
		}
	}
}

func TestEqual(t *testing.T) {
	for _, c := range []struct {
		a, b string
		want bool
	}{
		{"https://api.example.com/mcp", "HTTPS://api.EXAMPLE.com:443/mcp/", true},
		{"https://api.example.com", "https://api.example.com/", true},
		{"https://api.example.com/mcp", "https://api.example.com/MCP", false},
		{"https://api.example.com/mcp", "http://api.example.com/mcp", false},
		{"https://api.example.com/mcp", "https://api.example.com:8443/mcp", false},
		{"https://api.example.com/mcp", "https://api.example.com/mcp/x", false},
		{"https://api.example.com/mcp", "https://api.example.com/mcp?x", false},
		{"https://api.example.com/mcp#a", "https://api.example.com/mcp#a", false}, // not identifiers at all
		{"", "", false},
	} {
		if got := Equal(c.a, c.b); got != c.want {
			t.Errorf("Equal(%q, %q) = %v", c.a, c.b, got)
		}
	}
}

// FuzzCanonical checks that Canonical never panics, that its output is a
// fixed point (canonicalising it again changes nothing), and that what it
// accepts is an absolute http(s) URL without fragment or userinfo whose
// scheme and host are in lower case and that ends in no slash.
func FuzzCanonical(f *testing.F) {
	for _, s := range []string{
		"https://api.example.com/mcp/", "HTTP://127.0.0.1:80", "https://[::1]:443/a%7e?b=%2f",
		"https://a/./b", "https://a:/", "https://u@a/", "https://a/#x", "https://a//", "https://127.1/",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := Canonical(s)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("Canonical(%q): error %v does not match ErrInvalid", s, err)
			}
			return
		}
		again, err := Canonical(c)
		if err != nil || again != c {
			t.Fatalf("Canonical(%q) = %q, but Canonical of that = %q, %v", s, c, again, err)
		}
		u, err := url.Parse(c)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil || u.Fragment != "" {
			t.Fatalf("Canonical(%q) = %q: not an http(s) URL with a host", s, c)
		}
		if u.Host != strings.ToLower(u.Host) || strings.HasSuffix(u.EscapedPath(), "/") {
			t.Fatalf("Canonical(%q) = %q: host case or trailing slash kept", s, c)
		}
		if !Equal(s, c) {
			t.Fatalf("Equal(%q, its canonical form %q) is false", s, c)
		}
	})
}
