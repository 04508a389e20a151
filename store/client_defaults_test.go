package store

import (
	"slices"
	"testing"
)

// TestSetDefaults: the RFC 7591 §2 defaults fill only what is empty.
func TestSetDefaults(t *testing.T) {
	c := &Client{ID: "x"}
	c.SetDefaults()
	if c.AuthMethod != AuthSecretBasic || !slices.Equal(c.GrantTypes, []string{GrantAuthorizationCode}) {
		t.Fatalf("defaults: %+v", c)
	}
	c = &Client{ID: "x", AuthMethod: AuthNone, GrantTypes: []string{GrantRefreshToken}}
	c.SetDefaults()
	if c.AuthMethod != AuthNone || !slices.Equal(c.GrantTypes, []string{GrantRefreshToken}) {
		t.Fatalf("set fields changed: %+v", c)
	}
	c = &Client{ID: "x", GrantTypes: []string{}}
	c.SetDefaults()
	if c.GrantTypes == nil || len(c.GrantTypes) != 0 {
		t.Fatalf("an empty grant list (no grant) was replaced: %+v", c)
	}
}
