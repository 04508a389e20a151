package grant

import (
	"encoding/json"
	"errors"
	"mime"
	"net/http"

	"github.com/oauthkit/oauthkit/store"
)

// maxLoginBytes bounds a login request body.
const maxLoginBytes = 4 << 10

// LoginHandler returns the tutorial's POST /login: a JSON body
// {"username": "…", "password": "…"} answered with a standard token
// response issued to the first-party client named by Config.LoginClientID
// (a password grant on the user's behalf, with that client's scopes). Bad
// credentials get 401 {"error": "invalid_grant", …}; repeated failures get
// 429 with Retry-After. Without LoginClientID it answers 404.
func (p *Provider) LoginHandler() http.Handler {
	return p.bounded(http.HandlerFunc(p.serveLogin))
}

func (p *Provider) serveLogin(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	addr := p.cfg.ClientAddr(r)
	ev := Event{GrantType: "login", ClientID: p.cfg.LoginClientID, Addr: addr}
	if p.cfg.LoginClientID == "" {
		http.NotFound(w, r)
		return
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		p.refuse(ctx, w, ev, newError(http.StatusMethodNotAllowed, CodeInvalidRequest, "this endpoint accepts POST only"))
		return
	}
	// JSON only, labelled so: a form, text/plain or unlabelled body is what
	// any web page can make a visitor's browser send without a CORS
	// preflight, which would let it guess passwords through its visitors.
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/json" {
		p.refuse(ctx, w, ev, newError(http.StatusUnsupportedMediaType, CodeInvalidRequest, `the body must be JSON, sent with "Content-Type: application/json"`))
		return
	}
	var creds struct {
		Username string `json:"username"`
		Password string `json:"password"`
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxLoginBytes))
	if err := dec.Decode(&creds); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			p.refuse(ctx, w, ev, newError(http.StatusRequestEntityTooLarge, CodeInvalidRequest, "the request body is too large"))
			return
		}
		p.refuse(ctx, w, ev, errRequest(`the body must be a JSON object {"username": "…", "password": "…"}`))
		return
	}
	if creds.Username == "" || creds.Password == "" {
		p.refuse(ctx, w, ev, errRequest("username and password are required"))
		return
	}
	if !validUsername(creds.Username) {
		p.refuse(ctx, w, ev, errRequest("the username is malformed"))
		return
	}
	c, err := p.clients.Client(ctx, p.cfg.LoginClientID)
	if err != nil {
		p.refuse(ctx, w, ev, p.failure(ctx, "grant: the login client cannot be loaded", err, "client_id", p.cfg.LoginClientID))
		return
	}
	// A DPoP proof (htu: the login URL) binds the tokens as at the token
	// endpoint; it is checked before the password, which costs more.
	jkt, e := p.tokenProof(w, r, c, p.loginURL)
	if e != nil {
		p.refuse(ctx, w, ev, e)
		return
	}
	u, e := p.checkPassword(ctx, addr, creds.Username, creds.Password)
	if e != nil {
		if e.Code == CodeInvalidGrant {
			e = newError(http.StatusUnauthorized, CodeInvalidGrant, e.Description)
		}
		p.refuse(ctx, w, ev, e)
		return
	}
	out, err := p.issue(withState(ctx, &reqState{client: c, addr: addr, jkt: jkt}), "password", c, u, store.Token{Scopes: c.Scopes}, p.refreshAllowed(c))
	if err != nil {
		p.refuse(ctx, w, ev, p.failure(ctx, "grant: issuing login tokens failed", err))
		return
	}
	p.writeToken(ctx, w, out, addr)
}
