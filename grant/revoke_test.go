package grant_test

import (
	"net/http"
	"testing"
)

func TestRevokeAccessTokenThenAPIRefuses(t *testing.T) {
	e := newEPServer(t)
	tok := e.clientToken(epSvc, "read")
	if got := e.api(tok.AccessToken); got != http.StatusOK {
		t.Fatalf("before revocation: %d", got)
	}
	r := e.revoke(epSvc, tok.AccessToken, "access_token")
	if r.status != http.StatusOK {
		t.Fatalf("revoke: %d %v", r.status, r.body)
	}
	wantNoStore(t, r)
	if !e.sawRevoked() {
		t.Error("no EventRevoked")
	}
	if got := e.api(tok.AccessToken); got != http.StatusUnauthorized {
		t.Fatalf("after revocation: %d, want 401", got)
	}
}

func TestRevokeRefreshTokenRevokesItsGrant(t *testing.T) {
	e := newEPServer(t)
	tok := e.userToken(epApp)
	// a wrong hint must not matter (RFC 7009 §2.1: search all types)
	if r := e.revoke(epApp, tok.RefreshToken, "access_token"); r.status != http.StatusOK {
		t.Fatalf("revoke: %d %v", r.status, r.body)
	}
	if r := e.introspect(epApp, tok.AccessToken); r.body["active"] != false || len(r.body) != 1 {
		t.Errorf("access token of the revoked grant: %v, want {active: false}", r.body)
	}
	if got := e.api(tok.AccessToken); got != http.StatusUnauthorized {
		t.Errorf("api with the grant's access token: %d", got)
	}
	if r := e.post(e.p.Endpoints().Token, epApp, map[string][]string{"grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken}}); r.status != http.StatusBadRequest {
		t.Errorf("refresh after revocation: %d %v", r.status, r.body)
	}
}

func TestRevokeByPublicClient(t *testing.T) {
	e := newEPServer(t)
	tok := e.userToken(epPub)
	if r := e.revoke(epPub, tok.RefreshToken, ""); r.status != http.StatusOK {
		t.Fatalf("revoke: %d %v", r.status, r.body)
	}
	if got := e.api(tok.AccessToken); got != http.StatusUnauthorized {
		t.Errorf("api after revocation: %d", got)
	}
}

func TestRevokeOtherClientsTokenIsNotRevoked(t *testing.T) {
	e := newEPServer(t)
	tok := e.clientToken(epSvc, "read")
	r := e.revoke(epOther, tok.AccessToken, "")
	if r.status != http.StatusOK {
		t.Fatalf("revoke of another client's token: %d, want 200 (RFC 7009 §2.2)", r.status)
	}
	if e.sawRevoked() {
		t.Error("EventRevoked for another client's token")
	}
	if got := e.api(tok.AccessToken); got != http.StatusOK {
		t.Fatalf("the token was revoked by another client: %d", got)
	}
}

func TestRevokeErrors(t *testing.T) {
	e := newEPServer(t)
	tok := e.clientToken(epSvc, "read")
	for _, tc := range []struct {
		name   string
		client string
		token  string
		hint   string
		status int
		code   string
	}{
		{"unknown token", epSvc, "okat_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "", 200, ""},
		{"garbage", epSvc, "not-a-token", "refresh_token", 200, ""},
		{"no client", "", tok.AccessToken, "", 401, "invalid_client"},
		{"no token", epSvc, "", "", 400, "invalid_request"},
		{"unsupported hint", epSvc, tok.AccessToken, "id_token", 400, "unsupported_token_type"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := e.revoke(tc.client, tc.token, tc.hint)
			if r.status != tc.status || tc.code != "" && r.body["error"] != tc.code {
				t.Fatalf("got %d %v, want %d %s", r.status, r.body, tc.status, tc.code)
			}
			wantNoStore(t, r)
		})
	}
	req, _ := http.NewRequest(http.MethodGet, e.srv.URL+e.p.Endpoints().Revocation+"?token="+tok.AccessToken, nil)
	if r := e.send(req); r.status != http.StatusMethodNotAllowed {
		t.Errorf("GET with the token in the query: %d", r.status)
	}
	if got := e.api(tok.AccessToken); got != http.StatusOK {
		t.Errorf("the token was revoked by a refused request: %d", got)
	}
}
