package grant

import (
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/oauthkit/oauthkit/store"
)

// deviceCodeGrant is the token endpoint's device code grant (RFC 8628 §3.4,
// §3.5), native: the grant table's serve function for
// store.GrantDeviceCode. The client was authenticated before (as at every
// grant), and is registered for the grant. One atomic poll of the store
// (store.DeviceGrant.Poll) records the poll time and either answers
// authorization_pending, slow_down (the interval raised by 5 s) or
// access_denied, or redeems the approved grant, once: its tokens are
// issued in the grant's family, and a later redemption is refused with
// invalid_grant and revokes them. Every refusal has status 400.
func (p *Provider) deviceCodeGrant(r *http.Request, st *reqState) (*issued, error) {
	ctx := r.Context()
	raw := r.PostForm.Get("device_code")
	if raw == "" {
		return nil, errRequest("device_code is required")
	}
	if len(st.resources) > 0 { // the grant was authorized for no resource (resource.go)
		return nil, errTarget("the device code grant takes no resource parameter")
	}
	exp, ok := deviceCodeExpiry(raw)
	if !ok {
		return nil, errGrant("the device code is invalid")
	}
	now := p.cfg.Now()
	g, err := p.cfg.Device.Store.PollDeviceGrant(ctx, store.HashSecret(raw), st.client.ID, now)
	switch {
	case errors.Is(err, store.ErrNotFound) && !now.Before(exp):
		return nil, newError(http.StatusBadRequest, CodeExpiredToken, "the device code has expired")
	case errors.Is(err, store.ErrNotFound):
		return nil, errGrant("the device code is invalid, or was issued to another client")
	case errors.Is(err, store.ErrSlowDown):
		return nil, newError(http.StatusBadRequest, CodeSlowDown, "polled sooner than the interval, which is now "+strconv.FormatInt(int64(g.Interval/time.Second), 10)+" s")
	case errors.Is(err, store.ErrConsumed):
		if e := p.revokeFamily(ctx, store.Token{Family: g.Family, ClientID: g.ClientID, Subject: g.Subject}, ReasonDeviceCodeReplayed); e != nil {
			return nil, e
		}
		return nil, errGrant("the device code was already used")
	case err != nil:
		return nil, err
	}
	switch g.Status {
	case store.DevicePending:
		return nil, newError(http.StatusBadRequest, CodeAuthorizationPending, "the user has not answered yet")
	case store.DeviceDenied:
		return nil, newError(http.StatusBadRequest, CodeAccessDenied, "the user denied the request")
	case store.DeviceApproved:
	default:
		return nil, errors.New("grant: device grant in an unknown state")
	}
	u := &store.User{ID: g.Subject, Username: g.Username}
	out, err := p.issue(ctx, store.GrantDeviceCode, st.client, u,
		store.Token{Family: g.Family, Scopes: g.Scopes, AuthTime: g.AuthTime}, p.refreshAllowed(st.client))
	if errors.Is(err, store.ErrRevoked) { // a racing replay revoked the family
		return nil, errGrant("the device code was already used")
	}
	return out, err
}
