package main

import (
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/oauthkit/oauthkit/grant"
	"github.com/oauthkit/oauthkit/internal/testservices"
)

// TestMain makes the signing keys once for every test of the package, as a
// $OAUTHKIT_SIGNING_KEYS file: an RSA key takes about a second to make, and
// the tests start the example many times (several instances of one test
// share the keys, as a deployment's would).
func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "oauthkit-example-keys")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := func() int {
		defer os.RemoveAll(dir)
		path := filepath.Join(dir, "keys.pem")
		if err := writeTestKeys(path); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		os.Setenv(signingKeysEnv, path)
		return testservices.Run(m) // m.Run, then the line about skipped store tests
	}()
	os.Exit(code)
}

// writeTestKeys writes an Ed25519, an RSA and a P-256 key to path.
func writeTestKeys(path string) error {
	var out []byte
	for _, alg := range []string{grant.AlgEdDSA, grant.AlgRS256, grant.AlgES256} {
		k, err := grant.GenerateSigningKey(alg)
		if err != nil {
			return err
		}
		der, err := x509.MarshalPKCS8PrivateKey(k.Key)
		if err != nil {
			return err
		}
		out = append(out, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})...)
	}
	return os.WriteFile(path, out, 0o600)
}
