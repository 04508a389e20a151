// Package otelmetrics turns oauthkit's hooks into OpenTelemetry metrics:
// the Provider's events (grant.Config.OnEvent), the Guard's outcomes
// (middleware.Options.OnValidated and OnFailure), the store's calls (each
// backend's WithObserver option, a store.Observer) and validation cache
// lookups. It is the only package of oauthkit that imports OpenTelemetry;
// the core packages know only their hooks, which cost a nil check when
// unset.
//
// Wiring, with any metric.MeterProvider (the SDK's, with a Prometheus or
// OTLP exporter):
//
//	m, err := otelmetrics.New(meterProvider, otelmetrics.Options{})
//	st := memory.New(memory.WithObserver(m.StoreCall)) // or sqlite, postgres, redis
//	p, err := grant.NewProvider(grant.Config{..., Clients: st, Tokens: st, OnEvent: m.OnEvent})
//	g, err := middleware.New(p, middleware.Options{OnValidated: m.OnValidated, OnFailure: m.OnFailure})
//
// The instruments (Prometheus names in brackets, as the OpenTelemetry
// Prometheus exporter writes them):
//
//	oauthkit.provider.issued           counter    [oauthkit_provider_issued_total]             grant_type
//	oauthkit.provider.refused          counter    [oauthkit_provider_refused_total]            grant_type, error
//	oauthkit.provider.revoked          counter    [oauthkit_provider_revoked_total]            reason
//	oauthkit.guard.validation.duration histogram  [oauthkit_guard_validation_duration_seconds] result
//	oauthkit.guard.refused             counter    [oauthkit_guard_refused_total]               status, error
//	oauthkit.store.call.duration       histogram  [oauthkit_store_call_duration_seconds]       op, result
//	oauthkit.cache.lookups             counter    [oauthkit_cache_lookups_total]               result
//
// A histogram's count (_count in Prometheus) is the number of what it
// times: validations by result, store calls (and so their errors) by
// method and result. Durations are in seconds.
//
// Every attribute takes a bounded set of values, whatever clients send:
// grant_type is a grant type the toolkit knows, an endpoint's name
// ("login", "introspection", "revocation") or "other"; error an OAuth error
// code chosen by the server; reason one of the short names below; result
// "ok", "invalid", "error" for validations, and for store calls "ok",
// "not_found", "consumed", "exists", "revoked", "invalid_credentials",
// "invalid_client", "slow_down" (the store's sentinel errors), "canceled",
// "timeout" (context errors) or "error"; op a store method's name. No attribute
// names a client unless the host lists it in [Options.Clients], nor a user,
// an address or a token: metrics carry no secrets.
//
// The reasons of revocations: revoked_by_client (RFC 7009), client_deleted
// (Provider.RevokeClient), code_replayed (an authorization or device code
// used twice), refresh_reused (a rotated refresh token presented again),
// wrong_client (a refresh token presented by another client), other.
// code_replayed, refresh_reused and wrong_client are signs of a stolen
// credential, worth an alert.
package otelmetrics
