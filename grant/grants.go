package grant

import (
	"errors"
	"net/http"
	"net/url"
	"slices"

	"github.com/oauthkit/oauthkit/store"
)

// grantType is one grant the token endpoint serves. The table below is the
// one place a grant type is added: the token endpoint dispatches through it,
// NewProvider checks Config.GrantTypes against it, and the metadata document
// lists Config.GrantTypes from it. The classic grants are sequenced by the
// go-oauth2 engine (engine.go); a grant it cannot sequence (the device code
// grant, token exchange) gets a native serve function of its own file.
type grantType struct {
	// byEngine marks grants the go-oauth2 engine sequences.
	byEngine bool
	// needs reports what the grant requires of the configuration, and
	// fills in the defaults of its part of it.
	needs func(c *Config) error
	// prepare adjusts the request's form before serve runs; may be nil.
	prepare func(form url.Values)
	// serve issues tokens to the authenticated client of st, or returns
	// why not (an *Error, or an internal error).
	serve func(p *Provider, r *http.Request, st *reqState) (*issued, error)
}

// grantTypes maps each grant_type value to its grant: a constant table.
var grantTypes = map[string]grantType{
	store.GrantAuthorizationCode: {byEngine: true, serve: (*Provider).viaEngine, prepare: omitRedirectURI},
	store.GrantClientCredentials: {byEngine: true, serve: (*Provider).viaEngine},
	store.GrantRefreshToken:      {byEngine: true, serve: (*Provider).viaEngine},
	store.GrantPassword:          {byEngine: true, serve: (*Provider).viaEngine, needs: needsUsers},
	store.GrantDeviceCode:        {serve: (*Provider).deviceCodeGrant, needs: needsDevice}, // device.go
}

// defaultGrantTypes are served when Config.GrantTypes is nil (RFC 9700 §2.1:
// no implicit grant, no password grant).
var defaultGrantTypes = []string{store.GrantAuthorizationCode, store.GrantClientCredentials, store.GrantRefreshToken}

func needsUsers(c *Config) error {
	if c.Users == nil {
		return errors.New("grant: the password grant needs Config.Users")
	}
	return nil
}

// checkGrantTypes checks Config.GrantTypes against the table.
func (c *Config) checkGrantTypes() error {
	if c.GrantTypes == nil {
		c.GrantTypes = slices.Clone(defaultGrantTypes)
	}
	for _, name := range c.GrantTypes {
		g, ok := grantTypes[name]
		if !ok {
			return errors.New("grant: unsupported grant type " + quoteName(name))
		}
		if g.needs != nil {
			if err := g.needs(c); err != nil {
				return err
			}
		}
	}
	return nil
}

// serves reports whether the provider serves grant type name.
func (p *Provider) serves(name string) bool { return slices.Contains(p.cfg.GrantTypes, name) }

// viaEngine runs a classic grant through the go-oauth2 engine, whose Manager
// (manager.go) records the result in st.
func (p *Provider) viaEngine(r *http.Request, st *reqState) (*issued, error) {
	ogt, tgr, err := p.engine.ValidationTokenRequest(r)
	if err != nil {
		return nil, err
	}
	if _, err := p.engine.GetAccessToken(r.Context(), ogt, tgr); err != nil {
		return nil, err
	}
	return st.result, nil
}

// omittedRedirectURI stands in for a redirect_uri that an authorization code
// request left out, because go-oauth2 insists on one (audit row 16); the
// Manager reads it as "omitted", which RFC 6749 §4.1.3 allows exactly when
// the authorization request omitted it too.
const omittedRedirectURI = "urn:oauthkit:redirect-uri-omitted"

func omitRedirectURI(form url.Values) {
	if len(form["redirect_uri"]) == 0 {
		form["redirect_uri"] = []string{omittedRedirectURI}
	}
}

// quoteName quotes a configured name for an error message.
func quoteName(s string) string {
	if len(s) > 64 {
		s = s[:64] + "…"
	}
	return `"` + s + `"`
}
