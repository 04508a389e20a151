package store

import (
	"context"
	"time"
)

// Kind says what a stored token is.
type Kind uint8

// The kinds of token a store keeps.
const (
	KindCode    Kind = 1 // an authorization code
	KindAccess  Kind = 2 // an access token
	KindRefresh Kind = 3 // a refresh token
)

// String returns the kind's name as RFC 7009 token_type_hint spells it.
func (k Kind) String() string {
	switch k {
	case KindCode:
		return "authorization_code"
	case KindAccess:
		return "access_token"
	case KindRefresh:
		return "refresh_token"
	}
	return "unknown"
}

// Token is an issued authorization code, access token or refresh token,
// identified by the SHA-256 of its value: the value itself is never stored.
//
// Every token issued from one authorization (a code, the tokens exchanged for
// it, and every rotation of its refresh token) shares a Family, so that the
// whole grant can be revoked at once. A token issued alone (a
// client_credentials access token) may have an empty Family: it belongs to
// no family, and RevokeFamily("") should do nothing.
type Token struct {
	Hash      Hash      // SHA-256 of the token value
	Kind      Kind      // code, access or refresh
	Family    string    // the grant this token belongs to; empty for a lone token
	ClientID  string    // the client it was issued to
	Subject   string    // the user's ID; empty for client_credentials
	Username  string    // the user's login name, for introspection
	Scopes    []string  // granted scopes; shared, treat as read-only
	IssuedAt  time.Time // when it was issued
	ExpiresAt time.Time // when it stops being valid

	// ConsumedAt is when ConsumeToken first took the token; stores set it
	// and return it together with ErrConsumed. Zero until then.
	ConsumedAt time.Time

	// Audience is the resources the token is for (RFC 8707 resource
	// indicators, absolute URIs); an authorization code carries those its
	// authorization request asked for. Empty: none recorded. Shared, treat
	// as read-only; an empty Audience may come back nil.
	Audience []string

	// JKT is the RFC 7638 JWK SHA-256 thumbprint (base64url) of the key the
	// token is bound to (DPoP, RFC 9449 cnf.jkt); empty for a bearer token.
	// A code carries the dpop_jkt of its authorization request.
	JKT string

	// AuthTime is when the user authenticated (OpenID Connect auth_time),
	// for a code and for every token of its grant; zero when unknown.
	AuthTime time.Time

	// Authorization codes only: what the code is bound to.
	RedirectURI   string // the redirect_uri sent to the authorize endpoint, if any
	CodeChallenge string // PKCE S256 challenge
	Nonce         string // the OpenID Connect nonce of the authorization request, if any
}

// TokenStore is the grantgetter/grantsetter and tokengetter/tokensetter in one.
//
// Tokens are looked up by [Hash]. A store should treat a token whose
// ExpiresAt is not after the current time as absent, and may delete it.
// Times should round-trip to at least the millisecond, except AuthTime: at
// least the second (the millisecond where the backend keeps it). A zero
// AuthTime or ConsumedAt should stay zero; an empty Scopes or Audience may
// come back nil. Every other field should round-trip exactly, through Token
// and through ConsumeToken (ErrConsumed's copy included).
//
// Every method should be safe for concurrent use and honour ctx: called with
// a canceled or expired ctx, it should return an error wrapping ctx.Err()
// rather than block. Sentinel errors may be wrapped; compare with errors.Is.
// The suite in store/storetest checks all of this.
type TokenStore interface {
	// CreateToken stores t. It should return ErrExists if a token with the
	// same hash is stored, and ErrRevoked if t's family has been revoked.
	// A token that has already expired should be accepted (nil) and then
	// never found.
	CreateToken(ctx context.Context, t *Token) error

	// Token returns the live token with hash h. It should return
	// ErrNotFound if the token is unknown, expired, consumed or revoked.
	Token(ctx context.Context, h Hash) (Token, error)

	// ConsumeToken atomically marks the live token with hash h as used and
	// returns it. However many callers race, exactly one should succeed.
	// For a token already consumed, it should return the token (with
	// ConsumedAt set to the time of the first, winning call) together with
	// ErrConsumed, for as long as the token would otherwise have lived,
	// so that the caller can revoke its family. Unknown, expired or revoked
	// tokens give ErrNotFound.
	ConsumeToken(ctx context.Context, h Hash) (Token, error)

	// RevokeToken revokes the token with hash h alone, consumed or not; its
	// family stays usable. If there is no such token, RevokeToken should be
	// a no-op and return nil. A store that is no Exchanger should keep a
	// record of the revoked hash until the token would have expired, so
	// that CreateToken answers ErrExists for it: a refresh retried without
	// an Exchanger stores the tokens it does not find, and would otherwise
	// bring back an access token revoked since (the memory and Redis
	// stores keep one).
	RevokeToken(ctx context.Context, h Hash) error

	// RevokeFamily revokes every token of the family, and should make
	// CreateToken fail with ErrRevoked for that family from then on (at
	// least until the family's last token would have expired). Revoking an
	// unknown family should be a no-op and return nil.
	RevokeFamily(ctx context.Context, family string) error

	// RevokeClient revokes every token issued to the client (codes, access
	// and refresh tokens, in a family or not): later lookups of them, with
	// Token or ConsumeToken, should give ErrNotFound. A client with no
	// tokens should be a no-op and return nil. Tokens created concurrently
	// with the call may escape it: callers should delete the client first,
	// so that no new token can be issued to it.
	RevokeClient(ctx context.Context, clientID string) error
}
