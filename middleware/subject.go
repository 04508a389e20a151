package middleware

import "strings"

// ClientSubjectPrefix begins the sub of a JWT access token that an oauthkit
// authorization server (grant.ClientSubjectPrefix) issued to a client alone,
// by the client_credentials grant: sub is ClientSubjectPrefix + client_id,
// a namespace no user ID may enter, so that a client is never taken for a
// user (RFC 9068 §5).
const ClientSubjectPrefix = "client:"

// tokenSubject is Token.Subject for a JWT's sub: empty for a client's own
// token — sub is ClientSubjectPrefix + its client_id — and sub as sent
// otherwise (even when it equals client_id: that is a user of that ID).
func tokenSubject(sub, clientID string) string {
	if s, ok := strings.CutPrefix(sub, ClientSubjectPrefix); ok && s == clientID {
		return ""
	}
	return sub
}
