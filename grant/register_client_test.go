package grant

import (
	"errors"
	"net/url"
	"slices"
	"testing"

	"github.com/oauthkit/oauthkit/store"
)

// TestRegisterClient: one call gives a confidential client its secret,
// fills the RFC 7591 defaults, validates and stores; the secret it returns
// authenticates at the token endpoint, and only its hash is stored.
func TestRegisterClient(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	c := &store.Client{ID: "quick", GrantTypes: []string{store.GrantClientCredentials}, Scopes: []string{"read"}}
	secret, err := RegisterClient(ctx, f.st, c)
	if err != nil {
		t.Fatal(err)
	}
	if !hasPrefix(secret, PrefixClientSecret) || c.AuthMethod != store.AuthSecretBasic || c.CreatedAt.IsZero() {
		t.Fatalf("secret %q, client %+v", secret, c)
	}
	stored, err := f.st.Client(ctx, "quick")
	if err != nil || !stored.SecretHash.Equal(store.HashSecret(secret)) {
		t.Fatalf("stored %+v, %v", stored, err)
	}
	if r := f.post("/oauth/token", url.Values{"grant_type": {"client_credentials"}}, "quick", secret); r.status != 200 || r.str("scope") != "read" {
		t.Fatalf("token with the returned secret: %d %s", r.status, r.raw)
	}
	if _, err := RegisterClient(ctx, f.st, &store.Client{ID: "quick", GrantTypes: []string{store.GrantClientCredentials}}); !errors.Is(err, store.ErrExists) {
		t.Fatalf("taken ID: %v", err)
	}

	// A public client gets no secret; the default grant type is the
	// authorization code grant, which needs a redirect URI.
	pub := &store.Client{ID: "spa", AuthMethod: store.AuthNone}
	var ve *store.ValidationError
	if _, err := RegisterClient(ctx, f.st, pub); !errors.As(err, &ve) || ve.Code != store.CodeInvalidRedirectURI {
		t.Fatalf("code client without redirect URI: %v", err)
	}
	if _, err := f.st.Client(ctx, "spa"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("a refused registration was stored: %v", err)
	}
	pub.RedirectURIs = []string{"http://127.0.0.1/cb"}
	if secret, err := RegisterClient(ctx, f.st, pub); err != nil || secret != "" || !slices.Equal(pub.GrantTypes, []string{store.GrantAuthorizationCode}) {
		t.Fatalf("public client: %q %v %+v", secret, err, pub)
	}

	// A client whose secret hash is given keeps it.
	given := store.HashSecret("a secret its owner chose, long enough to be safe")
	if secret, err := RegisterClient(ctx, f.st, &store.Client{ID: "svc2", SecretHash: given, GrantTypes: []string{store.GrantClientCredentials}}); err != nil || secret != "" {
		t.Fatalf("given hash: %q %v", secret, err)
	}
	if c, _ := f.st.Client(ctx, "svc2"); !c.SecretHash.Equal(given) {
		t.Fatal("the given hash was replaced")
	}
}
