package grant

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/oauthkit/oauthkit/store"
)

// checkPassword authenticates a resource owner, throttled per account and
// address (see throttle.go). Unknown user and wrong password give the same
// answer.
func (p *Provider) checkPassword(ctx context.Context, addr, username, pw string) (*store.User, *Error) {
	if wait := p.throttle.wait(username, addr); wait > 0 {
		return nil, errSlowDown(wait)
	}
	u, err := p.cfg.Users.Authenticate(ctx, username, pw)
	if errors.Is(err, store.ErrInvalidCredentials) {
		p.throttle.fail(username, addr)
		return nil, errGrant("invalid username or password")
	}
	if err != nil {
		p.cfg.Logger.ErrorContext(ctx, "grant: user authentication failed", "err", err)
		return nil, errServer
	}
	p.throttle.succeed(username, addr)
	return u, nil
}

func errSlowDown(wait time.Duration) *Error {
	e := newError(http.StatusTooManyRequests, CodeSlowDown, "too many failed attempts; retry later")
	e.retryAfter = wait
	return e
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
