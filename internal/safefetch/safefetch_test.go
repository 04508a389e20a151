package safefetch

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestPublic(t *testing.T) {
	for addr, want := range map[string]bool{
		"93.184.215.14": true, "8.8.8.8": true, "2606:4700:4700::1111": true, "::ffff:8.8.8.8": true,
		"127.0.0.1": false, "::1": false, "10.1.2.3": false, "172.16.0.1": false, "172.31.255.255": false,
		"192.168.1.1": false, "169.254.169.254": false, "fe80::1": false, "fc00::1": false, "fd12::1": false,
		"0.0.0.0": false, "::": false, "0.1.2.3": false, "100.64.0.1": false, "224.0.0.1": false, "ff02::1": false,
		"255.255.255.255": false, "240.0.0.1": false, "192.0.2.1": false, "198.18.0.1": false,
		"::ffff:127.0.0.1": false, "::ffff:10.0.0.1": false, "::ffff:169.254.169.254": false,
		"64:ff9b::a9fe:a9fe": false, "2002:a9fe:a9fe::1": false, "2001::1": false, "2001:db8::1": false,
		"fe80::1%eth0": false,
	} {
		if got := Public(netip.MustParseAddr(addr)); got != want {
			t.Errorf("Public(%s) = %v, want %v", addr, got, want)
		}
	}
}

func TestCheckURL(t *testing.T) {
	strict, dev := New(Options{}), New(Options{AllowLoopback: true})
	for raw, want := range map[string][2]error{ // strict, dev
		"https://keys.example.com/jwks.json": {nil, nil},
		"https://8.8.8.8/jwks":               {nil, nil},
		"http://keys.example.com/jwks":       {ErrURL, ErrURL},
		"http://127.0.0.1:8080/jwks":         {ErrURL, nil},
		"https://127.0.0.1/jwks":             {ErrAddress, nil},
		"https://[::1]/jwks":                 {ErrAddress, nil},
		"http://localhost/jwks":              {ErrURL, ErrURL},
		"https://10.0.0.1/jwks":              {ErrAddress, ErrAddress},
		"https://169.254.169.254/latest":     {ErrAddress, ErrAddress},
		"https://[::ffff:10.0.0.1]/":         {ErrAddress, ErrAddress},
		"https://user:pw@keys.example.com/":  {ErrURL, ErrURL},
		"ftp://keys.example.com/":            {ErrURL, ErrURL},
		"file:///etc/passwd":                 {ErrURL, ErrURL},
		"/relative":                          {ErrURL, ErrURL},
		"https:opaque":                       {ErrURL, ErrURL},
		"":                                   {ErrURL, ErrURL},
	} {
		if err := strict.CheckURL(raw); !errors.Is(err, want[0]) {
			t.Errorf("strict CheckURL(%q) = %v, want %v", raw, err, want[0])
		}
		if err := dev.CheckURL(raw); !errors.Is(err, want[1]) {
			t.Errorf("development CheckURL(%q) = %v, want %v", raw, err, want[1])
		}
	}
}

func TestGet(t *testing.T) {
	ctx := context.Background()
	mux := http.NewServeMux()
	mux.HandleFunc("/ok", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Accept") != "application/jwk-set+json" {
			t.Errorf("Accept: %q", r.Header.Get("Accept"))
		}
		w.Write([]byte(`{"keys":[]}`))
	})
	mux.HandleFunc("/redirect", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/ok", http.StatusFound) })
	mux.HandleFunc("/missing", http.NotFound)
	mux.HandleFunc("/big", func(w http.ResponseWriter, r *http.Request) { w.Write(make([]byte, 2048)) })
	mux.HandleFunc("/big-chunked", func(w http.ResponseWriter, r *http.Request) {
		for range 4 {
			w.Write(make([]byte, 512))
			w.(http.Flusher).Flush()
		}
	})
	mux.HandleFunc("/hang", func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() })
	srv := httptest.NewServer(mux)
	defer srv.Close()
	dev := New(Options{AllowLoopback: true, MaxBytes: 1024, Timeout: 300 * time.Millisecond})
	body, err := dev.Get(ctx, srv.URL+"/ok", "application/jwk-set+json")
	if err != nil || string(body) != `{"keys":[]}` {
		t.Fatalf("loopback in development: %q %v", body, err)
	}
	for path, want := range map[string]error{"/redirect": ErrRedirect, "/missing": ErrStatus, "/big": ErrTooLarge, "/big-chunked": ErrTooLarge} {
		if _, err := dev.Get(ctx, srv.URL+path, "application/jwk-set+json"); !errors.Is(err, want) {
			t.Errorf("%s: %v, want %v", path, err, want)
		}
	}
	if _, err := dev.Get(ctx, srv.URL+"/hang", "application/jwk-set+json"); err == nil || !strings.Contains(strings.ToLower(err.Error()), "timeout") && !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("a server that never answers: %v", err)
	}
	// Strict: the loopback server is out of reach however it is named.
	strict := New(Options{})
	if _, err := strict.Get(ctx, srv.URL+"/ok", "application/jwk-set+json"); !errors.Is(err, ErrURL) {
		t.Errorf("http loopback, strict: %v", err)
	}
	tls := httptest.NewTLSServer(mux)
	defer tls.Close()
	u, _ := url.Parse(tls.URL)
	if _, err := strict.Get(ctx, tls.URL+"/ok", "application/jwk-set+json"); !errors.Is(err, ErrAddress) {
		t.Errorf("https loopback literal, strict: %v", err)
	}
	// A name that resolves to loopback is refused when dialled, before TLS.
	byName := "https://localhost:" + u.Port() + "/ok"
	if _, err := strict.Get(ctx, byName, "application/jwk-set+json"); !errors.Is(err, ErrAddress) {
		t.Errorf("%s, strict: %v", byName, err)
	}
}

// FuzzCheckURL: CheckURL never panics, and what it accepts is an absolute
// https URL (or http on a loopback literal, in development) without
// userinfo.
func FuzzCheckURL(f *testing.F) {
	for _, s := range []string{"https://keys.example.com/jwks", "http://127.0.0.1:1/x", "https://[::ffff:7f00:1]/", "https://u@h/", "https:h", "http://[::1%25lo]/"} {
		f.Add(s)
	}
	strict, dev := New(Options{}), New(Options{AllowLoopback: true})
	f.Fuzz(func(t *testing.T, raw string) {
		for _, fe := range []*Fetcher{strict, dev} {
			if fe.CheckURL(raw) != nil {
				continue
			}
			u, err := url.Parse(raw)
			if err != nil || u.User != nil || u.Host == "" || u.Scheme != "https" && (fe == strict || u.Scheme != "http") {
				t.Fatalf("accepted %q", raw)
			}
			if a, err := netip.ParseAddr(u.Hostname()); err == nil && fe == strict && !Public(a) {
				t.Fatalf("strict accepted %q", raw)
			}
		}
	})
}
