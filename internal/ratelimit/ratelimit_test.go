package ratelimit

import (
	"fmt"
	"sync"
	"testing"
	"time"
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func TestBurstThenRefill(t *testing.T) {
	clk := &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	l := New(time.Minute, 3, 0, clk.now)
	for i := range 3 {
		if ok, _ := l.Allow("a"); !ok {
			t.Fatalf("event %d of the burst refused", i+1)
		}
	}
	ok, wait := l.Allow("a")
	if ok || wait <= 0 || wait > time.Minute {
		t.Fatalf("past the burst: %v, wait %v", ok, wait)
	}
	if ok, _ := l.Allow("b"); !ok {
		t.Fatal("another key was limited too")
	}
	clk.advance(wait)
	if ok, _ := l.Allow("a"); !ok {
		t.Fatal("refused after the wait it was told")
	}
	if ok, _ := l.Allow("a"); ok {
		t.Fatal("a refused attempt counted as a token")
	}
}

// TestKeysBounded: a flood of keys never grows the map past its bound,
// and a key that is being limited stays limited while the flood is small.
func TestKeysBounded(t *testing.T) {
	clk := &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	l := New(time.Hour, 1, 100, clk.now)
	l.Allow("victim")
	for i := range 10000 {
		l.Allow(fmt.Sprint("k", i))
		if n := len(l.keys); n > 100 {
			t.Fatalf("%d keys tracked, bound 100", n)
		}
	}
	l2 := New(time.Hour, 1, 100, clk.now)
	l2.Allow("victim")
	for i := range 50 {
		l2.Allow(fmt.Sprint("k", i))
	}
	if ok, _ := l2.Allow("victim"); ok {
		t.Fatal("a limited key was forgotten below the bound")
	}
}

func TestZeroBurstRefusesAll(t *testing.T) {
	l := New(time.Second, 0, 0, nil)
	if ok, wait := l.Allow("a"); ok || wait <= 0 {
		t.Fatalf("burst 0: %v %v", ok, wait)
	}
}
