package middleware

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/oauthkit/oauthkit/internal/dpop"
	"github.com/oauthkit/oauthkit/internal/replay"
)

// DPoPOptions configures DPoP (RFC 9449) at a [Guard]. The zero value
// accepts a DPoP-bound token presented with the DPoP scheme
// ("Authorization: DPoP <token>") and a valid proof in the DPoP header, and
// bearer tokens as before. Whatever the options, a DPoP-bound token
// presented as a bearer token is refused (§7.2), and so is a token that is
// not bound presented with the DPoP scheme: the client believes it holds a
// sender-constrained token, and it does not.
type DPoPOptions struct {
	// Required makes the resource DPoP-only: bearer tokens are refused,
	// and challenges offer the DPoP scheme alone. Default false.
	Required bool
	// Algorithms proofs may be signed with: ES256, ES384, EdDSA, PS256,
	// RS256. Default all but ES384 (whose verification costs several
	// times the others').
	Algorithms []string
	// ProofMaxAge is how old a proof's iat may be. Default 1 minute.
	ProofMaxAge time.Duration
	// ProofLeeway is how far in the future a proof's iat may be. Default
	// 15 seconds.
	ProofLeeway time.Duration
	// Replay records the jti of every accepted proof, so that a proof is
	// used once. Give every instance of the resource server one shared
	// cache (every oauthkit store implements ReplayCache: PostgreSQL and
	// Redis share it between processes), so that a proof replayed to
	// another instance is caught. Default: this process's, in at most
	// ReplayBytes.
	Replay ReplayCache
	// ReplayBytes bounds the in-process replay cache; when it is full of
	// live entries, proofs are refused (503) rather than let through
	// unrecorded. Default 32 MiB, about 350,000 proofs.
	ReplayBytes int
	// NonceKey, if set, makes every proof carry a nonce of this resource
	// server (RFC 9449 §9), derived from the key and the time (at least 32
	// random bytes; every instance must share it). Proofs without it are
	// refused with use_dpop_nonce and a DPoP-Nonce header, and every
	// answer to a DPoP request carries the current nonce. Default none.
	NonceKey []byte
	// NonceStep is how often the nonce changes; a nonce is accepted for
	// one to two steps. Default 1 minute.
	NonceStep time.Duration
	// RequestURL returns the URI a proof's htu must match. Default: https
	// when the connection is TLS, else http, then r.Host and the path.
	// Set it behind a proxy that terminates TLS or changes the host.
	RequestURL func(r *http.Request) string
	// Now is the clock proofs are checked by. Default time.Now.
	Now func() time.Time
}

// ReplayCache records one-time values, as store.ReplayCache (which every
// oauthkit store implements) declares: UseOnce reports whether key is used
// for the first time, and may forget it after until.
type ReplayCache interface {
	UseOnce(ctx context.Context, key string, until time.Time) (bool, error)
}

// newDPoP checks o and returns the Guard's proof verifier.
func newDPoP(o *DPoPOptions) (*dpop.Verifier, error) {
	rc := o.Replay
	if rc == nil {
		rc = replay.New(o.ReplayBytes, o.Now)
	}
	var nonces *dpop.Nonces
	if o.NonceKey != nil {
		if o.NonceStep == 0 {
			o.NonceStep = time.Minute
		}
		var err error
		if nonces, err = dpop.NewNonces(o.NonceKey, o.NonceStep); err != nil {
			return nil, err
		}
	}
	if o.RequestURL == nil {
		o.RequestURL = requestURL
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return dpop.New(dpop.Config{
		Algorithms: o.Algorithms, MaxAge: o.ProofMaxAge, Leeway: o.ProofLeeway,
		Replay: rc, Nonces: nonces, Now: o.Now,
	})
}

// requestURL is the default DPoPOptions.RequestURL.
func requestURL(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host + r.URL.EscapedPath()
}

// checkProof checks the DPoP proof of a request presenting tok (raw) with
// the DPoP scheme. It returns nil when the proof passes, else the refusal.
func (g *Guard) checkProof(w http.ResponseWriter, r *http.Request, raw string, tok *Token) *Error {
	var nonce string
	if n := g.dpop.Nonces(); n != nil {
		// RFC 9449 §8.2, §9: every answer carries the nonce to use next.
		nonce = n.Nonce(g.opts.DPoP.Now())
		w.Header().Set("DPoP-Nonce", nonce)
	}
	_, err := g.dpop.Verify(r.Context(), r.Header.Values("DPoP"), dpop.Request{
		Method: r.Method, URL: g.opts.DPoP.RequestURL(r), AccessToken: raw, JKT: tok.JKT,
	})
	if err == nil {
		return nil
	}
	e := &Error{Status: http.StatusUnauthorized, Code: CodeInvalidDPoPProof, Scheme: SchemeDPoP, DPoPNonce: nonce}
	var pe *dpop.Error
	switch {
	case errors.Is(err, dpop.ErrNoProof):
		e.Description = "a DPoP proof is required with the DPoP scheme"
	case errors.As(err, &pe):
		e.Description = pe.Reason
		if errors.Is(err, dpop.ErrUseNonce) {
			e.Code = CodeUseDPoPNonce
		}
	default:
		if ok, held := g.logs.Allow("dpop"); ok {
			g.opts.Logger.ErrorContext(r.Context(), "middleware: DPoP replay cache failed", "err", err, "suppressed", held)
		}
		e.Status, e.Code, e.Description = http.StatusServiceUnavailable, "", "DPoP proof checking is temporarily unavailable; retry shortly"
		e.RetryAfter = time.Second
	}
	return e
}

// confirmationJKT reads a token's cnf claim (RFC 7800), from a JWT or an
// introspection answer: the thumbprint of its jkt member (RFC 9449 §6),
// or "" when there is no cnf. A cnf this package cannot check (no jkt, a
// jkt that is not a SHA-256 thumbprint, or another confirmation method
// beside it, such as mTLS's x5t#S256) makes the token invalid: taking it
// for a bearer token would let a sender-constrained token be used by
// anyone holding it.
func confirmationJKT(cnf map[string]any) (string, error) {
	if cnf == nil {
		return "", nil
	}
	jkt, _ := cnf["jkt"].(string)
	if len(cnf) != 1 || len(jkt) != 43 || strings.Trim(jkt, b64url) != "" {
		return "", invalid("the token is bound by a confirmation method other than a DPoP key thumbprint")
	}
	return jkt, nil
}

// b64url is the base64url alphabet.
const b64url = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
