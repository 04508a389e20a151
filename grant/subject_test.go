package grant

import (
	"bytes"
	"context"
	"log/slog"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/oauthkit/oauthkit/store"
)

// logBuffer is an io.Writer for a test logger, safe across goroutines.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// A user whose ID is in the client namespace could hold a token whose sub
// equals a client's: the Provider issues nothing for it — not by the
// password grant, the login, a refresh or a code issued before — and
// answers server_error with an Error log.
func TestReservedUserSubjectRefused(t *testing.T) {
	logs := &logBuffer{}
	f := newFixture(t, func(c *Config) {
		c.Logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelError}))
	})
	const reserved = ClientSubjectPrefix + svcClient
	if err := f.st.AddUser(reserved, "mallory", "password1"); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	wantRefused := func(what string, r response) {
		t.Helper()
		wantError(t, r, 500, CodeServerError)
		if r.str("access_token") != "" || strings.Contains(r.raw, reserved) {
			t.Errorf("%s: %s", what, r.raw)
		}
	}

	form := url.Values{"grant_type": {"password"}, "username": {"mallory"}, "password": {"password1"}}
	wantRefused("password grant", f.post("/oauth/token", form, appClient, f.secrets[appClient]))
	wantRefused("login", f.login(`{"username": "mallory", "password": "password1"}`, "application/json", ""))

	// tokens and codes stored before the rule: a refresh or an exchange
	// issues nothing either
	rt, h, _ := newSecret(PrefixRefreshToken)
	now := f.clock.Now()
	if err := f.st.CreateToken(ctx, &store.Token{Hash: h, Kind: store.KindRefresh, Family: "fam", ClientID: appClient,
		Subject: reserved, Username: "mallory", Scopes: []string{"read"}, IssuedAt: now, ExpiresAt: now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	wantRefused("refresh", f.refresh(appClient, rt, ""))
	code, h, _ := newSecret(PrefixCode)
	if err := f.st.CreateToken(ctx, &store.Token{Hash: h, Kind: store.KindCode, Family: "fam2", ClientID: "web",
		Subject: reserved, Username: "mallory", Scopes: []string{"read"}, IssuedAt: now, ExpiresAt: now.Add(time.Minute)}); err != nil {
		t.Fatal(err)
	}
	secret, sh, _ := NewClientSecret()
	c := &store.Client{ID: "web", AuthMethod: store.AuthSecretBasic, GrantTypes: []string{store.GrantAuthorizationCode}, RedirectURIs: []string{"https://web.example.com/cb"}}
	c.SecretHash = sh
	if err := f.st.CreateClient(ctx, c); err != nil {
		t.Fatal(err)
	}
	wantRefused("code exchange", f.post("/oauth/token", url.Values{"grant_type": {"authorization_code"}, "code": {code}}, "web", secret))

	// and no authorization code is issued to such a user
	if _, err := f.p.newCode(ctx, &authRequest{client: c}, &store.User{ID: reserved, Username: "mallory"}); err == nil {
		t.Error("an authorization code was issued to a user in the client namespace")
	}
	if got := strings.Count(logs.String(), "level=ERROR"); got < 4 || !strings.Contains(logs.String(), "reserved for clients") {
		t.Errorf("%d error logs:\n%s", got, logs)
	}

	// the user of ID "1" is unaffected
	if r := f.passwordGrant(appClient, ""); r.status != 200 {
		t.Errorf("user 1: %d %s", r.status, r.raw)
	}
}

func TestCheckSubject(t *testing.T) {
	for id, ok := range map[string]bool{
		"1": true, "svc": true, "client": true, "Client:svc": true, "xclient:svc": true,
		"": false, "client:": false, "client:svc": false, "client:1": false,
	} {
		if err := checkSubject(&store.User{ID: id}); (err == nil) != ok {
			t.Errorf("user ID %q: %v", id, err)
		}
	}
	if err := checkSubject(nil); err != nil {
		t.Errorf("client_credentials (no user): %v", err)
	}
}
