package grant

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/oauthkit/oauthkit/internal/throttle"
	"github.com/oauthkit/oauthkit/internal/usercode"
	"github.com/oauthkit/oauthkit/store"
)

// The device authorization grant (RFC 8628): a device that cannot show a
// browser (a TV, a CLI) asks the device authorization endpoint for a
// device code and a user code, shows the user code and the verification
// URI, and polls the token endpoint with the device code; the user opens
// the verification page (DeviceHandler) on another device, types the code,
// signs in and allows or denies. This file holds the configuration and the
// device authorization endpoint; device_token.go the polling,
// device_page.go the verification page.

// RFC 8628 §3.5's error codes of the token endpoint; access_denied and
// slow_down are CodeAccessDenied and CodeSlowDown, sent there with 400.
const (
	CodeAuthorizationPending = "authorization_pending"
	CodeExpiredToken         = "expired_token"
)

// Device configures the device authorization grant. The zero value is the
// default; it is checked when Config.GrantTypes lists
// store.GrantDeviceCode.
//
// The user code's 8 letters of 20 (34.6 bits, internal/usercode) suffice
// because guessing is throttled: wrong codes count against the address
// (Throttle.PerAccount: 5 at once, then one a minute; Throttle.PerAddress
// too), and against all addresses together (WrongCodes). See SECURITY.md,
// "Devices", for the arithmetic.
type Device struct {
	// Store keeps the device authorizations. Default: Config.Tokens,
	// which must then implement store.DeviceStore (every oauthkit backend
	// does).
	Store store.DeviceStore
	// CodeTTL is how long a device code and its user code live
	// (expires_in), at most 30 minutes. Default 10 minutes.
	CodeTTL time.Duration
	// Interval is the polling interval the device is given (interval):
	// whole seconds, at least one. A poll sooner than its interval is
	// answered slow_down and raises that device's interval by 5 seconds,
	// for that and every later poll. Default 5 seconds.
	Interval time.Duration
	// WrongCodes limits the wrong user codes entered on the verification
	// page from all addresses together; while it is spent, every entry is
	// refused with 429, right codes too. Shared by the instances when
	// Throttle.Counter is a shared store's. Default 100 at once, then one
	// per 5 seconds (at most 17,380 a day).
	WrongCodes store.Limit
	// Requests limits device authorization requests per address (an IPv6
	// /64 counted as one), since a public client's need no secret.
	// Default 30 at once, then one per 10 seconds.
	Requests store.Limit
}

// The defaults and bounds of Device.
const (
	defaultDeviceTTL      = 10 * time.Minute
	maxDeviceTTL          = 30 * time.Minute
	defaultDeviceInterval = 5 * time.Second
)

var (
	defaultWrongCodes     = store.Limit{Burst: 100, Every: 5 * time.Second}
	defaultDeviceRequests = store.Limit{Burst: 30, Every: 10 * time.Second}
)

// needsDevice checks Config.Device and fills in its defaults: the device
// grant's entry in the table of grants (grants.go).
func needsDevice(c *Config) error {
	d := &c.Device
	if d.Store == nil {
		s, ok := c.Tokens.(store.DeviceStore)
		if !ok {
			return errors.New("grant: the device code grant needs Config.Device.Store, or a Config.Tokens that implements store.DeviceStore")
		}
		d.Store = s
	}
	if d.CodeTTL == 0 {
		d.CodeTTL = defaultDeviceTTL
	}
	if d.Interval == 0 {
		d.Interval = defaultDeviceInterval
	}
	if d.WrongCodes == (store.Limit{}) {
		d.WrongCodes = defaultWrongCodes
	}
	if d.Requests == (store.Limit{}) {
		d.Requests = defaultDeviceRequests
	}
	switch {
	case d.CodeTTL < 0 || d.CodeTTL > maxDeviceTTL:
		return errors.New("grant: Config.Device.CodeTTL must be positive and at most 30 minutes")
	case d.Interval < time.Second || d.Interval%time.Second != 0:
		return errors.New("grant: Config.Device.Interval must be a whole number of seconds, at least one")
	}
	for _, l := range []store.Limit{d.WrongCodes, d.Requests} {
		if l.Burst < 1 || l.Every <= 0 {
			return fmt.Errorf("grant: Config.Device limits need Burst ≥ 1 and a positive Every, not %+v", l)
		}
	}
	return nil
}

// DeviceAuthorizationHandler returns the device authorization endpoint
// (RFC 8628 §3.1): a POST of client_id (or the client's credentials, as at
// the token endpoint) and scope, answered with device_code, user_code,
// verification_uri (the issuer followed by Endpoints.Device, where
// DeviceHandler is mounted), verification_uri_complete (the same with
// ?user_code=), expires_in and interval. The scope defaults to the client's
// registered scopes; the client must be registered for the device grant.
// Requests are limited per address (Config.Device.Requests). Errors are
// RFC 6749 §5.2's, as at the token endpoint. Routes mounts it when the
// device grant is in Config.GrantTypes.
func (p *Provider) DeviceAuthorizationHandler() http.Handler {
	return p.bounded(http.HandlerFunc(p.serveDeviceAuthorization))
}

// deviceAuthorization is RFC 8628 §3.2's response.
type deviceAuthorization struct {
	DeviceCode              string `json:"device_code"`
	UserCode                string `json:"user_code"`
	VerificationURI         string `json:"verification_uri"`
	VerificationURIComplete string `json:"verification_uri_complete"`
	ExpiresIn               int64  `json:"expires_in"`
	Interval                int64  `json:"interval"`
}

func (p *Provider) serveDeviceAuthorization(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	addr := p.cfg.ClientAddr(r)
	ev := Event{Addr: addr, GrantType: store.GrantDeviceCode}
	if !p.serves(store.GrantDeviceCode) {
		p.refuse(ctx, w, ev, newError(http.StatusBadRequest, CodeUnsupportedGrantType, "the device authorization grant is not enabled"))
		return
	}
	if e := p.deviceRequestAllowed(ctx, addr); e != nil {
		p.refuse(ctx, w, ev, e)
		return
	}
	form, c, ok := p.clientForm(w, r, &ev, false)
	if !ok {
		return
	}
	if !c.AllowsGrant(store.GrantDeviceCode) {
		p.refuse(ctx, w, ev, newError(http.StatusBadRequest, CodeUnauthorizedClient, "the client is not registered for the device authorization grant"))
		return
	}
	scopes, e := resolveScopes(form.Get("scope"), c.Scopes)
	if e != nil {
		p.refuse(ctx, w, ev, e)
		return
	}
	resp, err := p.newDeviceGrant(ctx, c, scopes)
	if err != nil {
		p.refuse(ctx, w, ev, p.failure(ctx, "grant: device authorization failed", err, "client_id", c.ID))
		return
	}
	writeJSON(w, http.StatusOK, resp)
}

// deviceRequestAllowed takes one device authorization request from addr's
// allowance, or says why not.
func (p *Provider) deviceRequestAllowed(ctx context.Context, addr string) *Error {
	key := throttle.Key("device authorization", throttle.AddrGroup(addr))
	wait, err := throttle.Take(ctx, p.cfg.Throttle.Counter, key, p.cfg.Device.Requests, p.cfg.Now())
	if e := p.waitError(ctx, wait, err); e != nil {
		if e.Code == CodeSlowDown {
			e = errSlowDown(wait)
			e.Description = "too many device authorization requests; retry later"
		}
		return e
	}
	return nil
}

// newDeviceGrant makes and stores a device authorization for client c: a
// device code of 256 random bits and a user code of usercode.Length
// letters, kept as hashes, in a new token family.
func (p *Provider) newDeviceGrant(ctx context.Context, c *store.Client, scopes []string) (*deviceAuthorization, error) {
	now := p.cfg.Now()
	g := store.DeviceGrant{
		ClientID: c.ID, Scopes: scopes, Family: uuid.NewString(), Status: store.DevicePending,
		IssuedAt: now, ExpiresAt: now.Add(p.cfg.Device.CodeTTL), Interval: p.cfg.Device.Interval,
	}
	dc, h, err := newDeviceCode(g.ExpiresAt)
	if err != nil {
		return nil, err
	}
	g.DeviceCodeHash = h
	// A user code may collide with a live one (one chance in 2.56·10^10
	// per live code): draw again, a few times.
	for range 3 {
		uc, err := usercode.New()
		if err != nil {
			return nil, err
		}
		g.UserCodeHash = p.userCodeHash(uc)
		err = p.cfg.Device.Store.CreateDeviceGrant(ctx, &g)
		if errors.Is(err, store.ErrExists) {
			continue
		}
		if err != nil {
			return nil, err
		}
		uri := strings.TrimSuffix(p.cfg.Issuer, "/") + p.cfg.Endpoints.Device
		shown := usercode.Format(uc)
		return &deviceAuthorization{
			DeviceCode: dc, UserCode: shown, VerificationURI: uri, VerificationURIComplete: uri + "?user_code=" + shown,
			ExpiresIn: int64(p.cfg.Device.CodeTTL / time.Second), Interval: int64(p.cfg.Device.Interval / time.Second),
		}, nil
	}
	return nil, errors.New("grant: no free user code after 3 draws")
}

// userCodeHash is what stores keep of a normalised user code: an HMAC
// under a subkey of Config.Secret, since a plain hash of 34.6 bits is
// reversed in seconds. Instances sharing the secret agree on it.
func (p *Provider) userCodeHash(code string) store.Hash {
	return store.Hash(p.mac(purposeUserCode, []byte(code)))
}

// deviceCodeBytes is a device code's content: 256 random bits, then its
// expiry in Unix seconds (8 bytes), so that a poll after the store has
// forgotten the code is still told expired_token, not invalid_grant. The
// expiry is not secret and needs no protection: a forged one only changes
// which of the two errors comes back.
const deviceCodeBytes = secretBytes + 8

// newDeviceCode returns a device code expiring at exp and its SHA-256.
func newDeviceCode(exp time.Time) (string, store.Hash, error) {
	var b [deviceCodeBytes]byte
	if _, err := rand.Read(b[:secretBytes]); err != nil {
		return "", store.Hash{}, err
	}
	binary.BigEndian.PutUint64(b[secretBytes:], uint64(exp.Unix()))
	s := PrefixDeviceCode + base64.RawURLEncoding.EncodeToString(b[:])
	return s, store.HashSecret(s), nil
}

// deviceCodeExpiry reads the expiry of a device code; false when raw is not
// one this package makes.
func deviceCodeExpiry(raw string) (time.Time, bool) {
	body, ok := strings.CutPrefix(raw, PrefixDeviceCode)
	if !ok || len(body) != base64.RawURLEncoding.EncodedLen(deviceCodeBytes) {
		return time.Time{}, false
	}
	b, err := base64.RawURLEncoding.Strict().DecodeString(body)
	if err != nil || len(b) != deviceCodeBytes {
		return time.Time{}, false
	}
	return time.Unix(int64(binary.BigEndian.Uint64(b[secretBytes:])), 0), true
}
