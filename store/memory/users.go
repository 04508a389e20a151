package memory

import (
	"context"
	"fmt"
	"sync"

	"github.com/oauthkit/oauthkit/store"
	"github.com/oauthkit/oauthkit/store/password"
)

type userEntry struct {
	user store.User
	phc  string
}

type userTable struct {
	obs    store.Observer
	mu     sync.RWMutex
	users  map[string]*userEntry // by username
	params password.Params
	dummy  string // hash checked for unknown usernames, so timing reveals nothing
}

func (t *userTable) init() {
	t.users = make(map[string]*userEntry)
	if t.params == (password.Params{}) {
		t.params = password.DefaultParams()
	}
}

// WithPasswordParams sets the argon2id cost used by AddUser (default
// password.DefaultParams()). Lower it only in tests.
func WithPasswordParams(p password.Params) Option {
	return func(s *Store) { s.userTable.params = p }
}

// AddUser registers a user with the given ID, username and password; the
// password is kept only as an argon2id hash.
func (s *Store) AddUser(id, username, pw string) error {
	phc, err := password.HashWith(pw, s.userTable.params)
	if err != nil {
		return err
	}
	t := &s.userTable
	t.mu.Lock()
	defer t.mu.Unlock()
	if _, ok := t.users[username]; ok {
		return fmt.Errorf("memory: user %q: %w", username, store.ErrExists)
	}
	if t.dummy == "" {
		t.dummy = phc // same cost parameters as real users
	}
	t.users[username] = &userEntry{user: store.User{ID: id, Username: username}, phc: phc}
	return nil
}

// Authenticate checks username and password. An unknown username costs one
// password hash too, and gives the same store.ErrInvalidCredentials.
func (t *userTable) Authenticate(ctx context.Context, username, pw string) (_ *store.User, err error) {
	defer t.obs.Done(ctx, "Authenticate", t.obs.Start(), &err)
	t.mu.RLock()
	e, ok := t.users[username]
	dummy := t.dummy
	t.mu.RUnlock()
	phc := dummy
	if ok {
		phc = e.phc
	}
	if phc == "" {
		return nil, store.ErrInvalidCredentials
	}
	match, err := password.Verify(phc, pw)
	if err != nil {
		return nil, err
	}
	if !ok || !match {
		return nil, store.ErrInvalidCredentials
	}
	u := e.user
	return &u, nil
}
