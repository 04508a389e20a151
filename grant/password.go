package grant

import (
	"context"
	"errors"
	"time"

	"github.com/oauthkit/oauthkit/store"
)

// checkPassword authenticates a resource owner. The attempt is reserved
// with the throttle before the password is looked at (throttle.go), and at
// most Throttle.MaxPasswordChecks hashes run at once; beyond that the
// answer is an immediate 503. Unknown user and wrong password give the
// same answer.
func (p *Provider) checkPassword(ctx context.Context, addr, username, pw string) (*store.User, *Error) {
	if !validUsername(username) {
		return nil, errRequest("the username is malformed")
	}
	account := username
	if k, ok := p.cfg.Users.(store.AccountKeyer); ok {
		account = k.AccountKey(username)
	}
	a, e := p.reserve(ctx, "user\x00"+account, addr)
	if e != nil {
		return nil, e
	}
	select {
	case p.checks <- struct{}{}:
	default:
		p.settle(ctx, a, false)
		return nil, errBusy(time.Second)
	}
	u, err := p.users.Authenticate(ctx, username, pw)
	<-p.checks
	switch {
	case errors.Is(err, store.ErrInvalidCredentials):
		return nil, errGrant("invalid username or password") // the attempt stays taken
	case err != nil:
		p.settle(ctx, a, false)
		return nil, p.failure(ctx, "grant: user authentication failed", err)
	}
	p.settle(ctx, a, true)
	return u, nil
}

// passwordUser is the engine's password-grant callback. The client was
// authenticated before the engine ran (audit row 8).
func (p *Provider) passwordUser(ctx context.Context, _, username, pw string) (string, error) {
	st := stateFrom(ctx)
	if st == nil {
		return "", errServer
	}
	u, e := p.checkPassword(ctx, st.addr, username, pw)
	if e != nil {
		return "", e
	}
	st.user = u
	return u.ID, nil
}
