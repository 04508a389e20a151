package grant

import (
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
)

// Config.Secret is the provider's one secret. Every keyed mechanism uses a
// subkey of its own, derived with HKDF-SHA256 (RFC 5869) under a purpose
// label, so that no two mechanisms ever share a key and a value made for one
// purpose (a session cookie, say) is never accepted for another (a CSRF
// token). Instances that share the secret derive the same subkeys, which is
// what lets a session, a CSRF token or an idempotent refresh retry started on
// one instance be finished on another.

// minSecretBytes is the least Config.Secret accepted: 256 bits.
const minSecretBytes = 32

// The purposes of the subkeys; add one per new keyed mechanism, never reuse
// one for another use.
const (
	purposeSession      = "session cookie"
	purposeCSRF         = "csrf token"
	purposeRefreshRetry = "refresh retry"
	purposeDPoPNonce    = "dpop nonce"
	purposeUserCode     = "device user code"
)

// subkeyPurposes lists every purpose, so that NewProvider derives each
// subkey once.
var subkeyPurposes = [...]string{purposeSession, purposeCSRF, purposeRefreshRetry, purposeDPoPNonce, purposeUserCode}

// subkeys are the keys derived from Config.Secret, by purpose; read-only
// once NewProvider has filled it.
type subkeys map[string][]byte

func deriveSubkeys(secret []byte) (subkeys, error) {
	ks := make(subkeys, len(subkeyPurposes))
	for _, purpose := range subkeyPurposes {
		k, err := hkdf.Key(sha256.New, secret, nil, "oauthkit "+purpose, sha256.Size)
		if err != nil {
			return nil, fmt.Errorf("grant: deriving the %s key: %w", purpose, err)
		}
		ks[purpose] = k
	}
	return ks, nil
}

// mac returns HMAC-SHA256 of data under the subkey for purpose.
func (p *Provider) mac(purpose string, data []byte) []byte {
	m := hmac.New(sha256.New, p.subkeys[purpose])
	m.Write(data)
	return m.Sum(nil)
}

// secretDefault checks Config.Secret, or makes a random one.
func (c *Config) secretDefault() error {
	if c.Secret == nil {
		c.Secret = make([]byte, minSecretBytes)
		if _, err := rand.Read(c.Secret); err != nil {
			return fmt.Errorf("grant: generating a secret: %w", err)
		}
		return nil
	}
	if len(c.Secret) < minSecretBytes {
		return errors.New("grant: Config.Secret must be at least 32 bytes")
	}
	c.Secret = append([]byte(nil), c.Secret...)
	return nil
}
