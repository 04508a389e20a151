package otelmetrics

import (
	"errors"
	"net/http"
	"time"

	"go.opentelemetry.io/otel/attribute"

	"github.com/oauthkit/oauthkit/middleware"
)

// The results of a validation.
const (
	resultOK      = "ok"      // a valid token
	resultInvalid = "invalid" // a token refused (middleware.ErrInvalidToken)
	resultError   = "error"   // the validator failed
)

// OnValidated records a token validation and its duration, by result
// (the histogram's count is the number of validations): set it as
// middleware.Options.OnValidated.
func (m *Metrics) OnValidated(r *http.Request, d time.Duration, err error) {
	i := 0
	switch {
	case err == nil:
	case errors.Is(err, middleware.ErrInvalidToken):
		i = 1
	default:
		i = 2
	}
	m.validationTime.Record(r.Context(), d.Seconds(), m.validated[i].record...)
}

// OnFailure records a request the Guard refused, by status and error
// code: set it as middleware.Options.OnFailure (or call it from yours).
func (m *Metrics) OnFailure(r *http.Request, e *middleware.Error) {
	k := refusalKey{status: e.Status, code: label(e.Code)}
	ms := cached(&m.refusals, k, func() []attribute.KeyValue {
		return []attribute.KeyValue{attribute.Int("status", k.status), attribute.String("error", k.code)}
	})
	m.guardRefused.Add(r.Context(), 1, ms.add...)
}

type refusalKey struct {
	status int
	code   string
}
