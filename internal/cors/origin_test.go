package cors

import (
	"net/url"
	"strings"
	"testing"
)

func TestParseOrigin(t *testing.T) {
	for s, want := range map[string]Origin{
		"https://app.example":           {"https", "app.example", ""},
		"https://app.example:8443":      {"https", "app.example", "8443"},
		"http://127.0.0.1:3000":         {"http", "127.0.0.1", "3000"},
		"http://[::1]:3000":             {"http", "::1", "3000"},
		"http://[::1]":                  {"http", "::1", ""},
		"https://xn--bcher-kva.example": {"https", "xn--bcher-kva.example", ""},
		"http://a_b.example":            {"http", "a_b.example", ""},
	} {
		got, ok := ParseOrigin(s)
		if !ok || got != want {
			t.Errorf("ParseOrigin(%q) = %+v, %v; want %+v", s, got, ok, want)
		}
		if got.String() != s {
			t.Errorf("%q.String() = %q", s, got.String())
		}
	}
	for _, s := range []string{
		"", "null", "file://", "ftp://app.example", "HTTPS://app.example", "https://App.example",
		"https://app.example/", "https://app.example/x", "https://app.example?x", "https://app.example#x",
		"https://app.example:443", "http://app.example:80", "https://app.example:", "https://app.example:0",
		"https://app.example:08443", "https://app.example:65536", "https://app.example:8443:1", "https://app.example: 1",
		"https://user@app.example", "https://app.example.", "https://.app.example", "https://app..example",
		"http://127.1", "http://0x7f.0.0.1", "http://127.000.0.1", "http://[::1", "http://[::1]x", "http://[0:0::1]",
		"http://[::1%25lo]", "http://[127.0.0.1]", "http://2130706433", "http://1.example.2", "https://bücher.example", "https:// app.example", "https://app example",
		"https://" + strings.Repeat("a", 300),
	} {
		if o, ok := ParseOrigin(s); ok {
			t.Errorf("ParseOrigin(%q) = %+v, want refused", s, o)
		}
	}
}

func TestOriginOf(t *testing.T) {
	for uri, want := range map[string]string{
		"https://app.example/cb":         "https://app.example",
		"https://App.Example:443/cb?x=1": "https://app.example",
		"http://127.0.0.1:8080/callback": "http://127.0.0.1:8080",
		"http://[::1]/cb":                "http://[::1]",
		"HTTP://127.0.0.1:80/":           "http://127.0.0.1",
		"https://app.example:8443":       "https://app.example:8443",
		"com.example.app:/cb":            "",
		"https://user@app.example/cb":    "",
		"/cb":                            "",
		"http://127.1/cb":                "",
		"https://bücher.example/cb":      "",
		"javascript:alert(1)":            "",
		"https://app.example:99999/cb":   "",
	} {
		o, ok := OriginOf(uri)
		if got := o.String(); ok != (want != "") || ok && got != want {
			t.Errorf("OriginOf(%q) = %q, %v; want %q", uri, got, ok, want)
		}
	}
}

func TestMatchAndSet(t *testing.T) {
	o := func(s string) Origin {
		t.Helper()
		v, ok := ParseOrigin(s)
		if !ok {
			t.Fatalf("ParseOrigin(%q)", s)
		}
		return v
	}
	loop, web := o("http://127.0.0.1:8080"), o("https://app.example")
	for _, tc := range []struct {
		reg, got Origin
		anyPort  bool
		want     bool
	}{
		{web, web, false, true},
		{web, o("https://app.example:8443"), true, false},
		{loop, loop, false, true},
		{loop, o("http://127.0.0.1:3000"), false, false},
		{loop, o("http://127.0.0.1:3000"), true, true},
		{loop, o("http://127.0.0.1"), true, true},
		{loop, o("https://127.0.0.1:3000"), true, false},
		{loop, o("http://127.0.0.2:3000"), true, false},
		{o("http://[::1]:1"), o("http://[::1]:2"), true, true},
		{o("http://localhost:1"), o("http://localhost:2"), true, false},
	} {
		if got := Match(tc.reg, tc.got, tc.anyPort); got != tc.want {
			t.Errorf("Match(%v, %v, %v) = %v", tc.reg, tc.got, tc.anyPort, got)
		}
		var s Set
		s.Add(tc.reg, tc.anyPort)
		if got := s.Contains(tc.got); got != tc.want {
			t.Errorf("Set{%v, %v}.Contains(%v) = %v", tc.reg, tc.anyPort, tc.got, got)
		}
	}
	var empty Set
	if empty.Contains(web) || empty.Len() != 0 {
		t.Error("the empty set contains something")
	}
}

// FuzzParseOrigin checks that what ParseOrigin accepts serializes back to
// the input byte for byte (so that Allow echoes exactly what the browser
// sent), is what net/url reads in it, and is its own origin.
func FuzzParseOrigin(f *testing.F) {
	for _, s := range []string{"https://app.example", "http://127.0.0.1:3000", "http://[::1]:1", "null",
		"https://app.example:443", "http://127.1", "https://user@x", "http://[::ffff:127.0.0.1]"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		o, ok := ParseOrigin(s)
		if !ok {
			return
		}
		if o.String() != s {
			t.Fatalf("ParseOrigin(%q).String() = %q", s, o.String())
		}
		u, err := url.Parse(s)
		if err != nil || u.Scheme != o.Scheme || u.Hostname() != o.Host || u.Port() != o.Port || u.User != nil || u.Path != "" || u.RawQuery != "" {
			t.Fatalf("net/url reads %q as %+v (%v), ParseOrigin as %+v", s, u, err, o)
		}
		if p, ok := OriginOf(s + "/path"); !ok || p != o {
			t.Fatalf("OriginOf(%q/path) = %+v, %v", s, p, ok)
		}
	})
}
