package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/oauthkit/oauthkit/store"
)

func newClient(id string) *store.Client {
	return &store.Client{
		ID:           id,
		SecretHash:   store.HashSecret("secret-of-" + id),
		Name:         "Client " + id,
		RedirectURIs: []string{"https://app.example/cb", "http://127.0.0.1/cb"},
		GrantTypes:   []string{store.GrantAuthorizationCode, store.GrantRefreshToken},
		Scopes:       []string{"read", "write", "email"},
		AuthMethod:   store.AuthSecretBasic,
		FirstParty:   true,
		CreatedAt:    time.Now(),
	}
}

// checkClient fails the test unless got equals want field by field:
// CreatedAt as sameTime says, lists as sameStrings does, JWKS as the same
// JSON value, every other field exactly.
func checkClient(t *testing.T, got, want *store.Client) {
	t.Helper()
	if !sameTime(got.CreatedAt, want.CreatedAt) {
		t.Errorf("CreatedAt = %v, want %v", got.CreatedAt, want.CreatedAt)
	}
	g, w := *got, *want
	g.CreatedAt, w.CreatedAt = time.Time{}, time.Time{}
	if !equalNormalized(&g, &w) {
		t.Errorf("client = %+v\nwant     %+v", got, want)
	}
}

// testClients covers create, get, list (ordered by ID) and delete.
func testClients(t *testing.T, s Store) {
	ctx := t.Context()
	if cs, err := s.Clients(ctx); err != nil || len(cs) != 0 {
		t.Fatalf("Clients on an empty store = %v, %v; want none", cs, err)
	}
	want := map[string]*store.Client{}
	for _, id := range []string{"zeta", "alpha", "mu"} {
		c := newClient(id)
		want[id] = c
		if err := s.CreateClient(ctx, c); err != nil {
			t.Fatalf("CreateClient(%s): %v", id, err)
		}
	}
	got, err := s.Client(ctx, "mu")
	if err != nil {
		t.Fatalf("Client(mu): %v", err)
	}
	checkClient(t, got, want["mu"])

	cs, err := s.Clients(ctx)
	if err != nil {
		t.Fatalf("Clients: %v", err)
	}
	var ids []string
	for _, c := range cs {
		ids = append(ids, c.ID)
		checkClient(t, c, want[c.ID])
	}
	if !sameStrings(ids, []string{"alpha", "mu", "zeta"}) {
		t.Errorf("Clients IDs = %q, want alpha, mu, zeta in that order", ids)
	}

	if err := s.DeleteClient(ctx, "mu"); err != nil {
		t.Fatalf("DeleteClient(mu): %v", err)
	}
	if _, err := s.Client(ctx, "mu"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Client after DeleteClient: err = %v, want ErrNotFound", err)
	}
	if err := s.DeleteClient(ctx, "mu"); err != nil {
		t.Errorf("DeleteClient of a missing client = %v, want nil", err)
	}
	if cs, _ := s.Clients(ctx); len(cs) != 2 {
		t.Errorf("Clients after delete: %d clients, want 2", len(cs))
	}
	// A deleted ID can be registered again.
	if err := s.CreateClient(ctx, newClient("mu")); err != nil {
		t.Errorf("CreateClient after delete: %v", err)
	}
}

func testClientNotFound(t *testing.T, s Store) {
	c, err := s.Client(t.Context(), "nobody")
	if !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Client(unknown) = %v, %v; want ErrNotFound", c, err)
	}
}

func testClientExists(t *testing.T, s Store) {
	ctx := t.Context()
	first := newClient("dup")
	if err := s.CreateClient(ctx, first); err != nil {
		t.Fatal(err)
	}
	second := newClient("dup")
	second.Name = "impostor"
	if err := s.CreateClient(ctx, second); !errors.Is(err, store.ErrExists) {
		t.Errorf("CreateClient of an existing ID = %v, want ErrExists", err)
	}
	got, err := s.Client(ctx, "dup")
	if err != nil {
		t.Fatal(err)
	}
	checkClient(t, got, first)
}

// testClientPublic stores a public client: no secret hash, empty lists.
func testClientPublic(t *testing.T, s Store) {
	ctx := t.Context()
	c := &store.Client{ID: "spa", AuthMethod: store.AuthNone, GrantTypes: []string{store.GrantAuthorizationCode},
		RedirectURIs: []string{"https://spa.example/cb"}, Scopes: nil}
	if err := s.CreateClient(ctx, c); err != nil {
		t.Fatal(err)
	}
	got, err := s.Client(ctx, "spa")
	if err != nil {
		t.Fatal(err)
	}
	checkClient(t, got, c)
	if !got.SecretHash.IsZero() || !got.Public() {
		t.Errorf("public client came back with SecretHash %v, Public() %v", got.SecretHash, got.Public())
	}
}
