package storetest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/oauthkit/oauthkit/store"
)

// Store is what the suite tests: a token store that is also a client
// registry. Every oauthkit backend is one.
type Store interface {
	store.TokenStore
	store.ClientRegistry
}

// Dumper is implemented by a store (or by the test's wrapper around it) that
// can show everything it keeps, as text: for a SQL store every row of every
// table, for a key-value store every key and value. The suite uses it to check
// that the raw token strings it hands out never reach the store, only their
// hashes. A store without it skips that check.
type Dumper interface {
	Dump(ctx context.Context) ([]byte, error)
}

// Run runs the whole suite against the stores newStore returns. newStore is
// called once per subtest, and should return an empty store and register its
// cleanup with t.Cleanup.
func Run(t *testing.T, newStore func(t *testing.T) Store) {
	t.Helper()
	for _, tc := range []struct {
		name string
		fn   func(*testing.T, Store)
	}{
		{"Clients", testClients},
		{"ClientNotFound", testClientNotFound},
		{"ClientExists", testClientExists},
		{"ClientPublic", testClientPublic},
		{"ClientFields", testClientFields},
		{"ClientUpdateNotFound", testClientUpdateNotFound},
		{"ClientInvalid", testClientInvalid},
		{"TokenRoundTrip", testTokenRoundTrip},
		{"TokenProperties", testTokenProperties},
		{"TokenPropertiesApart", testTokenPropertiesApart},
		{"TokenNotFound", testTokenNotFound},
		{"TokenExists", testTokenExists},
		{"TokenExistsConcurrent", testTokenExistsConcurrent},
		{"Expired", testExpired},
		{"ExpiresWhileStored", testExpiresWhileStored},
		{"Consume", testConsume},
		{"ConsumeConcurrent", testConsumeConcurrent},
		{"RevokeToken", testRevokeToken},
		{"RevokeFamily", testRevokeFamily},
		{"LoneTokens", testLoneTokens},
		{"RevokeFamilyConcurrent", testRevokeFamilyConcurrent},
		{"RevokeClient", testRevokeClient},
		{"RefreshRotation", testRefreshRotation},
		{"HashedAtRest", testHashedAtRest},
		{"ContextCanceled", testContextCanceled},
		{"Ping", testPing},
		{"ManyTokens", testManyTokens},
	} {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, newStore(t)) })
	}
	t.Run("Attempts", func(t *testing.T) { testAttempts(t, newStore) })
	t.Run("Devices", func(t *testing.T) { testDevices(t, newStore) })
	t.Run("Replay", func(t *testing.T) { testReplay(t, newStore) })
	t.Run("Changes", func(t *testing.T) { testChanges(t, newStore) })
	t.Run("Exchanger", func(t *testing.T) { testExchanger(t, newStore) })
}

// rawToken returns a fresh 256-bit token string, as the Provider makes them.
func rawToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // never fails
	return "okt_" + base64.RawURLEncoding.EncodeToString(b)
}

// newFamily returns a fresh family name.
func newFamily() string { return "fam-" + rawToken()[4:20] }

// newToken returns a token of kind k in family fam that lives for ttl, and
// its raw value.
func newToken(k store.Kind, fam string, ttl time.Duration) (store.Token, string) {
	raw := rawToken()
	now := time.Now()
	return store.Token{
		Hash:      store.HashSecret(raw),
		Kind:      k,
		Family:    fam,
		ClientID:  "client-1",
		Subject:   "user-42",
		Username:  "alice",
		Scopes:    []string{"read", "email"},
		IssuedAt:  now,
		ExpiresAt: now.Add(ttl),
	}, raw
}

// create stores tok or fails the test.
func create(t testing.TB, s Store, tok store.Token) {
	t.Helper()
	if err := s.CreateToken(t.Context(), &tok); err != nil {
		t.Fatalf("CreateToken(%s %s): %v", tok.Kind, tok.Family, err)
	}
}

// sameTime reports whether a and b are less than a millisecond apart.
func sameTime(a, b time.Time) bool {
	d := a.Sub(b)
	return d < time.Millisecond && d > -time.Millisecond
}

// sameSecond reports whether a and b are both zero, or both not and less
// than a second apart: how exactly AuthTime must round-trip.
func sameSecond(a, b time.Time) bool {
	d := a.Sub(b)
	return a.IsZero() == b.IsZero() && d < time.Second && d > -time.Second
}

// sameStrings compares slices, a nil slice being equal to an empty one.
func sameStrings(a, b []string) bool {
	return len(a) == 0 && len(b) == 0 || slices.Equal(a, b)
}

// checkToken fails the test unless got equals want field by field: times
// as sameTime (AuthTime as sameSecond) says, lists as sameStrings does,
// every other field exactly. ConsumedAt is not compared.
func checkToken(t testing.TB, got, want store.Token) {
	t.Helper()
	if !sameTime(got.IssuedAt, want.IssuedAt) || !sameTime(got.ExpiresAt, want.ExpiresAt) {
		t.Errorf("times = %v, %v; want %v, %v", got.IssuedAt, got.ExpiresAt, want.IssuedAt, want.ExpiresAt)
	}
	if !sameSecond(got.AuthTime, want.AuthTime) {
		t.Errorf("AuthTime = %v, want %v", got.AuthTime, want.AuthTime)
	}
	g, w := got, want
	for _, tok := range []*store.Token{&g, &w} {
		tok.IssuedAt, tok.ExpiresAt, tok.AuthTime, tok.ConsumedAt = time.Time{}, time.Time{}, time.Time{}, time.Time{}
	}
	if !equalNormalized(&g, &w) {
		t.Errorf("token = %+v\nwant    %+v", got, want)
	}
}

// equalNormalized reports whether the structs *a and *b are deeply equal
// once their empty slices are made nil and JSON byte slices compacted.
// Being generic, it covers fields added later without being told.
func equalNormalized[T any](a, b *T) bool {
	for _, p := range []*T{a, b} {
		v := reflect.ValueOf(p).Elem()
		for i := range v.NumField() {
			f := v.Field(i)
			if f.Kind() != reflect.Slice {
				continue
			}
			if f.Len() == 0 {
				f.SetZero()
			} else if b, ok := f.Interface().([]byte); ok && json.Valid(b) {
				var buf bytes.Buffer
				_ = json.Compact(&buf, b)
				f.SetBytes(buf.Bytes())
			}
		}
	}
	return reflect.DeepEqual(a, b)
}
