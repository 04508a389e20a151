package redis_test

import (
	"context"
	"encoding/hex"
	"errors"
	"testing"
	"time"

	"github.com/oauthkit/oauthkit/store"
)

// testRevokedStaysRevoked: a token revoked alone is found by no reader, and
// its hash cannot be stored again until it would have expired, by
// CreateToken or by an exchange; a second RevokeToken changes nothing. This
// is what keeps a refresh retry from bringing back an access token revoked
// at /oauth/revoke (grant's TestRefreshRetryKeepsRevokedAccessToken).
func testRevokedStaysRevoked(t *testing.T, ctx context.Context, s store.TokenStore, ttl func(key store.Hash) time.Duration) {
	now := time.Now()
	tok := store.Token{Hash: store.HashSecret("revoked-alone"), Kind: store.KindAccess, Family: "fam-revoked", ClientID: "c",
		Scopes: []string{"read"}, IssuedAt: now, ExpiresAt: now.Add(time.Hour)}
	if err := s.CreateToken(ctx, &tok); err != nil {
		t.Fatal(err)
	}
	if err := s.RevokeToken(ctx, tok.Hash); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Token(ctx, tok.Hash); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Token after RevokeToken: %v, want ErrNotFound", err)
	}
	if _, err := s.ConsumeToken(ctx, tok.Hash); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("ConsumeToken after RevokeToken: %v, want ErrNotFound", err)
	}
	again := tok
	if err := s.CreateToken(ctx, &again); !errors.Is(err, store.ErrExists) {
		t.Fatalf("CreateToken of the revoked hash: %v, want ErrExists", err)
	}
	if _, err := s.Token(ctx, tok.Hash); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Token after storing the revoked hash again: %v, want ErrNotFound", err)
	}
	if d := ttl(tok.Hash); d < 59*time.Minute || d > time.Hour+time.Second {
		t.Errorf("the revocation record lives %v, want the token's remaining hour", d)
	}
	if err := s.RevokeToken(ctx, tok.Hash); err != nil {
		t.Fatalf("second RevokeToken: %v", err)
	}
	if d := ttl(tok.Hash); d < 59*time.Minute {
		t.Errorf("after a second RevokeToken the record lives %v", d)
	}
	if x, ok := s.(store.Exchanger); ok {
		old := store.Token{Hash: store.HashSecret("old-refresh"), Kind: store.KindRefresh, Family: "fam-revoked", ClientID: "c",
			IssuedAt: now, ExpiresAt: now.Add(time.Hour)}
		if err := s.CreateToken(ctx, &old); err != nil {
			t.Fatal(err)
		}
		if _, err := x.Exchange(ctx, old.Hash, &again); err == nil {
			t.Fatal("Exchange stored the revoked hash again")
		}
	}
}

func TestRevokedStaysRevoked(t *testing.T) {
	rdb := testClient(t)
	s, prefix := newStore(t, rdb)
	testRevokedStaysRevoked(t, t.Context(), s, func(h store.Hash) time.Duration {
		return rdb.PTTL(t.Context(), prefix+"token:"+hex.EncodeToString(h[:])).Val()
	})
}

func TestClusterRevokedStaysRevoked(t *testing.T) {
	rdb := clusterClient(t, "", nil)
	s, prefix := newClusterStore(t, rdb)
	testRevokedStaysRevoked(t, t.Context(), s, func(h store.Hash) time.Duration {
		return rdb.PTTL(t.Context(), prefix+"token:"+hex.EncodeToString(h[:])).Val()
	})
}
