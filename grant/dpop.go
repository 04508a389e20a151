package grant

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/oauthkit/oauthkit/internal/dpop"
	"github.com/oauthkit/oauthkit/internal/replay"
	"github.com/oauthkit/oauthkit/store"
)

// DPoP (RFC 9449) at the authorization server. A token request carrying a
// DPoP header has its proof checked by internal/dpop (htm POST, htu the
// token endpoint's URL as the metadata publishes it) after the client is
// authenticated; the tokens it gets are bound to the proof's key:
//
//   - the access token's store.Token.JKT is the key's thumbprint, so that
//     ValidateToken, introspection (cnf) and a JWT access token (cnf.jkt)
//     all tell resource servers; the response says token_type DPoP;
//   - a public client's refresh token is bound too (§5): refreshing it
//     takes a proof by the same key. A confidential client's is not: it
//     authenticates already, and may change keys;
//   - a code of an authorization request with dpop_jkt (§10) is redeemed
//     only with a proof by that key.
//
// A DPoP refresh, one with a bound refresh token or with a proof, gets no
// reuse grace (refresh_retry.go): a client that lost the answer retries
// with a new proof anyway, and the grace could not promise the same
// answer for another key.

// DPoP configures DPoP (RFC 9449) at the token endpoint. The zero value
// accepts proofs, binding the tokens to their key, and requires none.
type DPoP struct {
	// Required refuses token requests without a DPoP proof from every
	// client, as store.Client.DPoPBoundAccessTokens does for one (RFC 9449
	// §5.2). Default false.
	Required bool
	// Algorithms proofs may be signed with (ES256, ES384, EdDSA, PS256,
	// RS256), published as dpop_signing_alg_values_supported. Default
	// ES256, EdDSA, PS256, RS256.
	Algorithms []string
	// ProofMaxAge is how old a proof's iat may be. Default 1 minute.
	ProofMaxAge time.Duration
	// ProofLeeway is how far in the future a proof's iat may be. Default
	// 15 seconds.
	ProofLeeway time.Duration
	// Nonce makes every proof carry a nonce of the server (RFC 9449 §8):
	// a request without it is answered use_dpop_nonce with a DPoP-Nonce
	// header, and every answer to a DPoP request carries the nonce to use
	// next. Nonces are derived from Config.Secret and the time, so that
	// every instance sharing the secret makes and accepts the same.
	// Default false.
	Nonce bool
	// NonceStep is how often the nonce changes; a nonce is accepted for
	// one to two steps. Default 1 minute.
	NonceStep time.Duration
	// Replay records the jti of every accepted proof, so that each is used
	// once. Default Config.Tokens when it implements store.ReplayCache
	// (every oauthkit store does, and PostgreSQL and Redis share it
	// between instances), else this process's, in at most 32 MiB.
	Replay store.ReplayCache
}

// newDPoP returns the token endpoint's proof verifier.
func newDPoP(cfg *Config, sk subkeys) (*dpop.Verifier, error) {
	d := &cfg.DPoP
	rc := d.Replay
	if rc == nil {
		if shared, ok := cfg.Tokens.(store.ReplayCache); ok {
			rc = shared
		} else {
			rc = replay.New(0, cfg.Now)
		}
	}
	var nonces *dpop.Nonces
	if d.Nonce {
		if d.NonceStep == 0 {
			d.NonceStep = time.Minute
		}
		var err error
		if nonces, err = dpop.NewNonces(sk[purposeDPoPNonce], d.NonceStep); err != nil {
			return nil, fmt.Errorf("grant: Config.DPoP: %w", err)
		}
	}
	v, err := dpop.New(dpop.Config{
		Algorithms: d.Algorithms, MaxAge: d.ProofMaxAge, Leeway: d.ProofLeeway,
		Replay: rc, Nonces: nonces, Now: cfg.Now,
	})
	if err != nil {
		return nil, fmt.Errorf("grant: Config.DPoP: %w", err)
	}
	return v, nil
}

// Errors of RFC 9449 at the token endpoint.
const (
	CodeInvalidDPoPProof = "invalid_dpop_proof" // §5: the DPoP proof is invalid
	CodeUseDPoPNonce     = "use_dpop_nonce"     // §8: the proof must carry the DPoP-Nonce sent
)

// endpointURL is the public URL of an endpoint: the issuer followed by its
// path, as the metadata publishes it. A proof's htu must name it.
func endpointURL(issuer, path string) string {
	return strings.TrimSuffix(issuer, "/") + path
}

// tokenProof checks the DPoP proof of a request to the endpoint at url by
// client c, and returns the thumbprint of its key: "" when the request has
// no proof and none is required. With nonces on, it sets the DPoP-Nonce
// header to the nonce to use next.
func (p *Provider) tokenProof(w http.ResponseWriter, r *http.Request, c *store.Client, url string) (string, *Error) {
	header := r.Header["Dpop"] // canonical already: no allocation on the bearer path
	if len(header) == 0 {
		if p.cfg.DPoP.Required || c.DPoPBoundAccessTokens {
			return "", newError(http.StatusBadRequest, CodeInvalidDPoPProof, "a DPoP proof is required")
		}
		return "", nil
	}
	if n := p.dpop.Nonces(); n != nil {
		w.Header().Set("DPoP-Nonce", n.Nonce(p.cfg.Now()))
	}
	proof, err := p.dpop.Verify(r.Context(), header, dpop.Request{Method: http.MethodPost, URL: url})
	if err == nil {
		return proof.JKT, nil
	}
	var pe *dpop.Error
	switch {
	case errors.As(err, &pe) && errors.Is(err, dpop.ErrUseNonce):
		return "", newError(http.StatusBadRequest, CodeUseDPoPNonce, pe.Reason)
	case errors.As(err, &pe):
		return "", newError(http.StatusBadRequest, CodeInvalidDPoPProof, pe.Reason)
	}
	p.cfg.Logger.ErrorContext(r.Context(), "grant: DPoP replay cache failed", "client_id", c.ID, "err", err)
	return "", newError(http.StatusServiceUnavailable, CodeTemporarilyUnavailable, "DPoP proofs cannot be checked now")
}

// proofKey returns the thumbprint of the key of the request's DPoP proof,
// or "" when it had none.
func proofKey(ctx context.Context) string {
	if st := stateFrom(ctx); st != nil {
		return st.jkt
	}
	return ""
}

// checkBinding refuses a request for a grant (a code, a refresh token)
// bound to the key of thumbprint jkt unless its proof is by that key.
func checkBinding(ctx context.Context, jkt string) *Error {
	switch proof := proofKey(ctx); {
	case jkt == "":
		return nil
	case proof == "":
		return newError(http.StatusBadRequest, CodeInvalidDPoPProof, "the grant is bound to a DPoP key: a DPoP proof by that key is required")
	case proof != jkt:
		return errGrant("the DPoP proof is not signed by the key the grant is bound to")
	}
	return nil
}

// bind sets what the tokens of a grant are bound to (RFC 9449 §5): the
// access token to the request's proof key, the refresh token too for a
// public client.
func bind(ctx context.Context, c *store.Client, access, refresh *store.Token) {
	access.JKT = proofKey(ctx)
	refresh.JKT = ""
	if c.Public() {
		refresh.JKT = access.JKT
	}
}
