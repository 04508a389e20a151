package grant

import (
	"maps"
	"slices"
	"testing"

	"github.com/oauthkit/oauthkit/store"
	"github.com/oauthkit/oauthkit/store/memory"
)

// TestGrantTable: every grant type in the table can be configured (given
// what it needs) and is then the only thing the token endpoint dispatches
// to; anything outside the table is refused at construction.
func TestGrantTable(t *testing.T) {
	st := memory.New()
	// What each grant with needs lacks in a configuration of only the
	// required fields; Users and a DeviceStore provide it.
	lacking := map[string]func(c *Config){
		store.GrantPassword:   func(*Config) {}, // no Users
		store.GrantDeviceCode: func(c *Config) { c.Tokens = struct{ store.TokenStore }{st} },
	}
	for name, g := range grantTypes {
		if g.serve == nil {
			t.Errorf("grant %q has no serve function", name)
		}
		cfg := Config{Issuer: "https://as.example.com", Clients: st, Tokens: st, GrantTypes: []string{name}}
		if g.needs != nil {
			without := cfg
			if lacking[name] == nil {
				t.Fatalf("grant %q: the test does not know what it needs", name)
			}
			lacking[name](&without)
			if _, err := NewProvider(without); err == nil {
				t.Errorf("grant %q: NewProvider accepted a configuration missing what the grant needs", name)
			}
			cfg.Users = st
		}
		p, err := NewProvider(cfg)
		if err != nil {
			t.Errorf("grant %q: %v", name, err)
			continue
		}
		if !p.serves(name) || slices.ContainsFunc(slices.Collect(maps.Keys(grantTypes)), func(o string) bool { return o != name && p.serves(o) }) {
			t.Errorf("grant %q: serves the wrong set %v", name, p.cfg.GrantTypes)
		}
		if got := p.metadata().GrantTypesSupported; !slices.Equal(got, []string{name}) {
			t.Errorf("grant %q: metadata lists %v", name, got)
		}
	}
	for _, bad := range []string{"implicit", "token", "", "urn:ietf:params:oauth:grant-type:jwt-bearer"} {
		if _, err := NewProvider(Config{Issuer: "https://as.example.com", Clients: st, Tokens: st, GrantTypes: []string{bad}}); err == nil {
			t.Errorf("grant type %q was accepted", bad)
		}
	}
	p, err := NewProvider(Config{Issuer: "https://as.example.com", Clients: st, Tokens: st})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(p.cfg.GrantTypes, defaultGrantTypes) || p.serves(store.GrantPassword) {
		t.Errorf("default grant types = %v", p.cfg.GrantTypes)
	}
}
