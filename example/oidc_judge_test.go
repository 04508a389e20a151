package main

import (
	"encoding/json"
	"testing"

	"github.com/oauthkit/oauthkit/internal/judges"
)

// TestOpenIDClient runs openid-client (npm, the certified relying-party
// library) against the example from internal/judges/oidc.mjs: discovery,
// the code flow with PKCE, nonce and state, ID token validation, UserInfo,
// refresh (a new ID token, same sub and auth_time, no nonce), RP-Initiated
// Logout, and prompt=none after it.
func TestOpenIDClient(t *testing.T) {
	node := judges.Require(t)
	base, banner := startExample(t)
	out := judges.Run(t.Context(), t, node, "oidc.mjs",
		"ISSUER="+base, "CLIENT_ID=demo-app", "CLIENT_SECRET="+demoAppSecret(t, banner.String()),
		"REDIRECT_URI=http://127.0.0.1:8080/callback", "POST_LOGOUT_REDIRECT_URI="+demoPostLogoutURI,
		"USERNAME=user2", "PASSWORD=password2")
	var got struct {
		Issuer       string         `json:"issuer"`
		EndSession   string         `json:"end_session_endpoint"`
		Sub          string         `json:"sub"`
		NonceChecked bool           `json:"nonce_checked"`
		AuthTime     int64          `json:"auth_time"`
		Scope        string         `json:"scope"`
		UserInfo     map[string]any `json:"userinfo"`
		Refreshed    struct {
			Sub             string `json:"sub"`
			AuthTime        int64  `json:"auth_time"`
			Nonce           any    `json:"nonce"`
			NewAccessToken  bool   `json:"new_access_token"`
			NewRefreshToken bool   `json:"new_refresh_token"`
		} `json:"refreshed"`
		Logout struct {
			Status   int    `json:"status"`
			Location string `json:"location"`
		} `json:"logout"`
		PromptNone string `json:"prompt_none_after_logout"`
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if got.Issuer != base || got.EndSession != base+"/oauth/logout" || got.Sub != "2" || !got.NonceChecked || got.AuthTime == 0 {
		t.Errorf("code flow: %+v", got)
	}
	want := map[string]any{"sub": "2", "name": "User Two", "preferred_username": "user2", "email": "user2@example.com", "email_verified": true}
	for k, v := range want {
		if got.UserInfo[k] != v {
			t.Errorf("userinfo %s = %v, want %v", k, got.UserInfo[k], v)
		}
	}
	r := got.Refreshed
	if r.Sub != "2" || r.AuthTime != got.AuthTime || r.Nonce != nil || !r.NewAccessToken || !r.NewRefreshToken {
		t.Errorf("refresh: %+v", r)
	}
	if got.Logout.Status != 302 || got.Logout.Location != demoPostLogoutURI+"?state=bye" || got.PromptNone != "login_required" {
		t.Errorf("logout: %+v, prompt=none after it: %q", got.Logout, got.PromptNone)
	}
}
