package main

import (
	"strings"
	"testing"

	"github.com/oauthkit/oauthkit/store"
)

// TestLoginJSONOnly: the example's /login takes application/json only; a
// form, text/plain or unlabelled body, which any web page can make a
// visitor's browser send, gets 415 and checks no password.
func TestLoginJSONOnly(t *testing.T) {
	base, _ := startExample(t)
	body := `{"username": "user1", "password": "password1"}`
	for _, ct := range []string{"", "text/plain", "application/x-www-form-urlencoded"} {
		status, _, answer := call(t, "POST", base+"/login", ct, "", body)
		if status != 415 || !strings.Contains(answer, `"invalid_request"`) {
			t.Errorf("content type %q: %d %s", ct, status, answer)
		}
	}
	if status, _, answer := call(t, "POST", base+"/login", "application/json", "", body); status != 200 {
		t.Fatalf("JSON login: %d %s", status, answer)
	}
}

// TestLoginClientNotOfferedPasswordGrant: oauthkit-login serves /login, and
// is not offered the password grant at the token endpoint (a public client:
// there any web page could post guesses as form bodies); its refresh token
// from /login still works there.
func TestLoginClientNotOfferedPasswordGrant(t *testing.T) {
	base, _ := startExample(t)
	form := "grant_type=password&client_id=" + loginClientID + "&username=user1&password=password1"
	status, _, body := call(t, "POST", base+"/oauth/token", "application/x-www-form-urlencoded", "", form)
	if status != 400 || !strings.Contains(body, `"unauthorized_client"`) {
		t.Fatalf("password grant for %s: %d %s", loginClientID, status, body)
	}
}

// TestLoginClientUpdatedInStore: a persistent store that still holds the
// login client of an earlier version, registered for the password grant,
// gets the current registration at start (the example owns that client),
// where other stored clients are kept as they are.
func TestLoginClientUpdatedInStore(t *testing.T) {
	spec := sqliteSpec(t)
	st, _, err := openStore(t.Context(), spec)
	if err != nil {
		t.Fatal(err)
	}
	err = st.CreateClient(t.Context(), &store.Client{
		ID: loginClientID, Name: "oauthkit example login", AuthMethod: store.AuthNone, FirstParty: true,
		GrantTypes: []string{store.GrantPassword, store.GrantRefreshToken}, Scopes: []string{"read", "write"},
	})
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	base, _ := startExample(t, "-store", spec)
	form := "grant_type=password&client_id=" + loginClientID + "&username=user1&password=password1"
	status, _, body := call(t, "POST", base+"/oauth/token", "application/x-www-form-urlencoded", "", form)
	if status != 400 || !strings.Contains(body, `"unauthorized_client"`) {
		t.Fatalf("password grant for the stored %s: %d %s", loginClientID, status, body)
	}
	status, _, body = call(t, "POST", base+"/login", "application/json", "", `{"username": "user1", "password": "password1"}`)
	if status != 200 {
		t.Fatalf("/login: %d %s", status, body)
	}
}
