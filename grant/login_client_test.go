package grant

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/oauthkit/oauthkit/store"
)

// staticClients is a ClientStore that is not a registry: a host's own list
// of clients, which nothing validated on the way in.
type staticClients map[string]*store.Client

func (s staticClients) Client(_ context.Context, id string) (*store.Client, error) {
	if c, ok := s[id]; ok {
		return c, nil
	}
	return nil, store.ErrNotFound
}

// TestLoginClientChecked: NewProvider validates the login client (it must
// be registered, and pass store.Client.Validate even in a store that does
// not validate), instead of every /login failing with a 500.
func TestLoginClientChecked(t *testing.T) {
	f := newFixture(t)
	good := &store.Client{ID: "login", AuthMethod: store.AuthNone, GrantTypes: []string{store.GrantRefreshToken}, Scopes: []string{"read"}}
	for name, c := range map[string]struct {
		clients staticClients
		want    string
	}{
		"missing":           {staticClients{}, "not a registered client"},
		"unknown method":    {staticClients{"login": {ID: "login", AuthMethod: "client_secret_jwt"}}, "token_endpoint_auth_method"},
		"unknown grant":     {staticClients{"login": {ID: "login", AuthMethod: store.AuthNone, GrantTypes: []string{"implicit"}}}, "implicit"},
		"public with hash":  {staticClients{"login": {ID: "login", AuthMethod: store.AuthNone, SecretHash: store.HashSecret("x")}}, "public"},
		"bad scope":         {staticClients{"login": {ID: "login", AuthMethod: store.AuthNone, Scopes: []string{"a\"b"}}}, "scope"},
		"code w/o redirect": {staticClients{"login": {ID: "login", AuthMethod: store.AuthNone, GrantTypes: []string{store.GrantAuthorizationCode}}}, "redirect"},
	} {
		_, err := NewProvider(Config{Issuer: "https://as.example.com", Clients: c.clients, Tokens: f.st, Users: f.st, LoginClientID: "login"})
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.HasPrefix(err.Error(), "grant: ") {
			t.Errorf("%s: %v, want an error about %q", name, err, c.want)
		}
		if name != "missing" && !errors.Is(err, store.ErrInvalidClient) {
			t.Errorf("%s: %v does not match store.ErrInvalidClient", name, err)
		}
	}
	if _, err := NewProvider(Config{Issuer: "https://as.example.com", Clients: staticClients{"login": good}, Tokens: f.st, Users: f.st, LoginClientID: "login"}); err != nil {
		t.Fatalf("valid login client refused: %v", err)
	}
}
