package storetest

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/oauthkit/oauthkit/store"
)

// testTokenRoundTrip stores one token of each kind and reads every field back.
func testTokenRoundTrip(t *testing.T, s Store) {
	ctx := t.Context()
	fam := newFamily()
	code, _ := newToken(store.KindCode, fam, 5*time.Minute)
	code.RedirectURI = "https://app.example/cb?x=1"
	code.CodeChallenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
	access, _ := newToken(store.KindAccess, fam, time.Hour)
	access.Scopes = []string{"a", "b:c", "https://api.example/x", "ü"}
	refresh, _ := newToken(store.KindRefresh, fam, 30*24*time.Hour)
	refresh.Scopes = nil
	cc, _ := newToken(store.KindAccess, newFamily(), time.Hour)
	cc.Subject, cc.Username = "", "" // client_credentials: no user
	for _, tok := range []store.Token{code, access, refresh, cc} {
		create(t, s, tok)
	}
	for _, want := range []store.Token{code, access, refresh, cc} {
		got, err := s.Token(ctx, want.Hash)
		if err != nil {
			t.Fatalf("Token(%s): %v", want.Kind, err)
		}
		checkToken(t, got, want)
	}
}

func testTokenNotFound(t *testing.T, s Store) {
	ctx := t.Context()
	h := store.HashSecret(rawToken())
	if _, err := s.Token(ctx, h); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Token(unknown) err = %v, want ErrNotFound", err)
	}
	if _, err := s.ConsumeToken(ctx, h); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("ConsumeToken(unknown) err = %v, want ErrNotFound", err)
	}
	if err := s.RevokeToken(ctx, h); err != nil {
		t.Errorf("RevokeToken(unknown) = %v, want nil", err)
	}
	if err := s.RevokeFamily(ctx, newFamily()); err != nil {
		t.Errorf("RevokeFamily(unknown) = %v, want nil", err)
	}
}

func testTokenExists(t *testing.T, s Store) {
	ctx := t.Context()
	tok, _ := newToken(store.KindAccess, newFamily(), time.Hour)
	create(t, s, tok)
	dup := tok
	dup.ClientID = "someone-else"
	if err := s.CreateToken(ctx, &dup); !errors.Is(err, store.ErrExists) {
		t.Errorf("CreateToken of a stored hash = %v, want ErrExists", err)
	}
	got, err := s.Token(ctx, tok.Hash)
	if err != nil {
		t.Fatal(err)
	}
	checkToken(t, got, tok)
}

// testTokenExistsConcurrent races 20 creates of one hash: exactly one wins.
func testTokenExistsConcurrent(t *testing.T, s Store) {
	tok, _ := newToken(store.KindCode, newFamily(), time.Minute)
	const n = 20
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			cp := tok
			errs[i] = s.CreateToken(t.Context(), &cp)
		})
	}
	wg.Wait()
	won := 0
	for _, err := range errs {
		switch {
		case err == nil:
			won++
		case !errors.Is(err, store.ErrExists):
			t.Errorf("racing CreateToken: %v, want nil or ErrExists", err)
		}
	}
	if won != 1 {
		t.Errorf("%d racing CreateToken calls succeeded, want exactly 1", won)
	}
}

// testExpired stores tokens whose ExpiresAt is already past: CreateToken
// accepts them, and they are never found.
func testExpired(t *testing.T, s Store) {
	ctx := t.Context()
	for _, ago := range []time.Duration{time.Millisecond, time.Second, 24 * time.Hour} {
		tok, _ := newToken(store.KindCode, newFamily(), -ago)
		tok.IssuedAt = tok.ExpiresAt.Add(-time.Minute)
		if err := s.CreateToken(ctx, &tok); err != nil {
			t.Fatalf("CreateToken(expired %v ago) = %v, want nil", ago, err)
		}
		if _, err := s.Token(ctx, tok.Hash); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("Token(expired %v ago) err = %v, want ErrNotFound", ago, err)
		}
		if _, err := s.ConsumeToken(ctx, tok.Hash); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("ConsumeToken(expired %v ago) err = %v, want ErrNotFound", ago, err)
		}
	}
}

// testExpiresWhileStored watches live tokens, one of them consumed, expire.
func testExpiresWhileStored(t *testing.T, s Store) {
	ctx := t.Context()
	const ttl = 400 * time.Millisecond
	fam := newFamily()
	plain, _ := newToken(store.KindAccess, fam, ttl)
	used, _ := newToken(store.KindRefresh, fam, ttl)
	create(t, s, plain)
	create(t, s, used)
	if _, err := s.Token(ctx, plain.Hash); err != nil {
		t.Fatalf("Token before expiry: %v", err)
	}
	if _, err := s.ConsumeToken(ctx, used.Hash); err != nil {
		t.Fatalf("ConsumeToken before expiry: %v", err)
	}
	if _, err := s.ConsumeToken(ctx, used.Hash); !errors.Is(err, store.ErrConsumed) {
		t.Fatalf("second ConsumeToken before expiry: err = %v, want ErrConsumed", err)
	}
	time.Sleep(time.Until(plain.ExpiresAt) + 50*time.Millisecond)
	if _, err := s.Token(ctx, plain.Hash); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Token after expiry: err = %v, want ErrNotFound", err)
	}
	if _, err := s.ConsumeToken(ctx, plain.Hash); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("ConsumeToken after expiry: err = %v, want ErrNotFound", err)
	}
	if _, err := s.ConsumeToken(ctx, used.Hash); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("ConsumeToken of a consumed token after expiry: err = %v, want ErrNotFound", err)
	}
}

// testConsume consumes a token once, then sees ErrConsumed with the token on
// every later call, and no longer finds it with Token.
func testConsume(t *testing.T, s Store) {
	ctx := t.Context()
	tok, _ := newToken(store.KindCode, newFamily(), time.Minute)
	tok.RedirectURI, tok.CodeChallenge = "https://app.example/cb", "challenge"
	create(t, s, tok)
	before := time.Now()
	got, err := s.ConsumeToken(ctx, tok.Hash)
	after := time.Now()
	if err != nil {
		t.Fatalf("first ConsumeToken: %v", err)
	}
	checkToken(t, got, tok)
	for i := range 3 {
		got, err := s.ConsumeToken(ctx, tok.Hash)
		if !errors.Is(err, store.ErrConsumed) {
			t.Fatalf("ConsumeToken #%d: err = %v, want ErrConsumed", i+2, err)
		}
		checkToken(t, got, tok)
		if got.ConsumedAt.Before(before.Add(-time.Millisecond)) || got.ConsumedAt.After(after.Add(time.Millisecond)) {
			t.Errorf("ConsumeToken #%d: ConsumedAt = %v, want the first call's time, in [%v, %v]", i+2, got.ConsumedAt, before, after)
		}
	}
	if _, err := s.Token(ctx, tok.Hash); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Token of a consumed token: err = %v, want ErrNotFound", err)
	}
}

// testConsumeConcurrent races 50 goroutines on one token: exactly one wins,
// every other gets ErrConsumed and the token, family included.
func testConsumeConcurrent(t *testing.T, s Store) {
	tok, _ := newToken(store.KindRefresh, newFamily(), time.Minute)
	create(t, s, tok)
	const n = 50
	type result struct {
		tok store.Token
		err error
	}
	res := make([]result, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			got, err := s.ConsumeToken(t.Context(), tok.Hash)
			res[i] = result{got, err}
		})
	}
	close(start)
	wg.Wait()
	won := 0
	var consumedAt time.Time
	for _, r := range res {
		switch {
		case r.err == nil:
			won++
		case errors.Is(r.err, store.ErrConsumed):
			if r.tok.Family != tok.Family || r.tok.Hash != tok.Hash {
				t.Errorf("ErrConsumed came with family %q hash %v, want %q %v", r.tok.Family, r.tok.Hash, tok.Family, tok.Hash)
			}
			if consumedAt.IsZero() {
				consumedAt = r.tok.ConsumedAt
			}
			if r.tok.ConsumedAt.IsZero() || !sameTime(r.tok.ConsumedAt, consumedAt) {
				t.Errorf("ErrConsumed came with ConsumedAt %v, want the winner's (%v)", r.tok.ConsumedAt, consumedAt)
			}
		default:
			t.Errorf("racing ConsumeToken: %v, want nil or ErrConsumed", r.err)
		}
	}
	if won != 1 {
		t.Errorf("%d of %d racing ConsumeToken calls won, want exactly 1", won, n)
	}
}

// testRevokeToken revokes one token and leaves its family alone.
func testRevokeToken(t *testing.T, s Store) {
	ctx := t.Context()
	fam := newFamily()
	access, _ := newToken(store.KindAccess, fam, time.Hour)
	refresh, _ := newToken(store.KindRefresh, fam, time.Hour)
	create(t, s, access)
	create(t, s, refresh)
	if err := s.RevokeToken(ctx, access.Hash); err != nil {
		t.Fatalf("RevokeToken: %v", err)
	}
	if _, err := s.Token(ctx, access.Hash); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Token after RevokeToken: err = %v, want ErrNotFound", err)
	}
	if _, err := s.ConsumeToken(ctx, access.Hash); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("ConsumeToken after RevokeToken: err = %v, want ErrNotFound", err)
	}
	if err := s.RevokeToken(ctx, access.Hash); err != nil {
		t.Errorf("second RevokeToken = %v, want nil", err)
	}
	if _, err := s.Token(ctx, refresh.Hash); err != nil {
		t.Errorf("sibling token after RevokeToken: %v", err)
	}
	more, _ := newToken(store.KindAccess, fam, time.Hour)
	if err := s.CreateToken(ctx, &more); err != nil {
		t.Errorf("CreateToken in the family after RevokeToken = %v, want nil", err)
	}
}

// testRevokeFamily revokes one family of three and checks the other two.
func testRevokeFamily(t *testing.T, s Store) {
	ctx := t.Context()
	fams := []string{newFamily(), newFamily(), newFamily()}
	toks := map[string][]store.Token{}
	for _, fam := range fams {
		for _, k := range []store.Kind{store.KindCode, store.KindAccess, store.KindRefresh} {
			tok, _ := newToken(k, fam, time.Hour)
			create(t, s, tok)
			toks[fam] = append(toks[fam], tok)
		}
	}
	// One consumed token: revocation must reach it too.
	if _, err := s.ConsumeToken(ctx, toks[fams[0]][0].Hash); err != nil {
		t.Fatal(err)
	}
	if err := s.RevokeFamily(ctx, fams[0]); err != nil {
		t.Fatalf("RevokeFamily: %v", err)
	}
	for _, tok := range toks[fams[0]] {
		if _, err := s.Token(ctx, tok.Hash); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("Token(%s) in a revoked family: err = %v, want ErrNotFound", tok.Kind, err)
		}
		if _, err := s.ConsumeToken(ctx, tok.Hash); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("ConsumeToken(%s) in a revoked family: err = %v, want ErrNotFound", tok.Kind, err)
		}
	}
	late, _ := newToken(store.KindAccess, fams[0], time.Hour)
	if err := s.CreateToken(ctx, &late); !errors.Is(err, store.ErrRevoked) {
		t.Errorf("CreateToken in a revoked family = %v, want ErrRevoked", err)
	}
	if _, err := s.Token(ctx, late.Hash); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("token refused with ErrRevoked was stored anyway: err = %v", err)
	}
	if err := s.RevokeFamily(ctx, fams[0]); err != nil {
		t.Errorf("second RevokeFamily = %v, want nil", err)
	}
	for _, fam := range fams[1:] {
		for _, tok := range toks[fam] {
			if _, err := s.Token(ctx, tok.Hash); err != nil {
				t.Errorf("Token(%s) in an untouched family: %v", tok.Kind, err)
			}
		}
		more, _ := newToken(store.KindAccess, fam, time.Hour)
		if err := s.CreateToken(ctx, &more); err != nil {
			t.Errorf("CreateToken in an untouched family: %v", err)
		}
	}
}

// testRevokeFamilyConcurrent issues tokens in a family while it is revoked:
// every token that CreateToken accepted must be gone afterwards.
func testRevokeFamilyConcurrent(t *testing.T, s Store) {
	ctx := t.Context()
	fam := newFamily()
	first, _ := newToken(store.KindRefresh, fam, time.Hour)
	create(t, s, first)
	const n = 40
	toks := make([]store.Token, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		toks[i], _ = newToken(store.KindAccess, fam, time.Hour)
		wg.Go(func() { errs[i] = s.CreateToken(ctx, &toks[i]) })
		if i == n/2 {
			wg.Go(func() {
				if err := s.RevokeFamily(ctx, fam); err != nil {
					t.Errorf("RevokeFamily: %v", err)
				}
			})
		}
	}
	wg.Wait()
	for i, tok := range append(toks, first) {
		if i < n && errs[i] != nil && !errors.Is(errs[i], store.ErrRevoked) {
			t.Errorf("CreateToken during RevokeFamily: %v, want nil or ErrRevoked", errs[i])
		}
		if _, err := s.Token(ctx, tok.Hash); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("token %d survived RevokeFamily: err = %v", i, err)
		}
	}
}

// testRevokeClient issues tokens of every kind to two clients, in families
// and alone, some consumed, then revokes one client: all of its tokens are
// gone, the other's are untouched.
func testRevokeClient(t *testing.T, s Store) {
	ctx := t.Context()
	issue := func(client string) []store.Token {
		var toks []store.Token
		for _, fam := range []string{newFamily(), newFamily(), ""} {
			for _, k := range []store.Kind{store.KindCode, store.KindAccess, store.KindRefresh} {
				tok, _ := newToken(k, fam, time.Hour)
				tok.ClientID = client
				create(t, s, tok)
				toks = append(toks, tok)
			}
		}
		// A consumed code and a consumed refresh token: revocation must
		// reach them too.
		for _, i := range []int{0, 2} {
			if _, err := s.ConsumeToken(ctx, toks[i].Hash); err != nil {
				t.Fatal(err)
			}
		}
		return toks
	}
	gone, kept := issue("client-gone"), issue("client-kept")
	if err := s.RevokeClient(ctx, "client-gone"); err != nil {
		t.Fatalf("RevokeClient: %v", err)
	}
	for i, tok := range gone {
		if _, err := s.Token(ctx, tok.Hash); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("Token(%s #%d) of a revoked client: err = %v, want ErrNotFound", tok.Kind, i, err)
		}
		if _, err := s.ConsumeToken(ctx, tok.Hash); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("ConsumeToken(%s #%d) of a revoked client: err = %v, want ErrNotFound", tok.Kind, i, err)
		}
	}
	for i, tok := range kept {
		if consumed := i == 0 || i == 2; consumed {
			if _, err := s.ConsumeToken(ctx, tok.Hash); !errors.Is(err, store.ErrConsumed) {
				t.Errorf("ConsumeToken(consumed %s #%d) of another client: err = %v, want ErrConsumed", tok.Kind, i, err)
			}
			continue
		}
		got, err := s.Token(ctx, tok.Hash)
		if err != nil {
			t.Errorf("Token(%s #%d) of another client: %v", tok.Kind, i, err)
			continue
		}
		checkToken(t, got, tok)
	}
	if err := s.RevokeClient(ctx, "client-gone"); err != nil {
		t.Errorf("second RevokeClient = %v, want nil", err)
	}
	if err := s.RevokeClient(ctx, "client-unknown"); err != nil {
		t.Errorf("RevokeClient(unknown) = %v, want nil", err)
	}
}

// testRefreshRotation plays a code exchange, two refreshes and a replay of
// the first refresh token, which revokes the whole grant.
func testRefreshRotation(t *testing.T, s Store) {
	ctx := t.Context()
	fam := newFamily()
	code, _ := newToken(store.KindCode, fam, 10*time.Minute)
	create(t, s, code)
	if _, err := s.ConsumeToken(ctx, code.Hash); err != nil {
		t.Fatalf("exchange code: %v", err)
	}
	var access, refresh []store.Token
	issue := func() {
		a, _ := newToken(store.KindAccess, fam, time.Hour)
		r, _ := newToken(store.KindRefresh, fam, 24*time.Hour)
		create(t, s, a)
		create(t, s, r)
		access, refresh = append(access, a), append(refresh, r)
	}
	issue()
	for i := range 2 {
		got, err := s.ConsumeToken(ctx, refresh[i].Hash)
		if err != nil {
			t.Fatalf("refresh #%d: %v", i+1, err)
		}
		if got.Family != fam {
			t.Fatalf("refresh #%d: family %q, want %q", i+1, got.Family, fam)
		}
		issue()
	}
	// Every access token is still valid, only the last refresh token is.
	for i, a := range access {
		if _, err := s.Token(ctx, a.Hash); err != nil {
			t.Errorf("access #%d before replay: %v", i, err)
		}
	}
	// The attacker replays the first refresh token.
	got, err := s.ConsumeToken(ctx, refresh[0].Hash)
	if !errors.Is(err, store.ErrConsumed) {
		t.Fatalf("replayed refresh token: err = %v, want ErrConsumed", err)
	}
	if err := s.RevokeFamily(ctx, got.Family); err != nil {
		t.Fatalf("RevokeFamily: %v", err)
	}
	for i, tok := range append(access, refresh...) {
		if _, err := s.Token(ctx, tok.Hash); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("token %d after reuse detection: err = %v, want ErrNotFound", i, err)
		}
	}
	last := refresh[len(refresh)-1]
	if _, err := s.ConsumeToken(ctx, last.Hash); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("legitimate client's refresh after revocation: err = %v, want ErrNotFound", err)
	}
	next, _ := newToken(store.KindAccess, fam, time.Hour)
	if err := s.CreateToken(ctx, &next); !errors.Is(err, store.ErrRevoked) {
		t.Errorf("issuing in the revoked grant = %v, want ErrRevoked", err)
	}
}

// testLoneTokens: tokens of no family (Family "") are independent of each
// other: revoking the empty family does nothing, and revoking one lone token
// leaves the others and later ones alone.
func testLoneTokens(t *testing.T, s Store) {
	ctx := t.Context()
	a, _ := newToken(store.KindAccess, "", time.Hour)
	b, _ := newToken(store.KindAccess, "", time.Hour)
	create(t, s, a)
	create(t, s, b)
	if err := s.CreateToken(ctx, &a); !errors.Is(err, store.ErrExists) {
		t.Errorf("CreateToken of a stored lone token = %v, want ErrExists", err)
	}
	if err := s.RevokeFamily(ctx, ""); err != nil {
		t.Fatalf(`RevokeFamily("") = %v, want nil`, err)
	}
	for _, tok := range []store.Token{a, b} {
		if _, err := s.Token(ctx, tok.Hash); err != nil {
			t.Errorf(`lone token after RevokeFamily(""): %v`, err)
		}
	}
	if err := s.RevokeToken(ctx, a.Hash); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Token(ctx, b.Hash); err != nil {
		t.Errorf("lone token after another lone token was revoked: %v", err)
	}
	c, _ := newToken(store.KindAccess, "", time.Hour)
	if err := s.CreateToken(ctx, &c); err != nil {
		t.Errorf("CreateToken of a lone token after revocations: %v", err)
	}
	if got, err := s.Token(ctx, c.Hash); err != nil || got.Family != "" {
		t.Errorf("lone token: %+v, %v", got, err)
	}
}
