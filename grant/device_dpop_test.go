package grant_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/oauthkit/oauthkit/grant"
	"github.com/oauthkit/oauthkit/internal/dpop/dpoptest"
	"github.com/oauthkit/oauthkit/store"
)

// TestDeviceFlowDPoP: a device that polls with a DPoP proof gets tokens
// bound to its key (RFC 9449 applies to every grant of the token
// endpoint): token_type DPoP, the access token and a public client's
// refresh token carry the key's thumbprint, and the refresh then needs a
// proof by that key.
func TestDeviceFlowDPoP(t *testing.T) {
	e := newDevEnv(t, grant.DeviceOptions{})
	key := dpoptest.NewKey(t, "ES256")
	a := e.deviceAuth(devTV, "read")
	if done := e.approve(a.str("verification_uri_complete"), "user1", "allow"); done.status != http.StatusOK {
		t.Fatalf("approve: %d", done.status)
	}
	post := func(form url.Values, withProof bool) jsonAnswer {
		t.Helper()
		form.Set("client_id", devTV)
		req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/oauth/token", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if withProof {
			req.Header.Set("DPoP", key.Proof(t, "POST", e.srv.URL+"/oauth/token", dpoptest.IssuedAt(e.clk.Now())))
		}
		p := e.do(http.DefaultClient, req)
		ans := jsonAnswer{status: p.status, header: p.header}
		_ = json.Unmarshal([]byte(p.body), &ans.body)
		return ans
	}
	tok := post(url.Values{"grant_type": {store.GrantDeviceCode}, "device_code": {a.str("device_code")}}, true)
	if tok.status != http.StatusOK || tok.str("token_type") != "DPoP" {
		t.Fatalf("device token with a proof: %d %v", tok.status, tok.body)
	}
	ctx := context.Background()
	for _, kind := range []string{"access_token", "refresh_token"} {
		got, err := e.st.Token(ctx, store.HashSecret(tok.str(kind)))
		if err != nil || got.JKT != key.JKT {
			t.Errorf("%s bound to %q (%v), want the proof's key", kind, got.JKT, err)
		}
	}
	refresh := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.str("refresh_token")}}
	if r := post(refresh, false); r.status == http.StatusOK {
		t.Fatalf("a bound device refresh token was redeemed without a proof: %v", r.body)
	}
	if r := post(refresh, true); r.status != http.StatusOK || r.str("token_type") != "DPoP" {
		t.Fatalf("refresh with the key's proof: %d %v", r.status, r.body)
	}
}
