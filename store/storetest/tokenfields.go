package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/oauthkit/oauthkit/store"
)

// The token properties of OpenID Connect, RFC 8707 and DPoP.
var (
	testAudience = []string{"https://api.example/", `https://api.example/x?a=1,2&b="3"`, "urn:example:ü"}
	testJKT      = "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I"
	testNonce    = `n-0S6_WzA2Mj "ü" {}[],`
)

// withProperties returns tok with an audience, a DPoP key binding and an
// auth_time (with a fraction of a second), and for a code a nonce.
func withProperties(tok store.Token) store.Token {
	tok.Audience = append([]string(nil), testAudience...)
	tok.JKT = testJKT
	tok.AuthTime = time.Now().Add(-5*time.Minute - 123456789*time.Nanosecond)
	if tok.Kind == store.KindCode {
		tok.Nonce = testNonce
		tok.RedirectURI, tok.CodeChallenge = "https://app.example/cb", "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
	}
	return tok
}

// testTokenProperties stores tokens with and without Audience, JKT, Nonce
// and AuthTime, and reads every field back through Token, ConsumeToken and
// ErrConsumed's copy; absent properties stay empty and zero.
func testTokenProperties(t *testing.T, s Store) {
	ctx := t.Context()
	fam := newFamily()
	var toks []store.Token
	for _, k := range []store.Kind{store.KindCode, store.KindAccess, store.KindRefresh} {
		tok, _ := newToken(k, fam, time.Hour)
		toks = append(toks, withProperties(tok))
	}
	bearer, _ := newToken(store.KindAccess, fam, time.Hour) // no properties at all
	emptyAud, _ := newToken(store.KindAccess, "", time.Hour)
	emptyAud.Audience = []string{}
	oneAud, _ := newToken(store.KindRefresh, fam, time.Hour)
	oneAud.Audience = []string{"https://api.example/"}
	oneAud.AuthTime = time.Unix(1_700_000_000, 0) // a whole second
	toks = append(toks, bearer, emptyAud, oneAud)

	for _, tok := range toks {
		create(t, s, tok)
	}
	for i, want := range toks {
		got, err := s.Token(ctx, want.Hash)
		if err != nil {
			t.Fatalf("Token #%d (%s): %v", i, want.Kind, err)
		}
		checkToken(t, got, want)
		if len(want.Audience) == 0 && len(got.Audience) != 0 || want.AuthTime.IsZero() && !got.AuthTime.IsZero() {
			t.Errorf("Token #%d: empty properties came back as %q, %v", i, got.Audience, got.AuthTime)
		}
	}
	for i, want := range toks {
		got, err := s.ConsumeToken(ctx, want.Hash)
		if err != nil {
			t.Fatalf("ConsumeToken #%d (%s): %v", i, want.Kind, err)
		}
		checkToken(t, got, want)
		got, err = s.ConsumeToken(ctx, want.Hash)
		if !errors.Is(err, store.ErrConsumed) {
			t.Fatalf("second ConsumeToken #%d: err = %v, want ErrConsumed", i, err)
		}
		checkToken(t, got, want)
	}
}

// testTokenPropertiesApart stores tokens that differ from one another in
// one property only (a store that shares what tokens have in common must
// still tell them apart), and checks that a stored Audience is a copy.
func testTokenPropertiesApart(t *testing.T, s Store) {
	ctx := t.Context()
	fam := newFamily()
	base, _ := newToken(store.KindCode, fam, time.Hour)
	base = withProperties(base)
	variants := []func(*store.Token){
		func(*store.Token) {},
		func(t *store.Token) { t.Audience = nil },
		func(t *store.Token) { t.Audience = t.Audience[:1] },
		func(t *store.Token) { t.Audience = []string{t.Audience[1], t.Audience[0], t.Audience[2]} },
		func(t *store.Token) { t.Audience = []string{t.Audience[0] + t.Audience[1], t.Audience[2]} },
		func(t *store.Token) { t.JKT = "" },
		func(t *store.Token) { t.JKT = "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs" },
		func(t *store.Token) { t.Nonce = "" },
		func(t *store.Token) { t.Nonce = "other" },
		func(t *store.Token) { t.AuthTime = time.Time{} },
		func(t *store.Token) { t.AuthTime = t.AuthTime.Add(-time.Hour) },
	}
	toks := make([]store.Token, len(variants))
	for i, edit := range variants {
		tok, _ := newToken(store.KindCode, fam, time.Hour)
		tok.Audience, tok.JKT, tok.Nonce, tok.AuthTime = append([]string(nil), base.Audience...), base.JKT, base.Nonce, base.AuthTime
		tok.RedirectURI, tok.CodeChallenge = base.RedirectURI, base.CodeChallenge
		edit(&tok)
		toks[i] = tok
		create(t, s, tok)
	}
	// The caller's slice is the caller's: changing it changes nothing stored.
	kept := append([]string(nil), toks[0].Audience...)
	toks[0].Audience[0] = "https://changed.example/"
	toks[0].Audience = kept
	for i, want := range toks {
		got, err := s.Token(ctx, want.Hash)
		if err != nil {
			t.Fatalf("Token(variant %d): %v", i, err)
		}
		checkToken(t, got, want)
	}
}
