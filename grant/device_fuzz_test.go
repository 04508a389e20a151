package grant

import (
	"context"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/oauthkit/oauthkit/store"
)

// FuzzDeviceCodeExpiry: any string is read without panic; a device code
// this package made reads back its expiry, and one character changed in
// its prefix or length makes it no device code.
func FuzzDeviceCodeExpiry(f *testing.F) {
	exp := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	made, _, err := newDeviceCode(exp)
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range []string{made, made[:len(made)-1], made + "A", "okdc_", "", PrefixAccessToken + made[5:], strings.ToUpper(made)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, ok := deviceCodeExpiry(s)
		if s == made && (!ok || !got.Equal(exp)) {
			t.Fatalf("a made code: %v %v, want %v", got, ok, exp)
		}
		if ok && (!strings.HasPrefix(s, PrefixDeviceCode) || len(s) != len(made)) {
			t.Fatalf("%q read as a device code", s)
		}
	})
}

// FuzzDevicePoll throws arbitrary device codes at the token endpoint's
// device grant: every answer is a 400 with an RFC 6749 or RFC 8628 error
// code, never a 500, never cacheable.
func FuzzDevicePoll(f *testing.F) {
	fx := newFixture(f, func(c *Config) { c.GrantTypes = append(c.GrantTypes, store.GrantDeviceCode) })
	err := fx.st.CreateClient(context.Background(), &store.Client{ID: "dev", AuthMethod: store.AuthNone,
		GrantTypes: []string{store.GrantDeviceCode}, Scopes: []string{"read"}})
	if err != nil {
		f.Fatal(err)
	}
	made, _, _ := newDeviceCode(fx.clock.Now().Add(time.Minute))
	for _, s := range []string{made, "okdc_", "", "okdc_" + strings.Repeat("_", 54), made[:30], "WDJB-MJHT", "\x00"} {
		f.Add(s)
	}
	h := fx.p.TokenHandler()
	codes := map[string]bool{CodeInvalidRequest: true, CodeInvalidGrant: true, CodeExpiredToken: true}
	f.Fuzz(func(t *testing.T, dc string) {
		body := url.Values{"grant_type": {store.GrantDeviceCode}, "client_id": {"dev"}, "device_code": {dc}}.Encode()
		r := httptest.NewRequest("POST", "/oauth/token", strings.NewReader(body))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		code := ""
		if i := strings.Index(w.Body.String(), `"error":"`); i >= 0 {
			code, _, _ = strings.Cut(w.Body.String()[i+9:], `"`)
		}
		if w.Code != 400 || !codes[code] || w.Header().Get("Cache-Control") != "no-store" {
			t.Fatalf("device_code %q: %d %s", dc, w.Code, w.Body)
		}
	})
}
