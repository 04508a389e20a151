package middleware

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"
)

// TestOnValidated checks that Options.OnValidated hears of every request
// that carries a token, once, with the validator's answer and the time it
// took, and of no other request.
func TestOnValidated(t *testing.T) {
	type seen struct {
		d   time.Duration
		err error
	}
	var got []seen
	slow := slowValidator{testTokens, 2 * time.Millisecond}
	g, err := New(slow, Options{OnValidated: func(r *http.Request, d time.Duration, err error) {
		if r.URL.Path != "/api/data" {
			t.Errorf("OnValidated got request for %q", r.URL.Path)
		}
		got = append(got, seen{d, err})
	}})
	if err != nil {
		t.Fatal(err)
	}
	h := g.Require("read")(okHandler)
	for _, c := range []struct {
		hdr    []string
		status int
		want   string // "ok", "invalid", "error", or "" for no call
	}{
		{[]string{"Bearer read"}, 200, "ok"},
		{[]string{"Bearer none"}, 403, "ok"}, // valid, lacks the scope
		{[]string{"Bearer nope"}, 401, "invalid"},
		{[]string{"Bearer broken"}, 503, "error"}, // a validator failure: retry later
		{nil, 401, ""}, // no token: nothing validated
		{[]string{"Bearer read", "Bearer read"}, 400, ""}, // malformed: nothing validated
	} {
		got = nil
		if w := serve(h, c.hdr...); w.Code != c.status {
			t.Fatalf("%v: status %d, want %d", c.hdr, w.Code, c.status)
		}
		if c.want == "" {
			if len(got) != 0 {
				t.Errorf("%v: OnValidated called %d times, want none", c.hdr, len(got))
			}
			continue
		}
		if len(got) != 1 {
			t.Fatalf("%v: OnValidated called %d times, want once", c.hdr, len(got))
		}
		outcome := "error"
		switch {
		case got[0].err == nil:
			outcome = "ok"
		case errors.Is(got[0].err, ErrInvalidToken):
			outcome = "invalid"
		}
		if outcome != c.want {
			t.Errorf("%v: OnValidated err %v (%s), want %s", c.hdr, got[0].err, outcome, c.want)
		}
		if got[0].d < slow.delay || got[0].d > time.Second {
			t.Errorf("%v: OnValidated d = %v, want the validator's time (at least %v)", c.hdr, got[0].d, slow.delay)
		}
	}
}

// slowValidator answers as its Validator does, after a delay: so that a
// measured validation time can be told from none.
type slowValidator struct {
	v     Validator
	delay time.Duration
}

func (s slowValidator) ValidateToken(ctx context.Context, raw string) (*Token, error) {
	time.Sleep(s.delay)
	return s.v.ValidateToken(ctx, raw)
}
