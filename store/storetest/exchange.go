package storetest

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/oauthkit/oauthkit/store"
)

// ExchangeStore is what [RunExchanger] tests: a Store with the optional
// [store.Exchanger].
type ExchangeStore interface {
	Store
	store.Exchanger
}

// RunExchanger runs the part of the suite that checks the contract written
// on [store.Exchanger], against the stores newStore returns (one per
// subtest, empty). [Run] calls it for a store that implements the
// capability.
//
// It checks that a successful exchange consumes the token (ConsumeToken then
// reports ErrConsumed with the exchange's time) and stores every new token,
// every field round-tripping; that a consumed, unknown or expired token
// creates nothing; that a new token of a revoked family (ErrRevoked) or
// with a hash already taken (ErrExists) leaves the old token live and
// creates none of the new ones; that of 20 racing exchanges of one token
// exactly one wins, the others getting ErrConsumed; and that a canceled
// context changes nothing.
func RunExchanger(t *testing.T, newStore func(t *testing.T) ExchangeStore) {
	t.Helper()
	for _, tc := range []struct {
		name string
		fn   func(*testing.T, ExchangeStore)
	}{
		{"Exchange", testExchange},
		{"Consumed", testExchangeConsumed},
		{"NotFound", testExchangeNotFound},
		{"RevokedRollsBack", testExchangeRevoked},
		{"ExistsRollsBack", testExchangeExists},
		{"Concurrent", testExchangeConcurrent},
		{"ContextCanceled", testExchangeCanceled},
	} {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, newStore(t)) })
	}
}

// testExchanger runs RunExchanger's tests when the store has the
// capability.
func testExchanger(t *testing.T, newStore func(t *testing.T) Store) {
	if _, ok := newStore(t).(store.Exchanger); !ok {
		t.Skip("store does not implement store.Exchanger")
	}
	RunExchanger(t, func(t *testing.T) ExchangeStore { return newStore(t).(ExchangeStore) })
}

// exchangeFixture is a code in a new family and the two tokens it is
// exchanged for, with every property set.
func exchangeFixture() (code, access, refresh store.Token) {
	fam := newFamily()
	code, _ = newToken(store.KindCode, fam, time.Minute)
	code = withProperties(code)
	access, _ = newToken(store.KindAccess, fam, time.Hour)
	refresh, _ = newToken(store.KindRefresh, fam, 24*time.Hour)
	return code, withProperties(access), withProperties(refresh)
}

// absent fails the test unless no live token has hash h.
func absent(t *testing.T, s Store, what string, h store.Hash) {
	t.Helper()
	if _, err := s.Token(t.Context(), h); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("%s: Token = %v, want ErrNotFound", what, err)
	}
}

// live fails the test unless tok is stored, live and unconsumed.
func live(t *testing.T, s Store, what string, tok store.Token) {
	t.Helper()
	got, err := s.Token(t.Context(), tok.Hash)
	if err != nil {
		t.Errorf("%s: Token = %v, want it live", what, err)
		return
	}
	checkToken(t, got, tok)
}

func testExchange(t *testing.T, s ExchangeStore) {
	ctx := t.Context()
	code, access, refresh := exchangeFixture()
	create(t, s, code)
	before := time.Now()
	got, err := s.Exchange(ctx, code.Hash, &access, &refresh)
	after := time.Now()
	if err != nil {
		t.Fatalf("Exchange: %v", err)
	}
	checkToken(t, got, code)
	live(t, s, "the new access token", access)
	live(t, s, "the new refresh token", refresh)
	absent(t, s, "the exchanged code", code.Hash)
	again, err := s.ConsumeToken(ctx, code.Hash)
	if !errors.Is(err, store.ErrConsumed) {
		t.Fatalf("ConsumeToken after Exchange: %v, want ErrConsumed", err)
	}
	if again.ConsumedAt.Before(before.Add(-time.Millisecond)) || again.ConsumedAt.After(after.Add(time.Millisecond)) {
		t.Errorf("ConsumedAt = %v, want the exchange's time, in [%v, %v]", again.ConsumedAt, before, after)
	}
	// Revoking the family takes the new tokens too.
	if err := s.RevokeFamily(ctx, code.Family); err != nil {
		t.Fatal(err)
	}
	absent(t, s, "the new access token after RevokeFamily", access.Hash)
	absent(t, s, "the new refresh token after RevokeFamily", refresh.Hash)
	// A lone token may be exchanged for tokens of no family.
	lone, _ := newToken(store.KindRefresh, "", time.Hour)
	create(t, s, lone)
	next, _ := newToken(store.KindAccess, "", time.Hour)
	if _, err := s.Exchange(ctx, lone.Hash, &next); err != nil {
		t.Fatalf("Exchange of a lone token: %v", err)
	}
	live(t, s, "a lone exchange's token", next)
}

func testExchangeConsumed(t *testing.T, s ExchangeStore) {
	ctx := t.Context()
	code, access, refresh := exchangeFixture()
	create(t, s, code)
	if _, err := s.ConsumeToken(ctx, code.Hash); err != nil {
		t.Fatal(err)
	}
	got, err := s.Exchange(ctx, code.Hash, &access, &refresh)
	if !errors.Is(err, store.ErrConsumed) {
		t.Fatalf("Exchange of a consumed token: %v, want ErrConsumed", err)
	}
	checkToken(t, got, code)
	if got.ConsumedAt.IsZero() {
		t.Error("ErrConsumed came without ConsumedAt")
	}
	absent(t, s, "an access token of a refused exchange", access.Hash)
	absent(t, s, "a refresh token of a refused exchange", refresh.Hash)
}

func testExchangeNotFound(t *testing.T, s ExchangeStore) {
	ctx := t.Context()
	code, access, refresh := exchangeFixture()
	if _, err := s.Exchange(ctx, code.Hash, &access); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Exchange of an unknown token: %v, want ErrNotFound", err)
	}
	expired := code
	expired.IssuedAt, expired.ExpiresAt = time.Now().Add(-time.Hour), time.Now().Add(-time.Minute)
	create(t, s, expired)
	if _, err := s.Exchange(ctx, expired.Hash, &access, &refresh); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Exchange of an expired token: %v, want ErrNotFound", err)
	}
	absent(t, s, "an access token of a refused exchange", access.Hash)
	absent(t, s, "a refresh token of a refused exchange", refresh.Hash)
}

func testExchangeRevoked(t *testing.T, s ExchangeStore) {
	ctx := t.Context()
	code, access, refresh := exchangeFixture()
	create(t, s, code)
	revoked := newFamily()
	other, _ := newToken(store.KindAccess, revoked, time.Hour)
	create(t, s, other)
	if err := s.RevokeFamily(ctx, revoked); err != nil {
		t.Fatal(err)
	}
	refresh.Family = revoked // the second new token cannot be created
	if _, err := s.Exchange(ctx, code.Hash, &access, &refresh); !errors.Is(err, store.ErrRevoked) {
		t.Fatalf("Exchange into a revoked family: %v, want ErrRevoked", err)
	}
	live(t, s, "the code after a refused exchange", code)
	absent(t, s, "the first new token of a refused exchange", access.Hash)
	if _, err := s.ConsumeToken(ctx, code.Hash); err != nil {
		t.Fatalf("ConsumeToken after a refused exchange: %v, want the code unconsumed", err)
	}
}

func testExchangeExists(t *testing.T, s ExchangeStore) {
	ctx := t.Context()
	code, access, refresh := exchangeFixture()
	create(t, s, code)
	taken, _ := newToken(store.KindAccess, newFamily(), time.Hour)
	create(t, s, taken)
	refresh.Hash = taken.Hash
	if _, err := s.Exchange(ctx, code.Hash, &access, &refresh); !errors.Is(err, store.ErrExists) {
		t.Fatalf("Exchange with a taken hash: %v, want ErrExists", err)
	}
	live(t, s, "the code after a refused exchange", code)
	live(t, s, "the token whose hash was taken", taken)
	absent(t, s, "the first new token of a refused exchange", access.Hash)
}

func testExchangeConcurrent(t *testing.T, s ExchangeStore) {
	code, _, _ := exchangeFixture()
	create(t, s, code)
	const n = 20
	errs := make([]error, n)
	made := make([]store.Token, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		made[i], _ = newToken(store.KindAccess, code.Family, time.Hour)
		wg.Go(func() {
			<-start
			_, errs[i] = s.Exchange(t.Context(), code.Hash, &made[i])
		})
	}
	close(start)
	wg.Wait()
	won := 0
	for i, err := range errs {
		switch {
		case err == nil:
			won++
			live(t, s, "the winner's token", made[i])
		case errors.Is(err, store.ErrConsumed):
			absent(t, s, "a loser's token", made[i].Hash)
		default:
			t.Errorf("racing Exchange: %v, want nil or ErrConsumed", err)
		}
	}
	if won != 1 {
		t.Errorf("%d of %d racing exchanges won, want exactly 1", won, n)
	}
}

func testExchangeCanceled(t *testing.T, s ExchangeStore) {
	code, access, _ := exchangeFixture()
	create(t, s, code)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := s.Exchange(ctx, code.Hash, &access); !errors.Is(err, context.Canceled) {
		t.Fatalf("Exchange with a canceled context: %v, want context.Canceled", err)
	}
	live(t, s, "the code after a canceled exchange", code)
	absent(t, s, "the token of a canceled exchange", access.Hash)
}
