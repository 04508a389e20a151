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
