package resource

import (
	"errors"
	"strings"
	"testing"
)

func TestCanonical(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"https://mcp.example.com/mcp", "https://mcp.example.com/mcp"},
		{"HTTPS://MCP.Example.COM/mcp", "https://mcp.example.com/mcp"},
		{"https://mcp.example.com/MCP", "https://mcp.example.com/MCP"}, // the path keeps its case
		{"https://mcp.example.com:443/mcp", "https://mcp.example.com/mcp"},
		{"http://127.0.0.1:80/mcp", "http://127.0.0.1/mcp"},
		{"http://127.0.0.1:8080/mcp", "http://127.0.0.1:8080/mcp"},
		{"http://127.0.0.1:08080/mcp", "http://127.0.0.1:8080/mcp"},
		{"https://h:80/", "https://h:80"},
		{"https://h:/x", "https://h/x"},
		{"https://h", "https://h"},
		{"https://h/", "https://h"}, // the root path is no path
		{"https://h/mcp/", "https://h/mcp/"},
		{"https://h/a/./b/../c", "https://h/a/c"},
		{"https://h/a/%2e%2E/b", "https://h/b"},
		{"https://h/a/..", "https://h/"[:len("https://h/")-1]},
		{"https://h/a/b/..", "https://h/a/"},
		{"https://h/%7euser/%2f%41", "https://h/~user/%2FA"},
		{"https://h/mcp?tenant=a%2fb", "https://h/mcp?tenant=a%2Fb"},
		{"https://h?x=1", "https://h?x=1"},
		{"https://[::1]:8443/mcp", "https://[::1]:8443/mcp"},
		{"http://[0:0:0:0:0:0:0:1]/mcp", "http://[::1]/mcp"},
		{"https://h.example.com./mcp", "https://h.example.com./mcp"},
		{"https://under_score.example/x", "https://under_score.example/x"},
	} {
		got, err := Canonical(c.in)
		if err != nil || got != c.want {
			t.Errorf("Canonical(%q) = %q, %v; want %q", c.in, got, err, c.want)
		}
	}
}

func TestCanonicalRefuses(t *testing.T) {
	for _, in := range []string{
		"",
		"mcp.example.com",
		"/mcp",
		"urn:example:mcp",
		"ftp://h/x",
		"https:/h/x",
		"https://",
		"https:///mcp",
		"https://h/mcp#",
		"https://h/mcp#frag",
		"https://user@h/mcp",
		"https://user:pw@h/mcp",
		"https://h/mcp?",
		"https://h/mc p",
		"https://h/mcp\n",
		"https://h/\x00",
		"https://h/caf\u00e9",
		"https://h/a%zz",
		"https://h/a%4",
		"https://h/a<b>",
		"https://h/a\\b",
		"https://%68/mcp",
		"https://h%2fevil/mcp",
		"https://h:0/mcp",
		"https://h:65536/mcp",
		"https://h:-1/mcp",
		"https://h:8a/mcp",
		"https://h..x/mcp",
		"https://.h/mcp",
		"https://h!/mcp",
		"https://[::1/mcp",
		"https://[::1]x/mcp",
		"https://[127.0.0.1]/mcp",
		"https://[fe80::1%25eth0]/mcp",
		"https://h/" + strings.Repeat("a", MaxLen),
	} {
		got, err := Canonical(in)
		if err == nil {
			t.Errorf("Canonical(%q) = %q, want an error", in, got)
		} else if !errors.Is(err, ErrInvalid) {
			t.Errorf("Canonical(%q): %v does not wrap ErrInvalid", in, err)
		}
	}
}

// TestTrailingSlashPolicy states the policy: the root path and no path are
// one resource; any other path with and without a final slash are two.
func TestTrailingSlashPolicy(t *testing.T) {
	for _, c := range []struct {
		a, b string
		same bool
	}{
		{"https://h", "https://h/", true},
		{"http://127.0.0.1:5001", "http://127.0.0.1:5001/", true},
		{"https://h/mcp", "https://h/mcp/", false},
		{"https://h/mcp", "https://h/mcp//", false},
		{"https://h/mcp", "https://h/mcp/.", false},
		{"https://h/mcp", "https://h//mcp", false},
	} {
		if got := Equal(c.a, c.b); got != c.same {
			t.Errorf("Equal(%q, %q) = %v, want %v", c.a, c.b, got, c.same)
		}
	}
}

func TestEqual(t *testing.T) {
	for _, c := range []struct {
		a, b string
		want bool
	}{
		{"https://mcp.example.com/mcp", "https://mcp.example.com/mcp", true},
		{"https://MCP.example.com:443/mcp", "https://mcp.example.com/mcp", true},
		{"https://mcp.example.com/%6Dcp", "https://mcp.example.com/mcp", true},
		{"https://mcp.example.com/mcp", "http://mcp.example.com/mcp", false},
		{"https://mcp.example.com/mcp", "https://mcp.example.com:8443/mcp", false},
		{"https://mcp.example.com/mcp", "https://mcp.example.com/MCP", false},
		{"https://mcp.example.com/mcp", "https://mcp.example.com.evil/mcp", false},
		{"https://mcp.example.com/mcp", "https://mcp.example.com/mcp?x=1", false},
		{"https://mcp.example.com/a%2Fb", "https://mcp.example.com/a/b", false},
		{"oauthkit-example-api", "oauthkit-example-api", false}, // not an identifier
		{"https://h/mcp#", "https://h/mcp#", false},
		{"", "", false},
	} {
		if got := Equal(c.a, c.b); got != c.want {
			t.Errorf("Equal(%q, %q) = %v, want %v", c.a, c.b, got, c.want)
		}
		if got := Equal(c.b, c.a); got != c.want {
			t.Errorf("Equal(%q, %q) = %v, want %v", c.b, c.a, got, c.want)
		}
	}
}

func BenchmarkCanonical(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		_, _ = Canonical("https://mcp.example.com/mcp")
	}
}
