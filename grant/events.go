package grant

import "time"

// EventKind says what happened.
type EventKind string

// The events a Provider reports through Config.OnEvent.
const (
	EventIssued  EventKind = "issued"  // a token response was sent
	EventRefused EventKind = "refused" // a token or login request was refused
	EventRevoked EventKind = "revoked" // tokens were revoked (also on code replay and refresh reuse)
)

// Event is one outcome at the token endpoints. It carries no secrets.
type Event struct {
	Kind      EventKind
	GrantType string   // the grant asked for, if any
	ClientID  string   // the client, once known; for refusals as claimed (by either method), cut to 64 bytes and escaped
	Subject   string   // the user, for user grants
	Scopes    []string // the scopes granted
	Family    string   // the grant the tokens belong to
	Error     string   // the RFC 6749 error code, for refusals
	Reason    string   // why tokens were revoked, or the refusal's description
	Addr      string   // the client address
}

// IssuedToken describes a token response about to be sent, for
// Config.ExtraTokenFields. It carries no token values.
type IssuedToken struct {
	GrantType string
	ClientID  string
	Subject   string
	Scopes    []string
	Family    string
	ExpiresIn time.Duration
}
