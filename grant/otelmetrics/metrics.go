package otelmetrics

import (
	"errors"
	"sync"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
)

// ScopeName is the instrumentation scope of the instruments.
const ScopeName = "github.com/oauthkit/oauthkit/grant/otelmetrics"

// The instruments' names.
const (
	NameIssued             = "oauthkit.provider.issued"
	NameRefused            = "oauthkit.provider.refused"
	NameRevoked            = "oauthkit.provider.revoked"
	NameValidationDuration = "oauthkit.guard.validation.duration"
	NameGuardRefused       = "oauthkit.guard.refused"
	NameStoreDuration      = "oauthkit.store.call.duration"
	NameCacheLookups       = "oauthkit.cache.lookups"
)

// buckets are the histograms' bucket boundaries, in seconds: from a
// microsecond (a token validated in memory) to 2.5 s (a store past its
// deadline). A host may choose others with an SDK View.
var buckets = []float64{
	0.000001, 0.0000025, 0.000005, 0.00001, 0.000025, 0.00005,
	0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005,
	0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5,
}

// Options configures [New]. The zero value is the default.
type Options struct {
	// Clients lists the client IDs that the Provider's counters label
	// with a client_id attribute; every other client is counted as
	// client_id "other". Default none: no client_id attribute at all, so
	// that the number of series does not grow with the number of clients
	// (nor with the client IDs that refused requests claim).
	Clients []string
}

// Metrics records oauthkit's events into OpenTelemetry instruments. Its
// methods are the hooks of the Provider, the Guard, the stores and the
// validation cache; they are safe for concurrent use. Make one with [New].
type Metrics struct {
	issued, refused, revoked   metric.Int64Counter
	guardRefused, cacheLookups metric.Int64Counter
	validationTime, storeTime  metric.Float64Histogram

	clients map[string]bool // Options.Clients; nil: no client_id attribute

	// The attribute options of each label set, made once: the label sets
	// are bounded, and a measurement then allocates nothing for them.
	validated             [3]measure // by validation result
	cacheHit, cacheMiss   measure
	events, refusals, ops sync.Map // of measure, by label key
}

// New returns Metrics whose instruments come from mp's meter named
// [ScopeName].
func New(mp metric.MeterProvider, o Options) (*Metrics, error) {
	if mp == nil {
		return nil, errors.New("otelmetrics: nil MeterProvider")
	}
	meter := mp.Meter(ScopeName)
	m := &Metrics{}
	var errs []error
	counter := func(name, desc string) metric.Int64Counter {
		c, err := meter.Int64Counter(name, metric.WithDescription(desc))
		errs = append(errs, err)
		return c
	}
	histogram := func(name, desc string) metric.Float64Histogram {
		h, err := meter.Float64Histogram(name, metric.WithDescription(desc), metric.WithUnit("s"), metric.WithExplicitBucketBoundaries(buckets...))
		errs = append(errs, err)
		return h
	}
	m.issued = counter(NameIssued, "Token responses sent by the authorization server, by grant type.")
	m.refused = counter(NameRefused, "Requests refused by the authorization server's token, login, device, revocation and introspection endpoints, by grant type or endpoint and OAuth error code.")
	m.revoked = counter(NameRevoked, "Revocations (a token, a grant or a client's tokens), by reason.")
	m.validationTime = histogram(NameValidationDuration, "Access tokens checked by the Guard's Validator and the time it took, by result: ok, invalid, error.")
	m.guardRefused = counter(NameGuardRefused, "Requests refused by the Guard, by HTTP status and RFC 6750 error code.")
	m.storeTime = histogram(NameStoreDuration, "Time of store calls, by method and result.")
	m.cacheLookups = counter(NameCacheLookups, "Validation cache lookups, by result: hit, miss.")
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if len(o.Clients) > 0 {
		m.clients = make(map[string]bool, len(o.Clients))
		for _, id := range o.Clients {
			m.clients[id] = true
		}
	}
	for i, r := range []string{resultOK, resultInvalid, resultError} {
		m.validated[i] = newMeasure(attribute.String("result", r))
	}
	m.cacheHit = newMeasure(attribute.String("result", "hit"))
	m.cacheMiss = newMeasure(attribute.String("result", "miss"))
	return m, nil
}

// measure holds the options of one label set, for counters and
// histograms.
type measure struct {
	add    []metric.AddOption
	record []metric.RecordOption
}

func newMeasure(attrs ...attribute.KeyValue) measure {
	o := metric.WithAttributeSet(attribute.NewSet(attrs...))
	return measure{add: []metric.AddOption{o}, record: []metric.RecordOption{o}}
}

// cached returns the measure of key in c, making it with attrs the first
// time.
func cached[K comparable](c *sync.Map, key K, attrs func() []attribute.KeyValue) measure {
	if v, ok := c.Load(key); ok {
		return v.(measure)
	}
	v, _ := c.LoadOrStore(key, newMeasure(attrs()...))
	return v.(measure)
}

// label returns s when it is a plausible value of a server-chosen label
// (an error code, a method name: letters, digits, '_', '-', '.', ':', at
// most 64 bytes), and "other" otherwise, so that no label can grow without
// bound whatever reaches it.
func label(s string) string {
	if len(s) > 64 {
		return other
	}
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '_', c == '-', c == '.', c == ':':
		default:
			return other
		}
	}
	return s
}

const other = "other"
