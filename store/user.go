package store

import (
	"context"
	"errors"
)

// ErrInvalidCredentials is returned by [UserStore.Authenticate] when the
// username is unknown or the password is wrong: callers must not learn which.
var ErrInvalidCredentials = errors.New("store: invalid credentials")

// User is a resource owner.
type User struct {
	ID       string // stable identifier, the token's subject
	Username string // what the user types at login
}

// UserStore is the usergetter: it checks a resource owner's password.
//
// A host with its own user database implements it in a few lines; the memory
// backend keeps argon2id hashes (store/password).
type UserStore interface {
	// Authenticate returns the user whose username and password match, or
	// ErrInvalidCredentials. It should take about as long for an unknown
	// username as for a wrong password, so that timing reveals nothing. It
	// should be safe for concurrent use.
	Authenticate(ctx context.Context, username, password string) (*User, error)
}

// AccountKeyer is an optional interface a [UserStore] may implement to name
// the account that a login attempt is throttled under. Without it, failed
// attempts are counted by the username exactly as typed; a store whose
// logins are case-insensitive (or that accepts an e-mail address and a
// user name for one account) implements it so that every spelling of one
// account shares one count.
type AccountKeyer interface {
	// AccountKey returns the key failed logins for username are counted
	// under: the same for every username Authenticate takes for one
	// account, for example the case-folded name. It is called before
	// Authenticate, for usernames that may not exist, so it should not
	// consult the database. It should be safe for concurrent use.
	AccountKey(username string) string
}
