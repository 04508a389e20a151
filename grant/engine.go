package grant

import (
	"context"
	"net/http"

	"github.com/go-oauth2/oauth2/v4"
	oerrors "github.com/go-oauth2/oauth2/v4/errors"
	"github.com/go-oauth2/oauth2/v4/server"

	"github.com/oauthkit/oauthkit/store"
)

// The go-oauth2 server is the protocol engine: it parses token requests,
// checks the grant type against the allowed list and sequences each grant.
// Everything it does insecurely by default is replaced here or checked in
// front of it (see DESIGN.md's audit table):
//
//   - the Manager is ours (manager.go): hashed tokens, atomic single use,
//     rotation with reuse detection, scopes never widened, client binding;
//   - client authentication happens before the engine runs (clientauth.go),
//     so the password grant never checks a password for an unauthenticated
//     client, and the engine sees only the authenticated client's ID;
//   - only response_type=code and S256 PKCE are allowed; no implicit grant;
//   - parameters come from the POST body alone (form.go) and errors get
//     RFC 6749 statuses (errors.go).

// reqState carries what the handler in front of the engine established, to
// the engine's callbacks and the Manager.
type reqState struct {
	client    *store.Client
	addr      string      // the client address, for throttling
	user      *store.User // set by the password callback
	result    *issued     // set by the Manager
	jkt       string      // thumbprint of the DPoP proof's key; "" without one (dpop.go)
	resources []string    // the request's resource parameters, canonical (resource.go)
}

type stateKey struct{}

func withState(ctx context.Context, st *reqState) context.Context {
	return context.WithValue(ctx, stateKey{}, st)
}

func stateFrom(ctx context.Context) *reqState {
	st, _ := ctx.Value(stateKey{}).(*reqState)
	return st
}

func newEngine(p *Provider) *server.Server {
	var gts []oauth2.GrantType
	for _, gt := range p.cfg.GrantTypes {
		if grantTypes[gt].byEngine {
			gts = append(gts, oauth2.GrantType(gt))
		}
	}
	s := server.NewServer(&server.Config{
		TokenType:                   "Bearer",
		AllowedResponseTypes:        []oauth2.ResponseType{oauth2.Code},
		AllowedGrantTypes:           gts,
		AllowedCodeChallengeMethods: []oauth2.CodeChallengeMethod{oauth2.CodeChallengeS256},
	}, &manager{p: p})
	s.ClientInfoHandler = func(r *http.Request) (string, string, error) {
		if st := stateFrom(r.Context()); st != nil {
			return st.client.ID, "", nil
		}
		return "", "", oerrors.ErrInvalidClient
	}
	s.PasswordAuthorizationHandler = p.passwordUser
	s.AccessTokenResolveHandler = func(*http.Request) (string, bool) { return "", false } // the middleware does this
	return s
}
