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

// The reasons of EventRevoked, in Event.Reason: a client revoking its
// tokens, the host deleting a client, and the revocations that answer a
// stolen credential (a code or refresh token used twice, or by another
// client), which revoke the whole grant.
const (
	ReasonRefreshRevoked     = "refresh token revoked by its client"                 // RFC 7009: the whole grant
	ReasonAccessRevoked      = "access token revoked by its client"                  // RFC 7009: that token alone
	ReasonClientDeleted      = "client deleted"                                      // Provider.RevokeClient
	ReasonCodeReplayed       = "authorization code replayed"                         // RFC 6749 §4.1.2
	ReasonDeviceCodeReplayed = "device code replayed"                                // RFC 8628: a device code redeemed twice
	ReasonRefreshReused      = "refresh token reused"                                // RFC 9700 §4.14.2: a rotated refresh token presented again
	ReasonRotationReused     = "refresh token reused after its rotation was used"    // a retried refresh whose answer was already used
	ReasonRotationMissing    = "refresh token reused, its rotation not in the store" // a retry whose rotation the store never held (another Config.Secret derived it)
	ReasonRefreshOtherClient = "refresh token presented by another client"           // RFC 6749 §6
	ReasonRotatedOtherClient = "rotated refresh token presented by another client"   // within the retry grace, by another client
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
