package store

import "errors"

// Sentinel errors every backend returns, so callers can branch with errors.Is.
var (
	// ErrNotFound means no live record matches: it never existed, it expired,
	// or it was revoked. Callers must not learn which.
	ErrNotFound = errors.New("store: not found")

	// ErrConsumed means a single-use token (an authorization code or a
	// rotated refresh token) was already used. The backend returns it together
	// with the token, so the caller can revoke the token's family.
	ErrConsumed = errors.New("store: already consumed")

	// ErrRevoked means the token's family was revoked; nothing more may be
	// issued in it.
	ErrRevoked = errors.New("store: family revoked")

	// ErrExists means a record with the same key is already stored.
	ErrExists = errors.New("store: already exists")

	// ErrInvalidClient means a client registration breaks a rule of
	// [Client.Validate] (it is not OAuth's invalid_client, a failed client
	// authentication). The error is a *[ValidationError], which carries the
	// RFC 7591 error code to answer with.
	ErrInvalidClient = errors.New("store: invalid client registration")

	// ErrReset is wrapped by a [Pinger]'s error when the store found that it
	// lost data it had acknowledged: its server came back empty, or from an
	// older copy (a snapshot), so that registrations may be gone and
	// revoked tokens valid again. It is not a passing outage: the store
	// keeps reporting it until the process restarts, for an operator to
	// look (see the backend's README).
	ErrReset = errors.New("store: the store lost data it had acknowledged")
)
