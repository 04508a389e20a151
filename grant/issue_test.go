package grant

import (
	"context"
	"net/url"
	"reflect"
	"testing"
	"time"

	"github.com/oauthkit/oauthkit/internal/dpop/dpoptest"
	"github.com/oauthkit/oauthkit/store"
)

// TestGrantPropertiesCarriedOver: what a code says of its grant (audience,
// DPoP key, auth time) is carried by every token exchanged for it, and by
// every rotation of their refresh token, also on a retry. A new property of
// store.Token that grantOf forgets fails here. The DPoP key is the
// exception RFC 9449 §5 makes: the code's (dpop_jkt) must be the proof's,
// the access token is bound to the proof's key, and a confidential client's
// refresh token to none, so its refreshes here, without proofs, give bearer
// tokens (and may be retried).
func TestGrantPropertiesCarriedOver(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	secret, sh, _ := NewClientSecret()
	web := &store.Client{ID: "web", AuthMethod: store.AuthSecretBasic, SecretHash: sh, Scopes: []string{"read"},
		GrantTypes: []string{store.GrantAuthorizationCode, store.GrantRefreshToken}, RedirectURIs: []string{"https://web.example.com/cb"}}
	if err := f.st.CreateClient(ctx, web); err != nil {
		t.Fatal(err)
	}
	f.secrets["web"] = secret
	now := f.clock.Now()
	key := dpoptest.NewKey(t, "ES256")
	want := store.Token{
		Audience: []string{"https://api.example.com/mcp"},
		JKT:      key.JKT,
		AuthTime: now.Add(-time.Minute).Truncate(time.Second),
	}
	code, h, _ := newSecret(PrefixCode)
	c := want
	c.Hash, c.Kind, c.Family, c.ClientID, c.Subject, c.Username = h, store.KindCode, "fam", "web", "1", "user1"
	c.Scopes, c.IssuedAt, c.ExpiresAt, c.Nonce = []string{"read"}, now, now.Add(time.Minute), "n-0S6_WzA2Mj"
	if err := f.st.CreateToken(ctx, &c); err != nil {
		t.Fatal(err)
	}
	check := func(what, raw, jkt string) {
		t.Helper()
		got, err := f.st.Token(ctx, store.HashSecret(raw))
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if !reflect.DeepEqual(got.Audience, want.Audience) || got.JKT != jkt || !got.AuthTime.Equal(want.AuthTime) || got.Family != "fam" || got.Nonce != "" {
			t.Errorf("%s carries %+v", what, got)
		}
	}
	r := f.dpopPost(key, url.Values{"grant_type": {"authorization_code"}, "code": {code}}, "web", secret)
	if r.status != 200 {
		t.Fatalf("exchange: %d %s", r.status, r.raw)
	}
	check("access token from the code", r.str("access_token"), key.JKT)
	check("refresh token from the code", r.str("refresh_token"), "")
	rt := r.str("refresh_token")
	for i := range 2 {
		r = f.refresh("web", rt, "")
		if r.status != 200 {
			t.Fatalf("refresh %d: %d %s", i, r.status, r.raw)
		}
		check("rotated access token", r.str("access_token"), "")
		check("rotated refresh token", r.str("refresh_token"), "")
		retry := f.refresh("web", rt, "")
		if retry.status != 200 || retry.str("refresh_token") != r.str("refresh_token") {
			t.Fatalf("retry %d: %d %s", i, retry.status, retry.raw)
		}
		rt = r.str("refresh_token")
		f.clock.Advance(time.Minute)
	}
}

// revokingTokens revokes the family of the code it hands out, as a
// concurrent replay of the code would between its consumption and the
// issuance of the winner's tokens.
type revokingTokens struct{ store.TokenStore }

func (s revokingTokens) ConsumeToken(ctx context.Context, h store.Hash) (store.Token, error) {
	t, err := s.TokenStore.ConsumeToken(ctx, h)
	if err == nil && t.Kind == store.KindCode {
		if err := s.RevokeFamily(ctx, t.Family); err != nil {
			return t, err
		}
	}
	return t, err
}

// TestCodeReplayBeforeIssue: when a replay of the code revokes the grant
// before the winning redemption stores its tokens, the winner is told the
// code was used (400 invalid_grant), not a server error.
func TestCodeReplayBeforeIssue(t *testing.T) {
	var st store.TokenStore
	f := newFixture(t, func(c *Config) { st = c.Tokens; c.Tokens = revokingTokens{c.Tokens} })
	ctx := context.Background()
	secret, sh, _ := NewClientSecret()
	if err := f.st.CreateClient(ctx, &store.Client{ID: "web", AuthMethod: store.AuthSecretBasic, SecretHash: sh, Scopes: []string{"read"},
		GrantTypes: []string{store.GrantAuthorizationCode}, RedirectURIs: []string{"https://web.example.com/cb"}}); err != nil {
		t.Fatal(err)
	}
	code, h, _ := newSecret(PrefixCode)
	now := f.clock.Now()
	if err := st.CreateToken(ctx, &store.Token{Hash: h, Kind: store.KindCode, Family: "fam", ClientID: "web", Subject: "1",
		Username: "user1", Scopes: []string{"read"}, IssuedAt: now, ExpiresAt: now.Add(time.Minute)}); err != nil {
		t.Fatal(err)
	}
	r := f.post("/oauth/token", url.Values{"grant_type": {"authorization_code"}, "code": {code}}, "web", secret)
	if r.status != 400 || r.str("error") != CodeInvalidGrant {
		t.Fatalf("got %d %s, want 400 invalid_grant", r.status, r.raw)
	}
}
