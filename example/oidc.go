package main

import (
	"context"
	"crypto"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"slices"

	"github.com/oauthkit/oauthkit/grant"
	"github.com/oauthkit/oauthkit/store"
)

// The example is an OpenID Provider (grant.Config.OIDC): ID tokens for the
// demo apps, UserInfo with the demo users' claims, discovery at
// /.well-known/openid-configuration and RP-Initiated Logout at
// /oauth/logout.

// signingKeysEnv names the variable holding the path of a PEM file of the
// provider's signing keys (PKCS#8 "PRIVATE KEY" blocks: RSA of at least
// 2048 bits, ECDSA P-256, Ed25519; the first signs JWT access tokens, and
// an RSA key must be among them for ID tokens). Several instances behind
// one address must share them, as they share $OAUTHKIT_SESSION_KEY; unset,
// each start makes new ones, so that ID tokens and JWTs do not outlive the
// process. Make a file with, for example:
//
//	openssl genpkey -algorithm ed25519 > keys.pem
//	openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 >> keys.pem
const signingKeysEnv = "OAUTHKIT_SIGNING_KEYS"

// demoClaims are the demo users' OpenID Connect claims, by user ID.
var demoClaims = map[string]*grant.UserClaims{
	"1": {Name: "User One", PreferredUsername: "user1", Email: "user1@example.com", EmailVerified: true},
	"2": {Name: "User Two", PreferredUsername: "user2", Email: "user2@example.com", EmailVerified: true},
}

// userClaims is the claims source the Provider asks for UserInfo: the host
// owns its users.
func userClaims(_ context.Context, u *store.User) (*grant.UserClaims, error) {
	c, ok := demoClaims[u.ID]
	if !ok {
		return nil, store.ErrNotFound
	}
	return c, nil
}

// oidcScopes are the OpenID Connect scopes the demo web and SPA clients may
// ask for, beside read and write.
var oidcScopes = []string{grant.ScopeOpenID, grant.ScopeProfile, grant.ScopeEmail, grant.ScopeOfflineAccess}

// demoPostLogoutURI is where the demo web and SPA clients may send the
// browser after logout.
const demoPostLogoutURI = "http://127.0.0.1:8080/"

// oidcConfig turns OpenID Connect on, with the signing keys of
// $OAUTHKIT_SIGNING_KEYS or new ones.
func oidcConfig(cfg *grant.Config) error {
	keys, err := signingKeys()
	if err != nil {
		return err
	}
	cfg.SigningKeys = keys
	cfg.OIDC = grant.OIDC{Enabled: true, Claims: userClaims}
	cfg.ScopesSupported = append(cfg.ScopesSupported, oidcScopes...)
	return nil
}

// signingKeys reads $OAUTHKIT_SIGNING_KEYS, or makes an Ed25519 key (which
// signs JWT access tokens), an RSA key (ID tokens, by default) and a P-256
// key (ID tokens of clients registered for ES256).
func signingKeys() ([]grant.SigningKey, error) {
	if path := os.Getenv(signingKeysEnv); path != "" {
		keys, err := loadSigningKeys(path)
		if err != nil {
			return nil, fmt.Errorf("$%s: %w", signingKeysEnv, err)
		}
		return keys, nil
	}
	var keys []grant.SigningKey
	for _, alg := range []string{grant.AlgEdDSA, grant.AlgRS256, grant.AlgES256} {
		k, err := grant.GenerateSigningKey(alg)
		if err != nil {
			return nil, err
		}
		keys = append(keys, k)
	}
	return keys, nil
}

// maxKeysFile bounds what loadSigningKeys reads.
const maxKeysFile = 1 << 20

// loadSigningKeys reads a PEM file of PKCS#8 private keys. Each key's ID
// is derived from its public key, so that every instance reading the file
// publishes the same kid.
func loadSigningKeys(path string) ([]grant.SigningKey, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if len(data) > maxKeysFile {
		return nil, errors.New("the file is larger than 1 MiB")
	}
	var keys []grant.SigningKey
	for {
		var b *pem.Block
		if b, data = pem.Decode(data); b == nil {
			break
		}
		if b.Type != "PRIVATE KEY" {
			return nil, fmt.Errorf("a %q PEM block: want PKCS#8 \"PRIVATE KEY\" blocks", b.Type)
		}
		k, err := x509.ParsePKCS8PrivateKey(b.Bytes)
		if err != nil {
			return nil, err
		}
		signer, ok := k.(crypto.Signer)
		if !ok {
			return nil, fmt.Errorf("a %T is not a signing key", k)
		}
		pub, err := x509.MarshalPKIXPublicKey(signer.Public())
		if err != nil {
			return nil, err
		}
		sum := sha256.Sum256(pub)
		keys = append(keys, grant.SigningKey{ID: base64.RawURLEncoding.EncodeToString(sum[:16]), Key: signer})
	}
	if len(keys) == 0 {
		return nil, errors.New("no PEM private key in the file")
	}
	return keys, nil
}

// withOIDC lets a demo client ask for the OpenID Connect scopes and
// return after logout.
func withOIDC(c *store.Client) *store.Client {
	c.Scopes = append(slices.Clone(c.Scopes), oidcScopes...)
	c.PostLogoutRedirectURIs = []string{demoPostLogoutURI}
	return c
}
