package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

var hiddenRE = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`)

// TestSharedSessionKey: with one $OAUTHKIT_SESSION_KEY, a user who signed in
// on one instance's login page is signed in on the other's (cookies ignore
// the port); with separate random keys, the other instance asks again.
func TestSharedSessionKey(t *testing.T) {
	for _, shared := range []bool{true, false} {
		if shared {
			t.Setenv(sessionKeyEnv, base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, 32)))
		} else {
			t.Setenv(sessionKeyEnv, "")
		}
		baseA, _ := startExample(t)
		baseB, _ := startExample(t)
		query := "?" + url.Values{
			"response_type": {"code"}, "client_id": {"demo-spa"}, "redirect_uri": {"http://127.0.0.1:8080/callback"},
			"scope": {"read"}, "state": {"s"}, "code_challenge_method": {"S256"},
			"code_challenge": {"E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"},
		}.Encode()
		jar, _ := cookiejar.New(nil)
		c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		get := func(u string) string {
			res, err := c.Get(u)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			b, _ := io.ReadAll(res.Body)
			return string(b)
		}
		form := url.Values{"username": {"user1"}, "password": {"password1"}}
		for _, m := range hiddenRE.FindAllStringSubmatch(get(baseA+"/oauth/authorize"+query), -1) {
			form.Set(m[1], html.UnescapeString(m[2]))
		}
		res, err := c.PostForm(baseA+"/oauth/authorize"+query, form)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusSeeOther {
			t.Fatalf("login on A: %d", res.StatusCode)
		}
		page := get(baseB + "/oauth/authorize" + query)
		onConsent := strings.Contains(page, `value="allow"`)
		if onConsent != shared {
			t.Fatalf("shared key %v: B showed the consent page: %v", shared, onConsent)
		}
	}
}

func TestSessionKeyInvalid(t *testing.T) {
	for _, v := range []string{"not base64!", base64.StdEncoding.EncodeToString([]byte("short"))} {
		t.Setenv(sessionKeyEnv, v)
		var stderr bytes.Buffer
		if code := run(context.Background(), []string{"-addr", "127.0.0.1:0"}, io.Discard, &stderr); code != 2 || !strings.Contains(stderr.String(), sessionKeyEnv) {
			t.Errorf("%q: exit %d, %q", v, code, stderr.String())
		}
	}
}
