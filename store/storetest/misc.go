package storetest

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/oauthkit/oauthkit/store"
)

// testHashedAtRest issues tokens and a client, then looks for their raw
// values in everything the store keeps.
func testHashedAtRest(t *testing.T, s Store) {
	d, ok := s.(Dumper)
	if !ok {
		t.Skip("store does not implement storetest.Dumper")
	}
	ctx := t.Context()
	fam := newFamily()
	var raws []string
	for _, k := range []store.Kind{store.KindCode, store.KindAccess, store.KindRefresh} {
		tok, raw := newToken(k, fam, time.Hour)
		create(t, s, tok)
		raws = append(raws, raw)
	}
	if _, err := s.ConsumeToken(ctx, store.HashSecret(raws[0])); err != nil {
		t.Fatal(err)
	}
	secret, registration := rawToken(), rawToken()
	c := newClient("hashed")
	c.SecretHash = store.HashSecret(secret)
	c.RegistrationTokenHash = store.HashSecret(registration)
	if err := s.CreateClient(ctx, c); err != nil {
		t.Fatal(err)
	}
	dump, err := d.Dump(ctx)
	if err != nil {
		t.Fatalf("Dump: %v", err)
	}
	if !bytes.Contains(dump, []byte(fam)) || !bytes.Contains(dump, []byte("hashed")) {
		t.Fatalf("Dump does not show the stored records (no family %q, no client ID):\n%.2000s", fam, dump)
	}
	for _, raw := range append(raws, secret, registration) {
		body := raw[4:] // without the prefix
		if bytes.Contains(dump, []byte(body)) {
			t.Errorf("raw token %s found in what the store keeps", raw)
		}
		dec, _ := base64.RawURLEncoding.DecodeString(body)
		if bytes.Contains(dump, dec) {
			t.Errorf("raw token %s found, decoded, in what the store keeps", raw)
		}
	}
}

// testContextCanceled calls every method with a canceled context: each
// should return an error wrapping context.Canceled, and promptly.
func testContextCanceled(t *testing.T, s Store) {
	live, _ := newToken(store.KindRefresh, newFamily(), time.Hour)
	create(t, s, live)
	if err := s.CreateClient(t.Context(), newClient("c")); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	fresh, _ := newToken(store.KindAccess, newFamily(), time.Hour)
	calls := map[string]func() error{
		"CreateToken":  func() error { return s.CreateToken(ctx, &fresh) },
		"Token":        func() error { _, err := s.Token(ctx, live.Hash); return err },
		"ConsumeToken": func() error { _, err := s.ConsumeToken(ctx, live.Hash); return err },
		"RevokeToken":  func() error { return s.RevokeToken(ctx, live.Hash) },
		"RevokeFamily": func() error { return s.RevokeFamily(ctx, live.Family) },
		"RevokeClient": func() error { return s.RevokeClient(ctx, live.ClientID) },
		"CreateClient": func() error { return s.CreateClient(ctx, newClient("d")) },
		"UpdateClient": func() error { return s.UpdateClient(ctx, fullClient("c")) },
		"Client":       func() error { _, err := s.Client(ctx, "c"); return err },
		"Clients":      func() error { _, err := s.Clients(ctx); return err },
		"DeleteClient": func() error { return s.DeleteClient(ctx, "c") },
	}
	for name, call := range calls {
		done := make(chan error, 1)
		go func() { done <- call() }()
		select {
		case err := <-done:
			if !errors.Is(err, context.Canceled) {
				t.Errorf("%s with a canceled context = %v, want an error wrapping context.Canceled", name, err)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("%s with a canceled context still running after 5s", name)
		}
	}
	// Nothing the canceled calls tried may have happened.
	if _, err := s.Token(t.Context(), live.Hash); err != nil {
		t.Errorf("token after canceled ConsumeToken/Revoke*: %v", err)
	}
	if c, err := s.Client(t.Context(), "c"); err != nil {
		t.Errorf("client after canceled DeleteClient: %v", err)
	} else if c.SoftwareID != "" {
		t.Errorf("canceled UpdateClient changed the client")
	}
}

// testManyTokens stores ten thousand tokens (2,500 under the race detector)
// from 8 goroutines and reads every one back.
func testManyTokens(t *testing.T, s Store) {
	ctx := t.Context()
	toks := make([]store.Token, manyTokens)
	fams := make([]string, 100)
	for i := range fams {
		fams[i] = newFamily()
	}
	for i := range toks {
		toks[i], _ = newToken(store.Kind(1+i%3), fams[i%len(fams)], time.Hour)
		toks[i].Subject = fmt.Sprintf("user-%d", i)
	}
	parallel(t, len(toks), func(i int) error { return s.CreateToken(ctx, &toks[i]) })
	parallel(t, len(toks), func(i int) error {
		got, err := s.Token(ctx, toks[i].Hash)
		if err == nil && got.Subject != toks[i].Subject {
			err = fmt.Errorf("token %d has subject %q", i, got.Subject)
		}
		return err
	})
}

// parallel runs fn(0..n-1) on 8 goroutines and fails the test on the first
// error.
func parallel(t *testing.T, n int, fn func(i int) error) {
	t.Helper()
	const workers = 8
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		wg.Go(func() {
			for i := w; i < n; i += workers {
				if err := fn(i); err != nil {
					errs <- fmt.Errorf("item %d: %w", i, err)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}
