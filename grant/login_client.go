package grant

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/oauthkit/oauthkit/store"
)

// loginClientTimeout bounds NewProvider's lookup of the login client.
const loginClientTimeout = 5 * time.Second

// checkLoginClient looks up the client of Config.LoginClientID and checks
// its registration with store.Client.Validate, so that a login client that
// is missing, or invalid in a ClientStore that is not a registry (which
// validates on CreateClient), is an error of NewProvider rather than a 500
// at every /login. A login client registered for the password grant is
// accepted with a warning: the token endpoint then takes its passwords too.
func (c *Config) checkLoginClient() error {
	id := c.LoginClientID
	if id == "" {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), loginClientTimeout)
	defer cancel()
	cl, err := c.Clients.Client(ctx, id)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return fmt.Errorf("grant: Config.LoginClientID %s is not a registered client", quoteName(id))
	case err != nil:
		return fmt.Errorf("grant: looking up the login client %s: %w", quoteName(id), err)
	}
	if err := cl.Validate(); err != nil {
		return fmt.Errorf("grant: the login client %s: %w", quoteName(id), err)
	}
	if cl.AllowsGrant(store.GrantPassword) && slices.Contains(c.GrantTypes, store.GrantPassword) {
		c.Logger.Warn("grant: the login client is registered for the password grant, so the token endpoint takes its passwords too, from form bodies any web page can send; register it without (LoginHandler needs no password grant)",
			"client_id", id)
	}
	return nil
}
