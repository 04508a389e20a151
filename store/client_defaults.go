package store

// SetDefaults gives the fields of a registration that RFC 7591 §2 has
// defaults for their default where c omits them: AuthMethod ""
// becomes client_secret_basic, GrantTypes nil becomes [authorization_code]
// (an empty, non-nil GrantTypes, as JSON's [] decodes, stays empty: a client
// that uses no grant, such as a resource server that only introspects). It
// sets nothing else; [Client.Validate] then says whether the registration is
// complete (authorization_code needs a redirect URI, client_secret_basic a
// secret).
func (c *Client) SetDefaults() {
	if c.AuthMethod == "" {
		c.AuthMethod = AuthSecretBasic
	}
	if c.GrantTypes == nil {
		c.GrantTypes = []string{GrantAuthorizationCode}
	}
}
