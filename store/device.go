package store

import (
	"context"
	"errors"
	"time"
)

// DeviceStatus is where a device authorization stands.
type DeviceStatus uint8

// The states of a device authorization. A grant starts pending; the user's
// answer makes it approved or denied; the first poll that finds it approved
// redeems it (its tokens are issued then), and it stays redeemed until it
// expires, so that a second redemption can be told apart from a wrong code.
const (
	DevicePending  DeviceStatus = 1 // waiting for the user
	DeviceApproved DeviceStatus = 2 // the user allowed it; no tokens issued yet
	DeviceDenied   DeviceStatus = 3 // the user refused it
	DeviceRedeemed DeviceStatus = 4 // its tokens were issued
)

// DeviceSlowDown is how much a poll sooner than a grant's interval raises
// that interval, for this and every later poll (RFC 8628 §3.5 slow_down).
const DeviceSlowDown = 5 * time.Second

// ErrSlowDown means a device polled sooner than its interval allows; the
// grant returned with it carries the raised interval.
var ErrSlowDown = errors.New("store: polled sooner than the interval")

// DeviceGrant is one device authorization (RFC 8628 §3.1–§3.5): a device
// (the client) asked for it, the user approves or denies it on another
// device by typing the user code, and the device polls with the device
// code until then. Neither code is stored: the device code only as its
// SHA-256, the user code only as a keyed hash the Provider computes (its
// few bits would make a plain hash reversible).
type DeviceGrant struct {
	DeviceCodeHash Hash          // SHA-256 of the device_code
	UserCodeHash   Hash          // the Provider's keyed hash of the normalised user_code
	ClientID       string        // the client that asked, the only one that may poll
	Scopes         []string      // asked for; once approved, granted. Shared, treat as read-only
	Family         string        // the token family its tokens are issued in, so that a replay can revoke them
	IssuedAt       time.Time     // when the device asked
	ExpiresAt      time.Time     // when both codes stop being valid
	Interval       time.Duration // the least time between two polls; DeviceSlowDown more after each early poll
	LastPolledAt   time.Time     // the latest poll; zero before the first
	Status         DeviceStatus

	// The user's answer, set when the grant is approved or denied.
	Subject  string    // the user's ID
	Username string    // the user's login name
	AuthTime time.Time // when the user authenticated; zero when unknown
}

// DeviceDecision is the user's answer to a device authorization.
type DeviceDecision struct {
	Approved bool      // allowed (DeviceApproved) or refused (DeviceDenied)
	Subject  string    // the user's ID
	Username string    // the user's login name
	AuthTime time.Time // when the user authenticated; zero when unknown
	Scopes   []string  // the scopes granted; nil keeps those asked for
}

// Poll applies one poll at now to a live grant, as
// [DeviceStore.PollDeviceGrant] must: it updates g to what the store keeps
// and returns what the caller is told. A pending grant polled sooner than
// its Interval after the previous poll gets its Interval raised by
// DeviceSlowDown and ErrSlowDown; an approved grant becomes redeemed and is
// returned as approved (the caller issues its tokens); a redeemed grant is
// returned with ErrConsumed. Every poll records LastPolledAt.
func (g *DeviceGrant) Poll(now time.Time) (DeviceGrant, error) {
	early := !g.LastPolledAt.IsZero() && now.Before(g.LastPolledAt.Add(g.Interval))
	g.LastPolledAt = now
	switch g.Status {
	case DevicePending:
		if early {
			g.Interval += DeviceSlowDown
			return *g, ErrSlowDown
		}
	case DeviceApproved:
		out := *g
		g.Status = DeviceRedeemed
		return out, nil
	case DeviceRedeemed:
		return *g, ErrConsumed
	}
	return *g, nil
}

// Decide applies the user's answer to a live grant, as
// [DeviceStore.DecideDeviceGrant] must: only a pending grant takes one; any
// other gives ErrConsumed and stays as it is.
func (g *DeviceGrant) Decide(d DeviceDecision) error {
	if g.Status != DevicePending {
		return ErrConsumed
	}
	g.Status = DeviceDenied
	if d.Approved {
		g.Status = DeviceApproved
	}
	g.Subject, g.Username, g.AuthTime = d.Subject, d.Username, d.AuthTime
	if d.Scopes != nil {
		g.Scopes = d.Scopes
	}
	return nil
}

// DeviceStore is an optional capability of a store: device authorization
// grants (RFC 8628). The Provider looks for it with a type assertion on its
// token store when it serves the device code grant; the memory, SQLite,
// PostgreSQL and Redis backends implement it, and store/storetest checks
// it.
//
// A grant whose ExpiresAt is not after the caller's now is absent: every
// method should treat it as unknown (ErrNotFound), and the store may delete
// it. Every method takes the caller's clock reading, so that all instances
// and tests agree on time. Times and the interval should round-trip to the
// millisecond (AuthTime to the second), a zero LastPolledAt or AuthTime
// should stay zero, and empty Scopes may come back nil; every other field
// should round-trip exactly. Every method should be safe for concurrent use
// and honour ctx, as [TokenStore]'s do.
type DeviceStore interface {
	// CreateDeviceGrant stores g, pending. It should return ErrExists if a
	// live grant (live at g.IssuedAt) has the same DeviceCodeHash or the
	// same UserCodeHash, and store nothing then.
	CreateDeviceGrant(ctx context.Context, g *DeviceGrant) error

	// DeviceGrantByUserCode returns the live grant whose UserCodeHash is
	// h, whatever its status, or ErrNotFound.
	DeviceGrantByUserCode(ctx context.Context, h Hash, now time.Time) (DeviceGrant, error)

	// DecideDeviceGrant records the user's answer on the live grant whose
	// UserCodeHash is h, atomically, as [DeviceGrant.Decide] does: however
	// many callers race, exactly one answer is kept; the others, and any
	// answer to a grant no longer pending, get ErrConsumed. An unknown or
	// expired grant gives ErrNotFound.
	DecideDeviceGrant(ctx context.Context, h Hash, d DeviceDecision, now time.Time) error

	// PollDeviceGrant records a poll of the live grant whose
	// DeviceCodeHash is h by clientID, atomically, as [DeviceGrant.Poll]
	// does, and returns what Poll returns: however many polls race on an
	// approved grant, exactly one sees it approved; the others get it
	// redeemed, with ErrConsumed. An unknown or expired grant, or one asked
	// for by another client, gives ErrNotFound and changes nothing.
	PollDeviceGrant(ctx context.Context, h Hash, clientID string, now time.Time) (DeviceGrant, error)
}
