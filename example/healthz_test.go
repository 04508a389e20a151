package main

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/oauthkit/oauthkit/internal/testservices"
)

// healthz calls GET /healthz and returns the status and the decoded body.
func healthz(t *testing.T, base string) (int, map[string]string) {
	t.Helper()
	res, err := http.Get(base + "/healthz")
	if err != nil {
		t.Error(err)
		return 0, nil
	}
	defer res.Body.Close()
	var body map[string]string
	if err := json.NewDecoder(res.Body).Decode(&body); err != nil {
		t.Error(err)
	}
	return res.StatusCode, body
}

// serveStore runs the example on the store that spec names, in-process.
func serveStore(t *testing.T, spec string) (string, backend) {
	t.Helper()
	st, _, err := openStore(t.Context(), spec)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	a, err := newApp(t.Context(), options{Issuer: "http://127.0.0.1:5000", Store: st, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(a.handler)
	t.Cleanup(srv.Close)
	return srv.URL, st
}

// TestHealthz: GET /healthz is 200 {"status":"ok"} while the store answers
// and 503 with a short reason once it does not: a SQLite store that was
// closed, a Redis server that went silent (behind a proxy that stops
// forwarding). Against the silent server 20 concurrent checks answer
// within the 2-second bound and send it one readiness check (the INCR of
// store/redis's Ping) between them. A Redis that lost the store's keys (a
// restart empty, a FLUSHALL) is 503 "the token store lost its data".
func TestHealthz(t *testing.T) {
	t.Run("sqlite closed", func(t *testing.T) {
		base, st := serveStore(t, sqliteSpec(t))
		if status, body := healthz(t, base); status != 200 || body["status"] != "ok" {
			t.Fatalf("healthy: %d %v", status, body)
		}
		st.Close()
		if status, body := healthz(t, base); status != 503 || body["status"] != "unavailable" || body["reason"] != "the token store does not answer" {
			t.Fatalf("closed store: %d %v", status, body)
		}
	})
	t.Run("redis silent", func(t *testing.T) {
		addr := testservices.Redis(t)
		proxy := newCutProxy(t, addr)
		prefix := randomName("oauthkit-healthz-") + ":"
		t.Cleanup(func() {
			rdb := goredis.NewClient(&goredis.Options{Addr: addr})
			defer rdb.Close()
			if keys, err := rdb.Keys(context.Background(), prefix+"*").Result(); err == nil && len(keys) > 0 {
				rdb.Del(context.Background(), keys...)
			}
		})
		base, _ := serveStore(t, "redis://"+proxy.addr+"/0?prefix="+url.QueryEscape(prefix))
		if status, body := healthz(t, base); status != 200 || body["status"] != "ok" {
			t.Fatalf("healthy: %d %v", status, body)
		}
		proxy.cut()
		start := time.Now()
		var wg sync.WaitGroup
		for range 20 {
			wg.Go(func() {
				if status, body := healthz(t, base); status != 503 || body["reason"] != "the token store does not answer" {
					t.Errorf("silent store: %d %v", status, body)
				}
			})
		}
		wg.Wait()
		if took := time.Since(start); took > 4*time.Second {
			t.Errorf("20 checks took %v", took)
		}
		if n := proxy.pings.Load(); n != 1 {
			t.Errorf("the checks sent %d readiness checks to the silent server, want 1", n)
		}
	})
	t.Run("redis reset", func(t *testing.T) {
		spec := redisSpec(t)
		base, _ := serveStore(t, spec)
		if status, body := healthz(t, base); status != 200 || body["status"] != "ok" {
			t.Fatalf("healthy: %d %v", status, body)
		}
		u, _ := url.Parse(spec)
		rdb := goredis.NewClient(&goredis.Options{Addr: u.Host})
		defer rdb.Close()
		keys, err := rdb.Keys(t.Context(), u.Query().Get("prefix")+"*").Result()
		if err != nil || len(keys) == 0 {
			t.Fatalf("keys: %v %v", keys, err)
		}
		if err := rdb.Del(t.Context(), keys...).Err(); err != nil { // what a restart empty leaves
			t.Fatal(err)
		}
		for range 2 { // and it stays so
			if status, body := healthz(t, base); status != 503 || body["reason"] != "the token store lost its data" {
				t.Fatalf("after the reset: %d %v", status, body)
			}
		}
	})
}

// cutProxy forwards TCP connections to a server until cut; then it keeps
// reading what clients send (counting PING commands) and forwards nothing
// either way, as a server that hangs would.
type cutProxy struct {
	addr  string
	isCut atomic.Bool
	pings atomic.Int32
}

func newCutProxy(t *testing.T, target string) *cutProxy {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &cutProxy{addr: l.Addr().String()}
	var conns sync.WaitGroup
	done := make(chan struct{})
	t.Cleanup(func() { close(done); l.Close(); conns.Wait() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			s, err := net.Dial("tcp", target)
			if err != nil {
				c.Close()
				continue
			}
			conns.Go(func() { <-done; c.Close(); s.Close() })
			go p.pipe(c, s, true)
			go p.pipe(s, c, false)
		}
	}()
	return p
}

func (p *cutProxy) cut() { p.isCut.Store(true) }

// pipe copies from src to dst while the proxy is not cut; fromClient
// counts the readiness checks (INCR commands) sent after the cut.
func (p *cutProxy) pipe(src, dst net.Conn, fromClient bool) {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			if !p.isCut.Load() {
				if _, err := dst.Write(buf[:n]); err != nil {
					return
				}
			} else if fromClient {
				p.pings.Add(int32(bytes.Count(bytes.ToLower(buf[:n]), []byte("incr"))))
			}
		}
		if err != nil {
			return
		}
	}
}
