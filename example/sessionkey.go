package main

import (
	"encoding/base64"
	"errors"
	"os"
	"strings"
)

// sessionKeyEnv names the variable holding the provider's one secret
// (grant.Config.Secret), base64-encoded, at least 32 bytes: it keys the login
// and consent pages' session cookie, their CSRF tokens and idempotent refresh
// retries. Several instances behind one address must share it; unset, each
// instance makes a random one of its own (fine for one instance).
const sessionKeyEnv = "OAUTHKIT_SESSION_KEY"

// sessionKey reads $OAUTHKIT_SESSION_KEY; nil when unset.
func sessionKey() ([]byte, error) {
	s := strings.TrimSpace(os.Getenv(sessionKeyEnv))
	if s == "" {
		return nil, nil
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if k, err := enc.DecodeString(s); err == nil {
			if len(k) < 32 {
				break
			}
			return k, nil
		}
	}
	return nil, errors.New("$" + sessionKeyEnv + " must be base64 of at least 32 bytes (openssl rand -base64 32)")
}
