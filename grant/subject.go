package grant

import (
	"errors"
	"fmt"
	"strings"

	"github.com/oauthkit/oauthkit/middleware"
	"github.com/oauthkit/oauthkit/store"
)

// ClientSubjectPrefix begins the subject of a token issued to a client
// alone (client_credentials): its JWT access token's sub is
// ClientSubjectPrefix + client_id. User IDs are the other namespace: the
// Provider issues no authorization code or token to a user whose ID is
// empty or begins with ClientSubjectPrefix (it answers server_error and
// logs the error), so that no user's sub can ever equal a client's, and a
// resource server cannot take a client for a user (RFC 9068 §5). It is
// middleware.ClientSubjectPrefix, which the JWKS validator reads.
const ClientSubjectPrefix = middleware.ClientSubjectPrefix

// clientSubject is the sub of a token issued to client id alone.
func clientSubject(id string) string { return ClientSubjectPrefix + id }

// checkSubject refuses a user whose ID could be mistaken for a client's:
// empty (a token without subject is a client's) or in the client
// namespace. A nil user (client_credentials) passes.
func checkSubject(u *store.User) error {
	switch {
	case u == nil:
		return nil
	case u.ID == "":
		return errors.New("grant: the user store returned a user without ID; no token is issued for it")
	case strings.HasPrefix(u.ID, ClientSubjectPrefix):
		return fmt.Errorf("grant: user ID %q begins with ClientSubjectPrefix %q, reserved for clients; no token is issued for it", u.ID, ClientSubjectPrefix)
	}
	return nil
}
