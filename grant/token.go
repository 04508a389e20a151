package grant

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
)

// TokenHandler returns the token endpoint (RFC 6749 §3.2): the Go form of
// Flask-OAuthlib's @token_handler. It serves the grants in Config.GrantTypes
// that the calling client is registered for. Every response, errors
// included, is JSON with Cache-Control: no-store.
//
// Browser-based clients may call it cross-origin from the origins of their
// registered redirect URIs (see cors.go).
func (p *Provider) TokenHandler() http.Handler {
	return p.cors(p.bounded(http.HandlerFunc(p.serveToken)))
}

func (p *Provider) serveToken(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	addr := p.cfg.ClientAddr(r)
	ev := Event{Addr: addr}
	form, c, ok := p.clientForm(w, r, &ev, false)
	if !ok {
		return
	}
	p.allowOrigin(w, r, c)
	gt := ev.GrantType
	g, known := grantTypes[gt]
	switch {
	case gt == "":
		p.refuse(ctx, w, ev, errRequest("grant_type is required"))
		return
	case !known || !p.serves(gt):
		p.refuse(ctx, w, ev, newError(http.StatusBadRequest, CodeUnsupportedGrantType, "the grant type is not supported"))
		return
	case !c.AllowsGrant(gt):
		p.refuse(ctx, w, ev, newError(http.StatusBadRequest, CodeUnauthorizedClient, "the client is not registered for this grant type"))
		return
	}
	jkt, e := p.tokenProof(w, r, c, p.tokenURL)
	if e != nil {
		p.refuse(ctx, w, ev, e)
		return
	}
	if g.prepare != nil {
		g.prepare(form)
	}
	res, e := p.requestedResources(ctx, c, form["resource"]) // resource.go
	if e != nil {
		p.refuse(ctx, w, ev, e)
		return
	}
	st := &reqState{client: c, addr: addr, jkt: jkt, resources: res}
	out, err := g.serve(p, r.WithContext(withState(ctx, st)), st)
	if err != nil {
		e, known := asError(err)
		if !known {
			p.cfg.Logger.ErrorContext(ctx, "grant: token request failed", "grant_type", gt, "client_id", c.ID, "err", err)
		}
		p.refuse(ctx, w, ev, e)
		return
	}
	p.writeToken(ctx, w, out, addr)
}

// tokenResponse is RFC 6749 §5.1's successful response.
type tokenResponse struct {
	AccessToken  string `json:"access_token"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int64  `json:"expires_in"`
	RefreshToken string `json:"refresh_token,omitempty"`
	Scope        string `json:"scope,omitempty"`
	IDToken      string `json:"id_token,omitempty"`
}

func (p *Provider) writeToken(ctx context.Context, w http.ResponseWriter, out *issued, addr string) {
	resp := tokenResponse{
		AccessToken:  out.access,
		TokenType:    out.tokenType(),
		ExpiresIn:    int64(out.expiresIn.Seconds()),
		RefreshToken: out.refresh,
		Scope:        joinScopes(out.scopes),
		IDToken:      out.idToken,
	}
	ev := Event{Kind: EventIssued, GrantType: out.grantType, ClientID: out.client.ID, Scopes: out.scopes, Family: out.family, Addr: addr}
	if out.subject != nil {
		ev.Subject = out.subject.ID
	}
	p.logIssued(ctx, ev)
	p.emit(ctx, ev)
	if p.cfg.ExtraTokenFields == nil {
		writeRawJSON(w, http.StatusOK, resp.appendJSON(make([]byte, 0, 256)))
		return
	}
	extra := p.cfg.ExtraTokenFields(ctx, IssuedToken{
		GrantType: out.grantType, ClientID: ev.ClientID, Subject: ev.Subject,
		Scopes: out.scopes, Family: out.family, ExpiresIn: out.expiresIn,
	})
	m := map[string]any{"access_token": resp.AccessToken, "token_type": resp.TokenType, "expires_in": resp.ExpiresIn}
	if resp.RefreshToken != "" {
		m["refresh_token"] = resp.RefreshToken
	}
	if resp.Scope != "" {
		m["scope"] = resp.Scope
	}
	if resp.IDToken != "" {
		m["id_token"] = resp.IDToken
	}
	for k, v := range extra {
		if _, std := m[k]; !std {
			m[k] = v
		}
	}
	writeJSON(w, http.StatusOK, m)
}

// appendJSON encodes the response without reflection: it is written on
// every issuance. Values outside printable ASCII (possible only in
// registered scope names) fall back to encoding/json.
func (t tokenResponse) appendJSON(b []byte) []byte {
	if !printableASCII(t.Scope) {
		j, _ := json.Marshal(t)
		return append(b, j...)
	}
	b = append(b, `{"access_token":`...)
	b = appendJSONString(b, t.AccessToken)
	b = append(b, `,"token_type":`...)
	b = appendJSONString(b, t.TokenType)
	b = append(b, `,"expires_in":`...)
	b = strconv.AppendInt(b, t.ExpiresIn, 10)
	if t.RefreshToken != "" {
		b = append(b, `,"refresh_token":`...)
		b = appendJSONString(b, t.RefreshToken)
	}
	if t.Scope != "" {
		b = append(b, `,"scope":`...)
		b = appendJSONString(b, t.Scope)
	}
	if t.IDToken != "" {
		b = append(b, `,"id_token":`...)
		b = appendJSONString(b, t.IDToken)
	}
	return append(b, "}\n"...)
}

func printableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

// appendJSONString quotes printable ASCII s as a JSON string.
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == '"' || c == '\\' {
			b = append(b, '\\', c)
		} else {
			b = append(b, c)
		}
	}
	return append(b, '"')
}

// refuse answers with e and reports it.
func (p *Provider) refuse(ctx context.Context, w http.ResponseWriter, ev Event, e *Error) {
	ev.Kind, ev.Error, ev.Reason = EventRefused, e.Code, e.Description
	p.logRefusal(ctx, "grant: request refused", e, "grant_type", ev.GrantType, "client_id", ev.ClientID, "addr", ev.Addr)
	p.emit(ctx, ev)
	writeError(w, e)
}
