package oauthtest_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/oauthkit/oauthkit/grant"
	"github.com/oauthkit/oauthkit/oauthtest"
)

// fakeT lets Example functions call helpers that take a testing.TB.
type fakeT struct{ testing.TB }

func (*fakeT) Helper()                   {}
func (*fakeT) Fatal(args ...any)         { panic(fmt.Sprint(args...)) }
func (*fakeT) Fatalf(f string, a ...any) { panic(fmt.Sprintf(f, a...)) }

func TestTokenContents(t *testing.T) {
	for _, opt := range []oauthtest.Option{oauthtest.WithConfig(func(*grant.Config) {}), oauthtest.WithJWT()} {
		srv := oauthtest.New(t, opt)
		ctx := context.Background()
		tok, err := srv.Validator().ValidateToken(ctx, srv.Token(t, oauthtest.User("7", "ann"), "read", "write"))
		if err != nil || tok.Subject != "7" || tok.Username != "ann" || tok.ClientID != oauthtest.ClientID ||
			strings.Join(tok.Scopes, " ") != "read write" {
			t.Fatalf("user token %+v %v", tok, err)
		}
		tok, err = srv.Validator().ValidateToken(ctx, srv.Token(t, oauthtest.Client("svc")))
		if err != nil || tok.Subject != "" || tok.ClientID != "svc" || len(tok.Scopes) != 0 {
			t.Fatalf("client token %+v %v", tok, err)
		}
	}
}

func TestConcurrentMinting(t *testing.T) {
	srv := oauthtest.New(t)
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			scope := fmt.Sprintf("s%d", i)
			tok, err := srv.Validator().ValidateToken(context.Background(), srv.Token(t, oauthtest.User("1", "u"), scope))
			if err != nil || !tok.HasScope(scope) || len(tok.Scopes) != 1 {
				t.Errorf("%+v %v", tok, err)
			}
		})
	}
	wg.Wait()
}
