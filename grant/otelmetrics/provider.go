package otelmetrics

import (
	"context"

	"go.opentelemetry.io/otel/attribute"

	"github.com/oauthkit/oauthkit/grant"
	"github.com/oauthkit/oauthkit/store"
)

// OnEvent records a Provider event: set it as grant.Config.OnEvent (or
// call it from yours). Issued tokens count by grant type, refusals by
// grant type (or endpoint) and error code, revocations by reason.
func (m *Metrics) OnEvent(ctx context.Context, e grant.Event) {
	k := eventKey{kind: e.Kind, client: m.client(e.ClientID)}
	switch e.Kind {
	case grant.EventIssued:
		k.grantType = grantType(e.GrantType)
		m.issued.Add(ctx, 1, m.event(k).add...)
	case grant.EventRefused:
		k.grantType, k.code = grantType(e.GrantType), label(e.Error)
		m.refused.Add(ctx, 1, m.event(k).add...)
	case grant.EventRevoked:
		k.reason = reason(e.Reason)
		m.revoked.Add(ctx, 1, m.event(k).add...)
	}
}

// eventKey is the label set of an event, every field already bounded.
type eventKey struct {
	kind                            grant.EventKind
	grantType, code, reason, client string
}

func (m *Metrics) event(k eventKey) measure {
	return cached(&m.events, k, func() []attribute.KeyValue {
		var a []attribute.KeyValue
		switch k.kind {
		case grant.EventIssued:
			a = append(a, attribute.String("grant_type", k.grantType))
		case grant.EventRefused:
			a = append(a, attribute.String("grant_type", k.grantType), attribute.String("error", k.code))
		case grant.EventRevoked:
			a = append(a, attribute.String("reason", k.reason))
		}
		if m.clients != nil {
			a = append(a, attribute.String("client_id", k.client))
		}
		return a
	})
}

// client is the client_id label of id: id when Options.Clients lists it,
// "other" otherwise, "" when there is no such label.
func (m *Metrics) client(id string) string {
	switch {
	case m.clients == nil:
		return ""
	case m.clients[id]:
		return id
	}
	return other
}

// grantType bounds Event.GrantType, which a refused request may have
// taken from its grant_type parameter.
func grantType(gt string) string {
	switch gt {
	case store.GrantAuthorizationCode, store.GrantClientCredentials, store.GrantRefreshToken,
		store.GrantPassword, store.GrantDeviceCode,
		"login", "introspection", "revocation", "":
		return gt
	}
	return other
}

// reason names a revocation's reason in short.
func reason(r string) string {
	switch r {
	case grant.ReasonRefreshRevoked, grant.ReasonAccessRevoked:
		return "revoked_by_client"
	case grant.ReasonClientDeleted:
		return "client_deleted"
	case grant.ReasonCodeReplayed, grant.ReasonDeviceCodeReplayed:
		return "code_replayed"
	case grant.ReasonRefreshReused, grant.ReasonRotationReused, grant.ReasonRotationMissing:
		return "refresh_reused"
	case grant.ReasonRefreshOtherClient, grant.ReasonRotatedOtherClient:
		return "wrong_client"
	}
	return other
}
