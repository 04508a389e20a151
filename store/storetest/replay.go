package storetest

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/oauthkit/oauthkit/store"
)

// RunReplayCache runs the part of the suite that checks the contract
// written on [store.ReplayCache], against the caches newCache returns (one
// per subtest, empty). [Run] calls it for a store that implements the
// capability; an in-process cache calls it directly.
//
// Besides the contract's sentences it checks that keys are opaque bytes (a
// 128-byte key of every byte value, NUL and invalid UTF-8 included), and
// that a key recorded until a time already past is forgotten: using it again
// is a first use.
func RunReplayCache(t *testing.T, newCache func(t *testing.T) store.ReplayCache) {
	t.Helper()
	for _, tc := range []struct {
		name string
		fn   func(*testing.T, store.ReplayCache)
	}{
		{"FirstUse", testReplayFirstUse},
		{"OpaqueKeys", testReplayOpaqueKeys},
		{"Concurrent", testReplayConcurrent},
		{"Forgotten", testReplayForgotten},
		{"ContextCanceled", testReplayContextCanceled},
	} {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, newCache(t)) })
	}
}

// testReplay runs RunReplayCache's tests when s has the capability.
func testReplay(t *testing.T, newStore func(t *testing.T) Store) {
	probe, ok := newStore(t).(store.ReplayCache)
	if !ok || probe == nil {
		t.Skip("store does not implement store.ReplayCache")
	}
	RunReplayCache(t, func(t *testing.T) store.ReplayCache { return newStore(t).(store.ReplayCache) })
}

// useOnce calls UseOnce and fails the test on an error.
func useOnce(t *testing.T, c store.ReplayCache, key string, until time.Time) bool {
	t.Helper()
	first, err := c.UseOnce(t.Context(), key, until)
	if err != nil {
		t.Fatalf("UseOnce(%q): %v", key, err)
	}
	return first
}

func testReplayFirstUse(t *testing.T, c store.ReplayCache) {
	key := "jti-" + rawToken()[4:]
	later := time.Now().Add(time.Hour)
	if !useOnce(t, c, key, later) {
		t.Fatal("first use of a key reported as a replay")
	}
	for i := range 3 {
		if useOnce(t, c, key, later) {
			t.Fatalf("use %d of a key reported as a first use", i+2)
		}
	}
	// A replay with an earlier until is still a replay: the record lives.
	if useOnce(t, c, key, time.Now().Add(-time.Minute)) {
		t.Fatal("a replay with an until already past reported as a first use")
	}
	for _, other := range []string{key[:len(key)-1], key + "x", "other-" + key} {
		if !useOnce(t, c, other, later) {
			t.Errorf("first use of %q, another key, reported as a replay", other)
		}
	}
}

func testReplayOpaqueKeys(t *testing.T, c store.ReplayCache) {
	later := time.Now().Add(time.Hour)
	b := make([]byte, store.MaxReplayKey)
	nonce := rawToken()
	for i := range b {
		b[i] = byte(255 - i) // 0xff, 0xfe, …: invalid UTF-8
	}
	copy(b, nonce)
	b[len(b)-1] = 0
	key := string(b)
	if !useOnce(t, c, key, later) {
		t.Fatal("first use of a 128-byte binary key reported as a replay")
	}
	if useOnce(t, c, key, later) {
		t.Fatal("replay of a 128-byte binary key reported as a first use")
	}
	b[len(b)-1] = 1
	if !useOnce(t, c, string(b), later) {
		t.Fatal("a binary key differing in its last byte reported as a replay")
	}
}

// testReplayConcurrent: of concurrent uses of one key, exactly one is
// first.
func testReplayConcurrent(t *testing.T, c store.ReplayCache) {
	later := time.Now().Add(time.Hour)
	for range 5 {
		key := "race-" + rawToken()[4:]
		var (
			wg    sync.WaitGroup
			first atomic.Int32
		)
		const n = 24
		for range n {
			wg.Go(func() {
				ok, err := c.UseOnce(t.Context(), key, later)
				if err != nil {
					t.Error(err)
				}
				if ok {
					first.Add(1)
				}
			})
		}
		wg.Wait()
		if got := first.Load(); got != 1 {
			t.Fatalf("%d concurrent uses of one key: %d first uses, want exactly 1", n, got)
		}
	}
}

// testReplayForgotten: a key recorded until a time already past is
// forgotten, so that the cache holds nothing beyond its window.
func testReplayForgotten(t *testing.T, c store.ReplayCache) {
	key := "gone-" + rawToken()[4:]
	if !useOnce(t, c, key, time.Now().Add(-time.Minute)) {
		t.Fatal("first use of a key (until past) reported as a replay")
	}
	later := time.Now().Add(time.Hour)
	if !useOnce(t, c, key, later) {
		t.Fatal("a key recorded until a past time was not forgotten")
	}
	if useOnce(t, c, key, later) {
		t.Fatal("replay of a key reported as a first use after it was recorded again")
	}
}

func testReplayContextCanceled(t *testing.T, c store.ReplayCache) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	done := make(chan error, 1)
	go func() {
		_, err := c.UseOnce(ctx, "canceled-"+rawToken()[4:], time.Now().Add(time.Hour))
		done <- err
	}()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("UseOnce with a canceled context = %v, want an error wrapping context.Canceled", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("UseOnce with a canceled context did not return")
	}
}
