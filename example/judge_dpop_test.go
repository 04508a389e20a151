package main

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/oauthkit/oauthkit/internal/judges"
)

// TestJudgeDPoP: oauth4webapi, an independent certified client, runs the
// authorization code flow with PKCE, dpop_jkt and DPoP against the example
// started with -dpop-nonce (so that it must retry with the server's
// nonce), calls /api/data with its DPoP-bound token (and is refused as a
// bearer), and refreshes with DPoP (internal/judges/dpop.mjs).
func TestJudgeDPoP(t *testing.T) {
	node := judges.Require(t)
	base, _ := startExample(t, "-dpop-nonce")
	out := judges.Run(t.Context(), t, node, "dpop.mjs", "OAUTHKIT_ISSUER="+base)
	var got struct {
		MetadataAlgs       []string `json:"metadata_algs"`
		TokenType          string   `json:"token_type"`
		Scope              string   `json:"scope"`
		NonceRetries       int      `json:"nonce_retries"`
		DataStatus         int      `json:"data_status"`
		Data               string   `json:"data"`
		BearerStatus       int      `json:"bearer_status"`
		BearerChallenge    string   `json:"bearer_challenge"`
		RefreshedTokenType string   `json:"refreshed_token_type"`
		Rotated            bool     `json:"rotated"`
		AfterRefreshStatus int      `json:"after_refresh_status"`
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("judge output %s: %v", out, err)
	}
	t.Logf("oauth4webapi: %s", out)
	switch {
	case !slices.Contains(got.MetadataAlgs, "ES256"):
		t.Errorf("metadata algs %v", got.MetadataAlgs)
	case got.TokenType != "dpop" || got.Scope != "read write":
		t.Errorf("code exchange: token_type %q scope %q", got.TokenType, got.Scope)
	case got.NonceRetries < 1:
		t.Errorf("the client never had to fetch the nonce: %d retries", got.NonceRetries)
	case got.DataStatus != 200 || got.Data != "This is protected data.":
		t.Errorf("/api/data with DPoP: %d %q", got.DataStatus, got.Data)
	case got.BearerStatus != 401 || !strings.Contains(got.BearerChallenge, "bearer invalid_token"):
		t.Errorf("the bound token as a bearer token: %d %q", got.BearerStatus, got.BearerChallenge)
	case got.RefreshedTokenType != "dpop" || !got.Rotated || got.AfterRefreshStatus != 200:
		t.Errorf("refresh: token_type %q rotated %v, then /api/data %d", got.RefreshedTokenType, got.Rotated, got.AfterRefreshStatus)
	}
}
