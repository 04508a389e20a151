package grant_test

import (
	"net/http"
	"testing"
	"time"
)

func TestIntrospectRequiresClientAuthentication(t *testing.T) {
	e := newEPServer(t)
	tok := e.clientToken(epSvc, "read")
	for _, client := range []string{"", epPub} {
		r := e.introspect(client, tok.AccessToken)
		if r.status != http.StatusUnauthorized || r.body["error"] != "invalid_client" {
			t.Errorf("caller %q: %d %v, want 401 invalid_client", client, r.status, r.body)
		}
		wantNoStore(t, r)
	}
}

func TestIntrospectActiveToken(t *testing.T) {
	e := newEPServer(t)
	tok := e.userToken(epApp)
	r := e.introspect(epRS, tok.AccessToken)
	wantNoStore(t, r)
	now := e.clock.Now()
	want := map[string]any{
		"active": true, "scope": "read write", "client_id": epApp, "username": "user1", "sub": "1",
		"token_type": "Bearer", "iss": e.srv.URL, "aud": []any{"https://api.example.com"},
		"iat": float64(now.Unix()), "exp": float64(now.Add(time.Hour).Unix()),
	}
	for k, v := range want {
		if got := r.body[k]; !equalJSON(got, v) {
			t.Errorf("%s = %v, want %v", k, got, v)
		}
	}
	if r := e.introspect(epRS, tok.RefreshToken); r.body["active"] != true || r.body["token_type"] != "refresh_token" {
		t.Errorf("refresh token: %v", r.body)
	}
	// its own client may introspect it, another client may not
	if r := e.introspect(epApp, tok.AccessToken); r.body["active"] != true {
		t.Errorf("own client: %v", r.body)
	}
	if r := e.introspect(epOther, tok.AccessToken); r.body["active"] != false || len(r.body) != 1 {
		t.Errorf("another client: %v, want only active false", r.body)
	}
}

func TestIntrospectInactive(t *testing.T) {
	e := newEPServer(t)
	cc := e.clientToken(epSvc, "read")
	if r := e.introspect(epRS, cc.AccessToken); r.body["active"] != true || r.body["sub"] != nil {
		t.Errorf("client_credentials token: %v (no sub expected)", r.body)
	}
	revoked := e.clientToken(epSvc, "read")
	e.revoke(epSvc, revoked.AccessToken, "")
	for name, tok := range map[string]string{
		"revoked": revoked.AccessToken,
		"unknown": "okat_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
		"garbage": "x",
	} {
		if r := e.introspect(epRS, tok); r.status != 200 || r.body["active"] != false || len(r.body) != 1 {
			t.Errorf("%s: %d %v", name, r.status, r.body)
		}
	}
	e.clock.Advance(time.Hour)
	if r := e.introspect(epRS, cc.AccessToken); r.body["active"] != false || len(r.body) != 1 {
		t.Errorf("expired: %v", r.body)
	}
}

func equalJSON(a, b any) bool {
	as, aok := a.([]any)
	bs, bok := b.([]any)
	if aok && bok {
		if len(as) != len(bs) {
			return false
		}
		for i := range as {
			if as[i] != bs[i] {
				return false
			}
		}
		return true
	}
	return a == b
}
