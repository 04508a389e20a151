package grant

import (
	"context"
	"errors"
	"net/url"
	"testing"
	"time"
)

// TestRevokeClientAfterDelete deletes a client and revokes its tokens: its
// access tokens, opaque and JWT, get 401 at once, while another client's
// still work.
func TestRevokeClientAfterDelete(t *testing.T) {
	for _, format := range []TokenFormat{FormatOpaque, FormatJWT} {
		t.Run(string(format), func(t *testing.T) {
			f := newFixture(t, func(c *Config) {
				if format == FormatJWT {
					k, err := GenerateSigningKey(AlgEdDSA)
					if err != nil {
						t.Fatal(err)
					}
					c.AccessTokenFormat, c.SigningKeys, c.Audience = FormatJWT, []SigningKey{k}, []string{"https://api.example.com"}
				}
			})
			ctx := t.Context()
			// Two grants of the client to delete; a user grant and a lone
			// client_credentials token of two others.
			gone := f.passwordGrant(appClient, "read")
			gone2 := f.passwordGrant(appClient, "read")
			kept := f.post("/oauth/token", url.Values{"grant_type": {"password"}, "username": {"user1"}, "password": {"password1"},
				"client_id": {postClient}, "client_secret": {f.secrets[postClient]}}, "", "")
			cc := f.post("/oauth/token", url.Values{"grant_type": {"client_credentials"}, "scope": {"read"}}, svcClient, f.secrets[svcClient])
			for _, r := range []response{gone, gone2, kept, cc} {
				if r.status != 200 {
					t.Fatalf("issue: %d %s", r.status, r.raw)
				}
			}
			if format == FormatJWT && !f.p.looksLikeJWT(gone.str("access_token")) {
				t.Fatalf("access token %q is not a JWT", gone.str("access_token"))
			}
			for _, r := range []response{gone, gone2, kept, cc} {
				if got := f.api(r.str("access_token")); got != 200 {
					t.Fatalf("before deletion: /api/data = %d, want 200", got)
				}
			}
			drain(f.events)

			if err := f.st.DeleteClient(ctx, appClient); err != nil {
				t.Fatal(err)
			}
			if err := f.p.RevokeClient(ctx, appClient); err != nil {
				t.Fatalf("RevokeClient: %v", err)
			}
			for _, r := range []response{gone, gone2} {
				if got := f.api(r.str("access_token")); got != 401 {
					t.Errorf("deleted client's access token: /api/data = %d, want 401", got)
				}
			}
			for _, r := range []response{kept, cc} {
				if got := f.api(r.str("access_token")); got != 200 {
					t.Errorf("another client's access token after RevokeClient: /api/data = %d, want 200", got)
				}
			}
			if r := f.refresh(postClient, kept.str("refresh_token"), ""); r.status != 200 {
				t.Errorf("another client's refresh after RevokeClient: %d %s", r.status, r.raw)
			}
			wantError(t, f.refresh(appClient, gone.str("refresh_token"), ""), 401, CodeInvalidClient)
			if ev := revokedEvent(t, f.events); ev.ClientID != appClient || ev.Reason != "client deleted" {
				t.Errorf("event = %+v, want revoked, client %q, reason %q", ev, appClient, "client deleted")
			}
			if err := f.p.RevokeClient(ctx, "nobody"); err != nil {
				t.Errorf("RevokeClient(unknown) = %v, want nil", err)
			}
			canceled, cancel := context.WithCancel(ctx)
			cancel()
			if err := f.p.RevokeClient(canceled, svcClient); !errors.Is(err, context.Canceled) {
				t.Errorf("RevokeClient with a canceled context = %v, want context.Canceled", err)
			}
		})
	}
}

// drain empties ch.
func drain(ch chan Event) {
	for {
		select {
		case <-ch:
		default:
			return
		}
	}
}

// revokedEvent returns the next EventRevoked on ch, skipping others.
func revokedEvent(t *testing.T, ch chan Event) Event {
	t.Helper()
	timeout := time.After(5 * time.Second)
	for {
		select {
		case ev := <-ch:
			if ev.Kind == EventRevoked {
				return ev
			}
		case <-timeout:
			t.Fatal("no EventRevoked")
			return Event{}
		}
	}
}
