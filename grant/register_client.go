package grant

import (
	"context"
	"fmt"
	"time"

	"github.com/oauthkit/oauthkit/store"
)

// RegisterClient completes the registration c and stores it in reg: the one
// call that adds a client. Fields c leaves empty get their RFC 7591 §2
// defaults ([store.Client.SetDefaults]: client_secret_basic,
// authorization_code), and CreatedAt the current time. A client that
// authenticates with a secret (client_secret_basic or client_secret_post)
// and has no SecretHash gets a new 256-bit secret ([NewClientSecret]),
// returned here, once: only its hash is kept. For any other client (a
// public one, one with keys, or one whose SecretHash is already set) the
// returned secret is empty.
//
// c is completed in place, then checked with [store.Client.Validate]: a
// refused registration returns Validate's *store.ValidationError
// (errors.Is(err, store.ErrInvalidClient)) and stores nothing; a taken ID
// returns reg's store.ErrExists.
func RegisterClient(ctx context.Context, reg store.ClientRegistry, c *store.Client) (secret string, err error) {
	c.SetDefaults()
	if c.CreatedAt.IsZero() {
		c.CreatedAt = time.Now()
	}
	if (c.AuthMethod == store.AuthSecretBasic || c.AuthMethod == store.AuthSecretPost) && c.SecretHash.IsZero() {
		if secret, c.SecretHash, err = NewClientSecret(); err != nil {
			return "", fmt.Errorf("grant: client secret: %w", err)
		}
	}
	if err := c.Validate(); err != nil {
		return "", err
	}
	if err := reg.CreateClient(ctx, c); err != nil {
		return "", err
	}
	return secret, nil
}
