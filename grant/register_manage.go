package grant

import (
	"context"
	"crypto/subtle"
	"errors"
	"net/http"

	"github.com/oauthkit/oauthkit/internal/logsample"
	"github.com/oauthkit/oauthkit/store"
)

// manage serves the client configuration endpoint of client id (RFC 7592
// §2): GET reads, PUT replaces, DELETE removes the registration, each with
// the client's registration access token. An unknown client, one that was
// not registered dynamically, and a wrong token get the same 401.
func (rg *registrar) manage(w http.ResponseWriter, r *http.Request, id string) {
	ctx := r.Context()
	switch r.Method {
	case http.MethodGet, http.MethodPut, http.MethodDelete:
	default:
		w.Header().Set("Allow", "GET, PUT, DELETE")
		writeError(w, newError(http.StatusMethodNotAllowed, CodeInvalidRequest, "the client configuration endpoint accepts GET, PUT and DELETE"))
		return
	}
	addr := rg.p.cfg.ClientAddr(r)
	c, e := rg.authorize(ctx, r, id)
	if e != nil {
		rg.refuse(ctx, w, addr, e)
		return
	}
	switch r.Method {
	case http.MethodGet:
		rg.read(ctx, w, c)
	case http.MethodPut:
		rg.update(w, r, c)
	case http.MethodDelete:
		rg.remove(ctx, w, c)
	}
}

// authorize finds client id and checks the registration access token of
// r against its hash, in constant time (an unknown client costs the same
// comparison).
func (rg *registrar) authorize(ctx context.Context, r *http.Request, id string) (*store.Client, *Error) {
	tok, present, ok := bearerToken(r)
	if !present {
		return nil, errNoToken()
	}
	c, err := rg.reg.Client(ctx, id)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		rg.p.cfg.Logger.ErrorContext(ctx, "grant: client lookup failed", "err", err)
		return nil, errServer
	}
	var want store.Hash
	if c != nil {
		want = c.RegistrationTokenHash
	}
	match := store.HashSecret(tok).Equal(want)
	if !ok || c == nil || want.IsZero() || !match {
		return nil, errBadToken("the registration access token is not valid for this client")
	}
	return c, nil
}

// read answers with the registration and a new registration access token.
func (rg *registrar) read(ctx context.Context, w http.ResponseWriter, c *store.Client) {
	cp := *c
	tok, e := rg.rotate(ctx, &cp)
	if e != nil {
		writeError(w, e)
		return
	}
	writeJSON(w, http.StatusOK, rg.p.information(&cp, "", tok))
}

// rotate gives c a new registration access token and stores c.
func (rg *registrar) rotate(ctx context.Context, c *store.Client) (string, *Error) {
	tok, h, err := newSecret(PrefixRegistrationToken)
	if err != nil {
		return "", rg.internal(ctx, err)
	}
	c.RegistrationTokenHash = h
	if err := rg.reg.UpdateClient(ctx, c); err != nil {
		if e, ok := asRegistrationError(err); ok {
			return "", e
		}
		return "", rg.internal(ctx, err)
	}
	return tok, nil
}

// update replaces the registration with the request's metadata (RFC 7592
// §2.2): every field, omitted ones taking their defaults. client_id must
// be the client's; a client_secret, if sent, must be its current one. The
// secret stays, is generated when the client comes to use one, and goes
// when it no longer does (a public or private_key_jwt client).
func (rg *registrar) update(w http.ResponseWriter, r *http.Request, old *store.Client) {
	ctx := r.Context()
	addr := rg.p.cfg.ClientAddr(r)
	m, e := readMetadata(w, r)
	if e == nil {
		e = checkUpdateIdentity(m, old)
	}
	var c *store.Client
	if e == nil {
		c, e = rg.build(ctx, m)
	}
	if e != nil {
		rg.refuse(ctx, w, addr, e)
		return
	}
	c.ID, c.CreatedAt, c.RegistrationTokenHash = old.ID, old.CreatedAt, old.RegistrationTokenHash
	var secret string
	switch {
	case !usesSecret(c):
	case !old.SecretHash.IsZero():
		c.SecretHash = old.SecretHash
	default:
		var err error
		if secret, c.SecretHash, err = NewClientSecret(); err != nil {
			writeError(w, rg.internal(ctx, err))
			return
		}
	}
	if e := rg.decide(ctx, c, m, "", false); e != nil {
		rg.refuse(ctx, w, addr, e)
		return
	}
	tok, e := rg.rotate(ctx, c)
	if e != nil {
		rg.refuse(ctx, w, addr, e)
		return
	}
	rg.p.cfg.Logger.InfoContext(ctx, "grant: client registration updated", "client_id", c.ID, "addr", logsample.Clip(addr))
	writeJSON(w, http.StatusOK, rg.p.information(c, secret, tok))
}

// checkUpdateIdentity enforces RFC 7592 §2.2 on client_id and
// client_secret.
func checkUpdateIdentity(m *clientMetadata, old *store.Client) *Error {
	if subtle.ConstantTimeCompare([]byte(m.ClientID), []byte(old.ID)) != 1 {
		return errMetadata("client_id must be the client's own")
	}
	if m.ClientSecret != "" && (old.SecretHash.IsZero() || !store.HashSecret(m.ClientSecret).Equal(old.SecretHash)) {
		return errMetadata("client_secret, if sent, must be the client's current secret; it cannot be chosen")
	}
	return nil
}

// remove deletes the registration, then revokes the client's tokens (in
// that order, so that none can be issued in between), and answers 204.
func (rg *registrar) remove(ctx context.Context, w http.ResponseWriter, c *store.Client) {
	if err := rg.reg.DeleteClient(ctx, c.ID); err != nil {
		writeError(w, rg.internal(ctx, err))
		return
	}
	rg.p.cfg.Logger.InfoContext(ctx, "grant: client registration deleted", "client_id", c.ID)
	if err := rg.p.RevokeClient(ctx, c.ID); err != nil { // revoke.go
		writeError(w, rg.internal(ctx, err))
		return
	}
	noStore(w.Header())
	w.WriteHeader(http.StatusNoContent)
}

func (rg *registrar) internal(ctx context.Context, err error) *Error {
	rg.p.cfg.Logger.ErrorContext(ctx, "grant: client configuration request failed", "err", err)
	return errServer
}
