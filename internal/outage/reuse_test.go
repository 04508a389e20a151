package outage

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/oauthkit/oauthkit/grant"
	"github.com/oauthkit/oauthkit/internal/testservices"
	"github.com/oauthkit/oauthkit/middleware"
	"github.com/oauthkit/oauthkit/store"
	"github.com/oauthkit/oauthkit/store/postgres"
)

// codeApp is a Provider's token endpoint and RequireOAuth route for the
// client "app" (the code and refresh grants), on a store.
type codeApp struct {
	*rig
	appSecret string
}

func newCodeApp(t *testing.T, st backend, mutate ...func(*grant.Config)) *codeApp {
	t.Helper()
	secret, err := grant.RegisterClient(t.Context(), st, appClient())
	if err != nil {
		t.Fatal(err)
	}
	return newCodeAppWith(t, st, secret, mutate...)
}

// newCodeAppWith is newCodeApp on a store where "app" is registered with
// secret.
func newCodeAppWith(t *testing.T, st backend, secret string, mutate ...func(*grant.Config)) *codeApp {
	t.Helper()
	r := newRig(t, st, nil, grant.StoreLimits{Timeout: storeTimeout}, append([]func(*grant.Config){func(c *grant.Config) {
		c.RefreshReuseGrace = -1 // every reuse is one: no retry within a grace
	}}, mutate...)...)
	return &codeApp{r, secret}
}

// newCode stores an authorization code for "app" in a new family, bound to
// the tests' PKCE verifier, and returns it.
func newCode(t *testing.T, st store.TokenStore) string {
	t.Helper()
	b := make([]byte, 32)
	rand.Read(b)
	raw := grant.PrefixCode + base64.RawURLEncoding.EncodeToString(b)
	now := time.Now()
	err := st.CreateToken(t.Context(), &store.Token{
		Hash: store.HashSecret(raw), Kind: store.KindCode, Family: randomName("fam-"), ClientID: "app",
		Subject: "1", Username: "user1", Scopes: []string{"read"}, IssuedAt: now, ExpiresAt: now.Add(time.Minute),
		RedirectURI: "https://app.example/cb", CodeChallenge: challenge(),
	})
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// app posts form to the token endpoint as "app".
func (a *codeApp) app(form url.Values) answer {
	req := a.request("/token", form)
	req.SetBasicAuth("app", a.appSecret)
	return a.do(req)
}

func (a *codeApp) redeem(code string) answer {
	return a.app(url.Values{"grant_type": {"authorization_code"}, "code": {code},
		"redirect_uri": {"https://app.example/cb"}, "code_verifier": {verifier}})
}

func (a *codeApp) refresh(rt string) answer {
	return a.app(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}})
}

// pgTrigger makes the statements of kind (INSERT, UPDATE…) on table of the
// store's schema fail, as a full disk or a broken replica would, until the
// returned function drops the trigger.
func pgTrigger(t *testing.T, schema, table, kind string) (drop func()) {
	t.Helper()
	pool, err := pgxpool.New(t.Context(), testservices.Postgres(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	sch := pgx.Identifier{schema}.Sanitize()
	name := strings.ToLower(randomName("oauthkit_test_fail_"))
	for _, q := range []string{
		`CREATE OR REPLACE FUNCTION ` + sch + `.oauthkit_test_fail() RETURNS trigger LANGUAGE plpgsql AS $$
			BEGIN RAISE EXCEPTION 'test: the disk is full'; END $$`,
		`CREATE TRIGGER ` + name + ` BEFORE ` + kind + ` ON ` + sch + `.` + table + ` FOR EACH ROW EXECUTE FUNCTION ` + sch + `.oauthkit_test_fail()`,
	} {
		if _, err := pool.Exec(t.Context(), q); err != nil {
			t.Fatal(err)
		}
	}
	return func() {
		if _, err := pool.Exec(context.WithoutCancel(t.Context()), `DROP TRIGGER IF EXISTS `+name+` ON `+sch+`.`+table); err != nil {
			t.Fatal(err)
		}
	}
}

// pgStore opens a PostgreSQL store in a fresh schema, without a proxy.
func pgStore(t *testing.T) (*postgres.Store, string) {
	t.Helper()
	dsn := testservices.Postgres(t)
	pool, err := pgxpool.New(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	schema := randomName("oauthkit_outage_")
	t.Cleanup(func() {
		pool.Exec(context.WithoutCancel(t.Context()), "DROP SCHEMA IF EXISTS "+pgx.Identifier{schema}.Sanitize()+" CASCADE")
	})
	st, err := postgres.Open(t.Context(), dsn, postgres.WithSchema(schema), postgres.WithCleanupInterval(0))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st, schema
}

// TestReuseFailsClosed: a reused refresh token (and a replayed code) calls
// for the revocation of its whole grant; when the store fails to revoke
// it, the request is refused with 503 (not answered invalid_grant as if
// the grant were gone), this instance refuses the grant's tokens and
// issues nothing more in it, and the revocation is retried: once the store
// is back, the family is revoked in the store itself, without another
// request.
func TestReuseFailsClosed(t *testing.T) {
	st, schema := pgStore(t)
	events := make(chan grant.Event, 64)
	a := newCodeApp(t, st, func(c *grant.Config) {
		c.OnEvent = func(_ context.Context, e grant.Event) {
			if e.Kind == grant.EventRevoked {
				events <- e
			}
		}
	})
	ctx := t.Context()
	for _, c := range []struct {
		name  string
		setup func() (reuse func() answer, live string, next func() answer)
	}{
		{"refresh token reused", func() (func() answer, string, func() answer) {
			first := a.redeem(newCode(t, st))
			rt1 := first.str("refresh_token")
			second := a.refresh(rt1)
			if second.status != 200 {
				t.Fatalf("rotation: %d %v", second.status, second.body)
			}
			rt2 := second.str("refresh_token")
			return func() answer { return a.refresh(rt1) }, second.str("access_token"), func() answer { return a.refresh(rt2) }
		}},
		{"code replayed", func() (func() answer, string, func() answer) {
			code := newCode(t, st)
			first := a.redeem(code)
			if first.status != 200 {
				t.Fatalf("redemption: %d %v", first.status, first.body)
			}
			rt := first.str("refresh_token")
			return func() answer { return a.redeem(code) }, first.str("access_token"), func() answer { return a.refresh(rt) }
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			reuse, live, next := c.setup()
			drop := pgTrigger(t, schema, "oauthkit_families", "UPDATE")
			got := reuse()
			if got.status != 503 || got.retryAfter != "1" || got.str("error") != grant.CodeTemporarilyUnavailable {
				drop()
				t.Fatalf("reuse while the revocation fails: %d %v, want 503 temporarily_unavailable", got.status, got.body)
			}
			// Meanwhile, the grant is dead on this instance.
			if _, err := a.p.ValidateToken(ctx, live); !errors.Is(err, middleware.ErrInvalidToken) {
				t.Errorf("the grant's access token while its revocation is pending: %v, want invalid", err)
			}
			if got := next(); got.status != 503 {
				t.Errorf("the grant's live refresh token while its revocation is pending: %d %v, want 503", got.status, got.body)
			}
			drop()
			// The background retry revokes it in the store.
			var ev grant.Event
			select {
			case ev = <-events:
			case <-time.After(3 * time.Second):
				t.Fatal("the family was not revoked within 3 s of the store's return")
			}
			if _, err := st.Token(ctx, store.HashSecret(live)); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("the grant's access token in the store after the retry: %v, want it revoked", err)
			}
			if got := next(); got.status != 400 || got.str("error") != grant.CodeInvalidGrant {
				t.Errorf("the grant's refresh token after the revocation: %d %v, want invalid_grant", got.status, got.body)
			}
			if ev.Family == "" || ev.ClientID != "app" {
				t.Errorf("revocation event %+v", ev)
			}
		})
	}
}
