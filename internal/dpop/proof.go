package dpop

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	josejwt "github.com/go-jose/go-jose/v4/jwt"
)

// Sentinel errors of Verify; a refusal is an *[Error] wrapping
// ErrInvalidProof or ErrUseNonce. Any other error is a failure of the
// replay cache.
var (
	// ErrNoProof means the request carries no DPoP header.
	ErrNoProof = errors.New("dpop: no DPoP proof")
	// ErrInvalidProof means the proof breaks a rule of RFC 9449 §4.3
	// (invalid_dpop_proof).
	ErrInvalidProof = errors.New("dpop: invalid DPoP proof")
	// ErrUseNonce means the proof lacks the server's current nonce
	// (use_dpop_nonce): the client should retry with a new proof carrying
	// the nonce the server sends in its DPoP-Nonce header.
	ErrUseNonce = errors.New("dpop: the proof must carry the server's nonce")
)

// Error is a refused proof. Reason says why, and is safe to show to the
// client (it never repeats what the client sent).
type Error struct {
	kind   error // ErrInvalidProof or ErrUseNonce
	Reason string
}

// Error returns the kind and the reason.
func (e *Error) Error() string { return e.kind.Error() + ": " + e.Reason }

// Unwrap returns ErrInvalidProof or ErrUseNonce.
func (e *Error) Unwrap() error { return e.kind }

func invalid(reason string) error { return &Error{kind: ErrInvalidProof, Reason: reason} }

// ReplayCache records one-time values: store.ReplayCache's method set
// (every oauthkit store has it), declared here so that this package needs
// no store. UseOnce reports whether key is used for the first time, and
// may forget it after until.
type ReplayCache interface {
	UseOnce(ctx context.Context, key string, until time.Time) (bool, error)
}

// SupportedAlgorithms are the JWS algorithms this package verifies proofs
// of (RFC 9449 §11.6: asymmetric only, never none).
var SupportedAlgorithms = []string{"ES256", "ES384", "EdDSA", "PS256", "RS256"}

// DefaultAlgorithms are the algorithms proofs may be signed with when
// Config.Algorithms is empty: the supported ones but ES384, whose
// verification costs several times the others' (BenchmarkVerify), so that
// a client choosing it cannot make the server spend more than a few tens
// of microseconds per proof.
var DefaultAlgorithms = []string{"ES256", "EdDSA", "PS256", "RS256"}

// RSA keys are accepted from 2048 bits (RFC 7518 §3.3) to 4096, so that a
// huge modulus cannot make verification slow.
const (
	minRSABits = 2048
	maxRSABits = 4096
)

// keyFits reports whether key is a public key of the type and size alg
// signs with.
func keyFits(alg string, key any) bool {
	switch k := key.(type) {
	case *ecdsa.PublicKey:
		return alg == "ES256" && k.Curve == elliptic.P256() || alg == "ES384" && k.Curve == elliptic.P384()
	case ed25519.PublicKey:
		return alg == "EdDSA" && len(k) == ed25519.PublicKeySize
	case *rsa.PublicKey:
		bits := k.N.BitLen()
		return (alg == "RS256" || alg == "PS256") && bits >= minRSABits && bits <= maxRSABits && k.E >= 3 && k.E%2 == 1
	}
	return false
}

// Bounds on what is parsed.
const (
	maxProofBytes = 8 << 10 // a whole proof, RSA-4096 jwk and signature included
	maxJTI        = 256     // bytes of jti; it is stored only as a hash anyway
)

// Config configures a Verifier. Replay is required; every other field's
// comment gives its default.
type Config struct {
	// Algorithms proofs may be signed with, from SupportedAlgorithms.
	// Default DefaultAlgorithms.
	Algorithms []string
	// MaxAge is how old a proof's iat may be. Default 1 minute.
	MaxAge time.Duration
	// Leeway is how far in the future a proof's iat may be, for clients
	// whose clock runs ahead. Default 15 seconds.
	Leeway time.Duration
	// Replay records each proof's jti until the proof is too old to be
	// accepted. Required.
	Replay ReplayCache
	// Nonces, if set, makes every proof carry a nonce of theirs (RFC 9449
	// §8, §9). Default none required.
	Nonces *Nonces
	// Now is the clock. Default time.Now.
	Now func() time.Time
}

// Verifier checks DPoP proofs. It is safe for concurrent use.
type Verifier struct {
	algs   []jose.SignatureAlgorithm
	names  []string
	maxAge time.Duration
	leeway time.Duration
	replay ReplayCache
	nonces *Nonces
	now    func() time.Time
	skip   check // tests only: checks turned off, to show each test needs its check
}

// New checks cfg and returns a Verifier.
func New(cfg Config) (*Verifier, error) {
	if cfg.Replay == nil {
		return nil, errors.New("dpop: Config.Replay is required")
	}
	names := cfg.Algorithms
	if len(names) == 0 {
		names = DefaultAlgorithms
	}
	v := &Verifier{names: slices.Clone(names), maxAge: cfg.MaxAge, leeway: cfg.Leeway, replay: cfg.Replay, nonces: cfg.Nonces, now: cfg.Now}
	for _, a := range names {
		if !slices.Contains(SupportedAlgorithms, a) {
			return nil, fmt.Errorf("dpop: unsupported algorithm %q (supported: %s)", a, strings.Join(SupportedAlgorithms, ", "))
		}
		v.algs = append(v.algs, jose.SignatureAlgorithm(a))
	}
	if v.maxAge == 0 {
		v.maxAge = time.Minute
	}
	if v.leeway == 0 {
		v.leeway = 15 * time.Second
	}
	if v.maxAge < 0 || v.leeway < 0 {
		return nil, errors.New("dpop: MaxAge and Leeway must not be negative")
	}
	if v.now == nil {
		v.now = time.Now
	}
	return v, nil
}

// Algorithms returns the algorithms proofs may be signed with, for
// dpop_signing_alg_values_supported and the algs of a DPoP challenge.
func (v *Verifier) Algorithms() []string { return slices.Clone(v.names) }

// Nonces returns the nonces proofs must carry, or nil.
func (v *Verifier) Nonces() *Nonces { return v.nonces }

// Request is what a proof must match.
type Request struct {
	Method string // the HTTP method
	// URL is the request's target URI as the server is reached (scheme,
	// host, port, path); its query and fragment are ignored.
	URL string
	// AccessToken, at a resource server, is the access token presented
	// with the proof: the proof's ath must be its hash. Empty at the token
	// endpoint.
	AccessToken string
	// JKT, if set, is the thumbprint of the key the access token is bound
	// to: the proof must be signed by that key.
	JKT string
}

// Proof is a proof that passed every check.
type Proof struct {
	JKT      string // RFC 7638 SHA-256 thumbprint of its key, base64url
	Alg      string
	JTI      string
	IssuedAt time.Time
	Nonce    string // the nonce it carried, if any
}

// claims are a proof's payload (RFC 9449 §4.2), decoded by go-jose's JSON
// (member names case-sensitive).
type claims struct {
	JTI   string               `json:"jti"`
	HTM   string               `json:"htm"`
	HTU   string               `json:"htu"`
	IAT   *josejwt.NumericDate `json:"iat"`
	ATH   string               `json:"ath"`
	Nonce string               `json:"nonce"`
}

// Verify checks the proof in header, the values of the request's DPoP
// header field (r.Header.Values("DPoP")), against req. It returns
// ErrNoProof when there is none, an *Error (ErrInvalidProof or
// ErrUseNonce) for a proof it refuses, or another error when the replay
// cache fails. The jti of an accepted proof is recorded, so that the same
// proof is refused the next time, by every server sharing the cache.
func (v *Verifier) Verify(ctx context.Context, header []string, req Request) (*Proof, error) {
	switch {
	case len(header) == 0:
		return nil, ErrNoProof
	case len(header) > 1 && v.on(checkOneHeader):
		return nil, invalid("the request has more than one DPoP header")
	}
	raw := header[0]
	hdr, err := v.header(raw)
	if err != nil {
		return nil, err
	}
	tp, err := hdr.JSONWebKey.Thumbprint(crypto.SHA256)
	if err != nil {
		return nil, invalid("the jwk has no thumbprint")
	}
	jkt := base64.RawURLEncoding.EncodeToString(tp)
	// The key the token is bound to first: a proof by another key costs
	// no signature verification.
	if req.JKT != "" && jkt != req.JKT && v.on(checkBinding) {
		return nil, invalid("the proof is not signed by the key the access token is bound to")
	}
	c, err := v.claims(raw, hdr)
	if err != nil {
		return nil, err
	}
	now := v.now()
	if err := v.match(c, req, now); err != nil {
		return nil, err
	}
	p := &Proof{JKT: jkt, Alg: hdr.Algorithm, JTI: c.JTI, IssuedAt: c.IAT.Time(), Nonce: c.Nonce}
	if v.nonces != nil && !v.nonces.Valid(c.Nonce, now) && v.on(checkNonce) {
		return nil, &Error{kind: ErrUseNonce, Reason: "a nonce is required: retry with the one in the DPoP-Nonce header"}
	}
	if v.on(checkReplay) {
		until := p.IssuedAt.Add(v.maxAge + time.Second) // iat has whole seconds
		first, err := v.replay.UseOnce(ctx, replayKey(p.JKT, c), until)
		if err != nil {
			return nil, fmt.Errorf("dpop: replay cache: %w", err)
		}
		if !first {
			return nil, invalid("the proof was used before (its jti was seen)")
		}
	}
	return p, nil
}

// header checks the proof's syntax and protected header, before the
// signature: one compact JWS of bounded size, typ dpop+jwt, an allowed
// alg, no crit, and a public jwk of the alg's key type.
func (v *Verifier) header(raw string) (*jose.Header, error) {
	if len(raw) > maxProofBytes || !compactJWS(raw) {
		return nil, invalid("the DPoP header is not one compact JWS")
	}
	if v.on(checkPublicJWK) && privateJWK(raw) {
		return nil, invalid("the jwk header holds private key material")
	}
	algs := v.algs
	if !v.on(checkAlg) {
		algs = allAsymmetric
	}
	jws, err := jose.ParseSignedCompact(raw, algs)
	if err != nil {
		if _, ok := errors.AsType[*jose.ErrUnexpectedSignatureAlgorithm](err); ok {
			return nil, invalid("the alg is not one of " + strings.Join(v.names, " "))
		}
		return nil, invalid("the DPoP header is not a well-formed JWS")
	}
	h := &jws.Signatures[0].Header // compact: one signature, all of its header protected
	typ, _ := h.ExtraHeaders[jose.HeaderType].(string)
	_, crit := h.ExtraHeaders["crit"]
	_, b64 := h.ExtraHeaders["b64"]
	switch {
	case v.on(checkTyp) && !strings.EqualFold(typ, "dpop+jwt") && !strings.EqualFold(typ, "application/dpop+jwt"):
		return nil, invalid("the typ is not dpop+jwt")
	case crit || b64:
		return nil, invalid("the header has a critical parameter")
	case h.JSONWebKey == nil:
		return nil, invalid("the header has no jwk")
	case v.on(checkKeyAlg) && !keyFits(h.Algorithm, h.JSONWebKey.Key):
		return nil, invalid("the jwk is not a public key of the alg's type and size")
	}
	return h, nil
}

// allAsymmetric is every asymmetric algorithm go-jose verifies: what a
// verifier without an allow-list would take (tests only).
var allAsymmetric = []jose.SignatureAlgorithm{
	jose.ES256, jose.ES384, jose.ES512, jose.EdDSA, jose.RS256, jose.RS384, jose.RS512, jose.PS256, jose.PS384, jose.PS512,
}

// claims verifies the signature with the jwk and decodes the payload.
func (v *Verifier) claims(raw string, h *jose.Header) (*claims, error) {
	tok, err := josejwt.ParseSigned(raw, []jose.SignatureAlgorithm{jose.SignatureAlgorithm(h.Algorithm)})
	if err != nil {
		return nil, invalid("the DPoP header is not a well-formed JWS")
	}
	c := new(claims)
	if v.on(checkSignature) {
		err = tok.Claims(h.JSONWebKey.Key, c)
	} else {
		err = tok.UnsafeClaimsWithoutVerification(c)
	}
	switch {
	case errors.Is(err, jose.ErrCryptoFailure):
		return nil, invalid("the signature does not verify with the jwk")
	case err != nil:
		return nil, invalid("the claims are not a JSON object of the registered types")
	case v.on(checkClaims) && (c.JTI == "" || c.HTM == "" || c.HTU == "" || c.IAT == nil):
		return nil, invalid("a required claim (jti, htm, htu, iat) is missing")
	case len(c.JTI) > maxJTI:
		return nil, invalid("the jti is too long")
	case c.IAT == nil:
		c.IAT = josejwt.NewNumericDate(v.now()) // only with checkClaims off
	}
	return c, nil
}

// match checks the claims against the request and the time.
func (v *Verifier) match(c *claims, req Request, now time.Time) error {
	if c.HTM != req.Method && v.on(checkHTM) {
		return invalid("the htm is not the request's method")
	}
	if v.on(checkHTU) {
		got, err := NormalizeHTU(c.HTU)
		want, err2 := NormalizeHTU(req.URL)
		if err != nil || err2 != nil || got != want {
			return invalid("the htu is not the request's URI")
		}
	}
	if iat := c.IAT.Time(); v.on(checkIAT) && (iat.Before(now.Add(-v.maxAge)) || iat.After(now.Add(v.leeway))) {
		return invalid("the iat is outside the accepted window")
	}
	if req.AccessToken != "" && c.ATH != ATH(req.AccessToken) && v.on(checkATH) {
		return invalid("the ath is missing or is not the hash of the access token")
	}
	return nil
}

// ATH returns the ath claim of a proof sent with access token at:
// base64url(SHA-256(at)) (RFC 9449 §4.2).
func ATH(at string) string {
	sum := sha256.Sum256([]byte(at))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// replayKey is the replay cache key of a proof: its jti in the context of
// its key, method and URI (RFC 9449 §11.1), hashed, so that what a client
// sends costs the cache a fixed size.
func replayKey(jkt string, c *claims) string {
	h := sha256.New()
	for _, s := range []string{jkt, c.HTM, c.HTU, c.JTI} {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	return "dpop:" + hex.EncodeToString(h.Sum(nil))
}

// compactJWS reports whether raw is three non-empty parts of base64url
// separated by dots: the token68 of RFC 9449 §4.1, as a JWS has it.
func compactJWS(raw string) bool {
	parts := 0
	start := 0
	for i := 0; i <= len(raw); i++ {
		if i == len(raw) || raw[i] == '.' {
			if i == start {
				return false
			}
			parts++
			start = i + 1
			continue
		}
		c := raw[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return parts == 3
}

// privateMembers are the JWK members that carry private or symmetric key
// material (RFC 7518 §6.2.2, §6.3.2, §6.4.1; RFC 8037 §2).
type privateMembers struct {
	D  json.RawMessage `json:"d"`
	P  json.RawMessage `json:"p"`
	Q  json.RawMessage `json:"q"`
	DP json.RawMessage `json:"dp"`
	DQ json.RawMessage `json:"dq"`
	QI json.RawMessage `json:"qi"`
	K  json.RawMessage `json:"k"`
}

// privateJWK reports whether the protected header's jwk has a private or
// symmetric member (RFC 9449 §4.3 check 7). go-jose refuses such a jwk
// too; this says so plainly, before parsing it.
func privateJWK(raw string) bool {
	enc, _, _ := strings.Cut(raw, ".")
	b, err := base64.RawURLEncoding.DecodeString(enc)
	if err != nil {
		return false // the parser refuses it
	}
	var h struct {
		JWK *privateMembers `json:"jwk"`
	}
	if json.Unmarshal(b, &h) != nil || h.JWK == nil {
		return false
	}
	m := h.JWK
	return m.D != nil || m.P != nil || m.Q != nil || m.DP != nil || m.DQ != nil || m.QI != nil || m.K != nil
}
