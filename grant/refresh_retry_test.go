package grant

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/oauthkit/oauthkit/store"
	"github.com/oauthkit/oauthkit/store/sqlite"
)

// Refresh retries (refresh_retry.go): within Config.RefreshReuseGrace the
// same client presenting the refresh token it has just rotated gets the
// first answer's tokens again; anyone else, or anyone later, revokes the
// family.

// samePair fails unless b carries a's access and refresh tokens.
func samePair(t *testing.T, what string, a, b response) {
	t.Helper()
	if b.status != 200 {
		t.Fatalf("%s: %d %s", what, b.status, b.raw)
	}
	if b.str("access_token") != a.str("access_token") || b.str("refresh_token") != a.str("refresh_token") {
		t.Fatalf("%s: other tokens than the first answer:\nfirst %s\nretry %s", what, a.raw, b.raw)
	}
}

// signedIn fails unless the pair still works: the access token at the API,
// the refresh token for one more rotation.
func signedIn(t *testing.T, f *fixture, client string, r response) {
	t.Helper()
	if s := f.api(r.str("access_token")); s != 200 {
		t.Fatalf("access token: %d", s)
	}
	if next := f.refresh(client, r.str("refresh_token"), ""); next.status != 200 {
		t.Fatalf("the refresh token the retry returned: %d %s", next.status, next.raw)
	}
}

// signedOut fails unless the whole family is revoked.
func signedOut(t *testing.T, f *fixture, client string, rs ...response) {
	t.Helper()
	for _, r := range rs {
		if s := f.api(r.str("access_token")); s != 401 {
			t.Errorf("an access token of the family survived: %d", s)
		}
		if next := f.refresh(client, r.str("refresh_token"), ""); next.status != 400 {
			t.Errorf("a refresh token of the family survived: %d %s", next.status, next.raw)
		}
	}
	if !sawEvent(f, EventRevoked) {
		t.Error("no revocation event")
	}
}

// A lost response must not sign the user out: the retry gets the same
// tokens, which keep working.
func TestRefreshRetryWithinGraceSameTokens(t *testing.T) {
	for _, client := range []string{appClient, publicClient} {
		t.Run(client, func(t *testing.T) {
			f := newFixture(t)
			rt := f.passwordGrant(client, "").str("refresh_token")
			first := f.refresh(client, rt, "")
			if first.status != 200 {
				t.Fatalf("refresh: %d %s", first.status, first.raw)
			}
			f.clock.Advance(time.Second) // within the default 2 s
			retry := f.refresh(client, rt, "")
			samePair(t, "retry within the grace", first, retry)
			if got, want := retry.body["expires_in"], float64(3599); got != want {
				t.Errorf("expires_in of the retry = %v, want %v (from the stored expiry)", got, want)
			}
			samePair(t, "second retry within the grace", first, f.refresh(client, rt, ""))
			signedIn(t, f, client, first)
		})
	}
}

// Another client presenting a just-rotated refresh token, even within the
// grace, revokes the family.
func TestRefreshRetryByAnotherClientRevokes(t *testing.T) {
	f := newFixture(t)
	rt := f.passwordGrant(publicClient, "").str("refresh_token")
	first := f.refresh(publicClient, rt, "")
	if first.status != 200 {
		t.Fatalf("refresh: %d %s", first.status, first.raw)
	}
	wantError(t, f.refresh(appClient, rt, ""), 400, CodeInvalidGrant)
	signedOut(t, f, publicClient, first)
}

// After the grace, or once the rotated token has itself been used, the old
// token's reappearance is reuse: the family goes.
func TestRefreshRetryAfterGraceOrUseRevokes(t *testing.T) {
	t.Run("after the grace", func(t *testing.T) {
		f := newFixture(t)
		rt := f.passwordGrant(appClient, "").str("refresh_token")
		first := f.refresh(appClient, rt, "")
		f.clock.Advance(2 * time.Second)
		wantError(t, f.refresh(appClient, rt, ""), 400, CodeInvalidGrant)
		signedOut(t, f, appClient, first)
	})
	t.Run("after the client moved on", func(t *testing.T) {
		f := newFixture(t)
		rt := f.passwordGrant(appClient, "").str("refresh_token")
		first := f.refresh(appClient, rt, "")
		second := f.refresh(appClient, first.str("refresh_token"), "")
		if second.status != 200 {
			t.Fatalf("refresh: %d %s", second.status, second.raw)
		}
		wantError(t, f.refresh(appClient, rt, ""), 400, CodeInvalidGrant) // within the grace
		signedOut(t, f, appClient, first, second)
	})
	t.Run("strict", func(t *testing.T) {
		f := newFixture(t, func(c *Config) { c.RefreshReuseGrace = -1 })
		rt := f.passwordGrant(appClient, "").str("refresh_token")
		first := f.refresh(appClient, rt, "")
		wantError(t, f.refresh(appClient, rt, ""), 400, CodeInvalidGrant)
		signedOut(t, f, appClient, first)
	})
}

// faultyTokens fails the CreateToken calls that fail says, as a server
// dying mid-request would leave the store.
type faultyTokens struct {
	store.TokenStore
	mu      sync.Mutex
	fail    func(t *store.Token) bool
	created []store.Token // successful creations
}

func (s *faultyTokens) CreateToken(ctx context.Context, t *store.Token) error {
	s.mu.Lock()
	fail := s.fail != nil && s.fail(t)
	s.mu.Unlock()
	if fail {
		return errors.New("test: the server died here")
	}
	err := s.TokenStore.CreateToken(ctx, t)
	if err == nil {
		s.mu.Lock()
		s.created = append(s.created, *t)
		s.mu.Unlock()
	}
	return err
}

// refreshTokens counts the refresh tokens created in family.
func (s *faultyTokens) refreshTokens(family string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, t := range s.created {
		if t.Kind == store.KindRefresh && t.Family == family {
			n++
		}
	}
	return n
}

// The first request died between consuming the old refresh token and
// storing the new ones: the retry stores them and the user stays signed in.
func TestRefreshRetryAfterCrash(t *testing.T) {
	t.Run("before anything was stored", func(t *testing.T) {
		f := newFixture(t)
		rt := f.passwordGrant(appClient, "").str("refresh_token")
		if _, err := f.st.ConsumeToken(t.Context(), store.HashSecret(rt)); err != nil {
			t.Fatal(err)
		}
		retry := f.refresh(appClient, rt, "")
		if retry.status != 200 {
			t.Fatalf("retry after a crash: %d %s", retry.status, retry.raw)
		}
		samePair(t, "second retry", retry, f.refresh(appClient, rt, ""))
		signedIn(t, f, appClient, retry)
	})
	for name, kind := range map[string]store.Kind{"between the two tokens": store.KindAccess, "at the refresh token": store.KindRefresh} {
		t.Run(name, func(t *testing.T) {
			ft := &faultyTokens{}
			f := newFixture(t, func(c *Config) { ft.TokenStore = c.Tokens; c.Tokens = ft })
			rt := f.passwordGrant(appClient, "").str("refresh_token")
			ft.fail = func(t *store.Token) bool { return t.Kind == kind }
			if r := f.refresh(appClient, rt, ""); r.status != 503 || r.header.Get("Retry-After") != "1" {
				t.Fatalf("refresh with a failing store: %d %s, want 503 with Retry-After: 1", r.status, r.raw)
			}
			ft.mu.Lock()
			ft.fail = nil
			ft.mu.Unlock()
			retry := f.refresh(appClient, rt, "")
			if retry.status != 200 {
				t.Fatalf("retry after a crash: %d %s", retry.status, retry.raw)
			}
			samePair(t, "second retry", retry, f.refresh(appClient, rt, ""))
			signedIn(t, f, appClient, retry)
		})
	}
}

// Audit row 5 (refresh), with retries: 100 concurrent presentations of one
// refresh token rotate it once; every answer carries the same pair, and no
// second live refresh token exists in the family.
func TestRefreshConcurrentSingleUseAndReuse(t *testing.T) {
	ft := &faultyTokens{}
	f := newFixture(t, func(c *Config) { ft.TokenStore = c.Tokens; c.Tokens = ft })
	r := f.passwordGrant(appClient, "")
	rt := r.str("refresh_token")
	family := ft.created[len(ft.created)-1].Family
	const n = 100
	var wg sync.WaitGroup
	results := make([]response, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = f.refresh(appClient, rt, "")
		}()
	}
	wg.Wait()
	for _, r := range results[1:] {
		samePair(t, "a concurrent presentation", results[0], r)
	}
	if got := ft.refreshTokens(family); got != 2 { // the grant's, and the one rotation's
		t.Fatalf("%d refresh tokens created in the family, want 2 (one rotation)", got)
	}
	winner := results[0]
	if s := f.api(winner.str("access_token")); s != 200 {
		t.Fatalf("the rotation's access token: %d", s)
	}
	// Later, the old token comes back: the whole family goes.
	f.clock.Advance(time.Minute)
	wantError(t, f.refresh(appClient, rt, ""), 400, CodeInvalidGrant)
	signedOut(t, f, appClient, winner)
}

// RFC 6749 §6: narrowing the scope narrows the new access token only; the
// new refresh token keeps the grant's scope.
func TestRefreshNarrowingKeepsGrantScope(t *testing.T) {
	f := newFixture(t)
	r := f.passwordGrant(appClient, "read write")
	narrow := f.refresh(appClient, r.str("refresh_token"), "write")
	if narrow.status != 200 || narrow.str("scope") != "write" {
		t.Fatalf("narrowing refresh: %d %s", narrow.status, narrow.raw)
	}
	if s := f.api(narrow.str("access_token")); s != 403 {
		t.Fatalf("the narrowed access token at a read route: %d, want 403", s)
	}
	again := f.refresh(appClient, narrow.str("refresh_token"), "")
	if again.status != 200 || again.str("scope") != "read write" {
		t.Fatalf("refresh after narrowing: %d %s, want the grant's scope", again.status, again.raw)
	}
	wantError(t, f.refresh(appClient, again.str("refresh_token"), "admin"), 400, CodeInvalidScope)
}

// A retry asking for another scope gets the same refresh token (the grant's
// scope) and an access token for what it asks; it cannot widen the grant.
func TestRefreshRetryScope(t *testing.T) {
	ft := &faultyTokens{}
	f := newFixture(t, func(c *Config) { ft.TokenStore = c.Tokens; c.Tokens = ft })
	r := f.passwordGrant(appClient, "read write")
	family := ft.created[len(ft.created)-1].Family
	rt := r.str("refresh_token")
	first := f.refresh(appClient, rt, "write")
	if first.status != 200 || first.str("scope") != "write" {
		t.Fatalf("refresh: %d %s", first.status, first.raw)
	}
	wantError(t, f.refresh(appClient, rt, "admin"), 400, CodeInvalidScope)
	wide := f.refresh(appClient, rt, "write read") // the whole grant
	if wide.status != 200 || wide.str("refresh_token") != first.str("refresh_token") || wide.str("scope") != "read write" {
		t.Fatalf("retry with the grant's scope: %d %s", wide.status, wide.raw)
	}
	samePair(t, "retry with the first scope", first, f.refresh(appClient, rt, "write"))
	if got := ft.refreshTokens(family); got != 2 {
		t.Fatalf("%d refresh tokens created in the family, want 2 (one rotation)", got)
	}
	signedIn(t, f, appClient, wide)
}

// JWT access tokens: the retry re-signs the same claims and gets the very
// same token, because the signatures are deterministic.
func TestRefreshRetryJWTSameTokens(t *testing.T) {
	for _, alg := range []string{AlgEdDSA, AlgRS256, AlgES256} {
		t.Run(alg, func(t *testing.T) {
			k, err := GenerateSigningKey(alg)
			if err != nil {
				t.Fatal(err)
			}
			f := newFixture(t, func(c *Config) {
				c.AccessTokenFormat, c.Audience, c.SigningKeys = FormatJWT, []string{"https://api.example.com"}, []SigningKey{k}
			})
			rt := f.passwordGrant(appClient, "").str("refresh_token")
			first := f.refresh(appClient, rt, "")
			if first.status != 200 || !f.p.looksLikeJWT(first.str("access_token")) {
				t.Fatalf("refresh: %d %s", first.status, first.raw)
			}
			f.clock.Advance(1500 * time.Millisecond)
			samePair(t, "retry within the grace", first, f.refresh(appClient, rt, ""))
			signedIn(t, f, appClient, first)
		})
	}
}

// The rotated values are derived, and still never reach the store raw.
func TestRefreshRetryValuesHashedAtRest(t *testing.T) {
	rec := &recordingTokens{}
	f := newFixture(t, func(c *Config) { rec.TokenStore = c.Tokens; c.Tokens = rec })
	rt := f.passwordGrant(appClient, "").str("refresh_token")
	first := f.refresh(appClient, rt, "")
	samePair(t, "retry", first, f.refresh(appClient, rt, ""))
	for _, v := range []string{first.str("access_token"), first.str("refresh_token")} {
		if !hasPrefix(v, PrefixAccessToken) && !hasPrefix(v, PrefixRefreshToken) {
			t.Fatalf("%q is not a 256-bit value with its prefix", v)
		}
		for _, s := range rec.seen {
			if strings.Contains(s, v) || strings.Contains(s, v[len(PrefixAccessToken):]) {
				t.Fatalf("a raw rotated value reached the store: %s", s)
			}
		}
	}
}

// The derived values need the secret and the old token's stored record, and
// every kind of value has its own.
func TestRefreshRetryDerivation(t *testing.T) {
	a, b := newFixture(t).p, newFixture(t).p
	old := store.Token{Family: "f", IssuedAt: time.Unix(1, 0)}
	const presented = PrefixRefreshToken + "0123456789012345678901234567890123456789012"
	v := a.derivedSecret(PrefixRefreshToken, labelRefresh, old, presented)
	if !hasPrefix(v, PrefixRefreshToken) || v != a.derivedSecret(PrefixRefreshToken, labelRefresh, old, presented) {
		t.Fatalf("derived value %q: not a stable 256-bit value", v)
	}
	other := old
	other.Family = "g"
	later := old
	later.IssuedAt = old.IssuedAt.Add(time.Millisecond)
	for name, w := range map[string]string{
		"another secret":     b.derivedSecret(PrefixRefreshToken, labelRefresh, old, presented),
		"another family":     a.derivedSecret(PrefixRefreshToken, labelRefresh, other, presented),
		"another issue time": a.derivedSecret(PrefixRefreshToken, labelRefresh, later, presented),
		"another label":      PrefixRefreshToken + a.derivedSecret("", labelAccess, old, presented),
	} {
		if w == v {
			t.Errorf("%s derives the same value", name)
		}
	}
}

// TestRefreshRetryOtherSecretRevokes: two instances that share a store
// with a store.Exchanger (SQLite here) but not Config.Secret. A retry that
// lands on the other instance derives other values, which the store never
// held: it must not store them — that would fork the grant into two live
// refresh tokens — but take the presentation for reuse and revoke the
// family, the first answer's tokens included.
func TestRefreshRetryOtherSecretRevokes(t *testing.T) {
	ctx := context.Background()
	clk := &clock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)} // the fixtures' time
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "oauth.db"), sqlite.WithClock(clk.Now))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	a := newFixture(t, func(c *Config) { c.Tokens, c.Secret = st, bytes.Repeat([]byte{1}, 32) })
	b := newFixture(t, func(c *Config) { c.Tokens, c.Clients, c.Secret = st, a.st, bytes.Repeat([]byte{2}, 32) })
	if _, ok := any(st).(store.Exchanger); !ok {
		t.Fatal("the SQLite store is no store.Exchanger")
	}
	rt := a.passwordGrant(appClient, "").str("refresh_token")
	b.secrets[appClient] = a.secrets[appClient]
	first := a.refresh(appClient, rt, "")
	if first.status != 200 {
		t.Fatalf("refresh on a: %d %s", first.status, first.raw)
	}
	retry := b.refresh(appClient, rt, "")
	if retry.status != 400 || retry.str("error") != CodeInvalidGrant {
		t.Fatalf("retry on b, with another secret: %d %s, want 400 invalid_grant", retry.status, retry.raw)
	}
	if r := a.refresh(appClient, first.str("refresh_token"), ""); r.status != 400 {
		t.Fatalf("the first answer's refresh token after the fork attempt: %d %s, want it revoked", r.status, r.raw)
	}
	if s, _ := a.dpopAPI(nil, first.str("access_token")); s != 401 {
		t.Fatalf("the first answer's access token: %d, want 401", s)
	}
}

// An access token revoked on its own (RFC 7009) after a rotation stays
// revoked when the rotation is retried within the grace: the retry finds
// the revoked record instead of storing the derived token again. On the
// memory store (no store.Exchanger: a retry may store what is missing) and
// on SQLite (one).
func TestRefreshRetryKeepsRevokedAccessToken(t *testing.T) {
	stores := map[string]func(*testing.T, *clock) func(*Config){
		"memory": func(*testing.T, *clock) func(*Config) { return func(*Config) {} },
		"sqlite": func(t *testing.T, clk *clock) func(*Config) {
			st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "oauth.db"), sqlite.WithClock(clk.Now))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { st.Close() })
			return func(c *Config) { c.Tokens = st }
		},
	}
	for name, tokens := range stores {
		t.Run(name, func(t *testing.T) {
			clk := &clock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)} // the fixtures' time
			f := newFixture(t, tokens(t, clk), func(c *Config) {
				c.Now = clk.Now
			})
			f.clock = clk
			rt := f.passwordGrant(appClient, "").str("refresh_token")
			first := f.refresh(appClient, rt, "")
			if first.status != 200 {
				t.Fatalf("refresh: %d %s", first.status, first.raw)
			}
			at := first.str("access_token")
			req := httptest.NewRequest(http.MethodPost, "/oauth/revoke", strings.NewReader(url.Values{"token": {at}}.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.SetBasicAuth(appClient, f.secrets[appClient])
			rec := httptest.NewRecorder()
			f.p.RevokeHandler().ServeHTTP(rec, req)
			if rec.Code != 200 {
				t.Fatalf("revoke: %d %s", rec.Code, rec.Body)
			}
			if s := f.api(at); s != 401 {
				t.Fatalf("revoked access token: %d", s)
			}
			clk.Advance(time.Second) // within the default 2 s
			retry := f.refresh(appClient, rt, "")
			if s := f.api(at); s != 401 {
				t.Fatalf("the retry (%d %s) brought the revoked access token back: %d", retry.status, retry.raw, s)
			}
			if retry.status == 200 && retry.str("access_token") == at {
				t.Fatalf("the retry answered with the revoked access token: %s", retry.raw)
			}
		})
	}
}
