package grant

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"time"

	oerrors "github.com/go-oauth2/oauth2/v4/errors"
)

// RFC 6749 §5.2 and §4.1.2.1 error codes, and RFC 6750's slow_down-style
// throttling answer.
const (
	CodeInvalidRequest          = "invalid_request"
	CodeInvalidClient           = "invalid_client"
	CodeInvalidGrant            = "invalid_grant"
	CodeUnauthorizedClient      = "unauthorized_client"
	CodeUnsupportedGrantType    = "unsupported_grant_type"
	CodeInvalidScope            = "invalid_scope"
	CodeAccessDenied            = "access_denied"
	CodeUnsupportedResponseType = "unsupported_response_type"
	CodeServerError             = "server_error"
	CodeTemporarilyUnavailable  = "temporarily_unavailable"
	CodeSlowDown                = "slow_down"
)

// Error is an OAuth 2.0 error response: the RFC 6749 error code, a
// description safe to show to the client, and the HTTP status it is sent
// with. Handlers answer every failure with one; hooks receive it.
type Error struct {
	Code        string // RFC 6749 error code
	Description string // human-readable, never containing secrets
	URI         string // optional error_uri
	Status      int    // HTTP status

	challenge  string        // WWW-Authenticate value, for invalid_client with Basic
	retryAfter time.Duration // for 429 answers
	detail     string        // why, for the log only, when the answer must not say
	notCharged bool          // a failed client authentication that is the server's, not the client's: not throttled
}

// Error returns the code and description.
func (e *Error) Error() string { return "grant: " + e.Code + ": " + e.Description }

func newError(status int, code, desc string) *Error {
	return &Error{Code: code, Description: desc, Status: status}
}

func errRequest(desc string) *Error { return newError(http.StatusBadRequest, CodeInvalidRequest, desc) }
func errGrant(desc string) *Error   { return newError(http.StatusBadRequest, CodeInvalidGrant, desc) }

// errClient is invalid_client: 401, with a Basic challenge when the client
// tried Basic authentication (RFC 6749 §5.2).
func errClient(basic bool) *Error {
	e := newError(http.StatusUnauthorized, CodeInvalidClient, "client authentication failed")
	if basic {
		e.challenge = `Basic realm="oauth", charset="UTF-8"`
	}
	return e
}

var errServer = newError(http.StatusInternalServerError, CodeServerError, "the authorization server encountered an unexpected condition")

// engineErrors maps go-oauth2's error values to answers with the statuses
// RFC 6749 §5.2 prescribes (go-oauth2 sends 401 for several of them).
var engineErrors = map[error]*Error{
	oerrors.ErrInvalidRequest:                 errRequest("the request is missing a required parameter or is malformed"),
	oerrors.ErrCodeChallengeRquired:           errRequest("code_challenge is required"),
	oerrors.ErrUnsupportedCodeChallengeMethod: errRequest("code_challenge_method must be S256"),
	oerrors.ErrInvalidCodeChallengeLen:        errRequest("code_challenge must be 43 to 128 characters"),
	oerrors.ErrUnauthorizedClient:             newError(http.StatusBadRequest, CodeUnauthorizedClient, "the client is not allowed to use this grant type"),
	oerrors.ErrAccessDenied:                   newError(http.StatusForbidden, CodeAccessDenied, "access denied"),
	oerrors.ErrUnsupportedResponseType:        newError(http.StatusBadRequest, CodeUnsupportedResponseType, "only response_type=code is supported"),
	oerrors.ErrInvalidScope:                   newError(http.StatusBadRequest, CodeInvalidScope, "the requested scope is invalid or not allowed"),
	oerrors.ErrInvalidClient:                  errClient(false),
	oerrors.ErrInvalidGrant:                   errGrant("the grant is invalid, expired, revoked, or was issued to another client"),
	oerrors.ErrUnsupportedGrantType:           newError(http.StatusBadRequest, CodeUnsupportedGrantType, "the grant type is not supported"),
	oerrors.ErrServerError:                    errServer,
	oerrors.ErrTemporarilyUnavailable:         newError(http.StatusServiceUnavailable, CodeTemporarilyUnavailable, "temporarily unavailable"),
}

// asError turns any error from the engine, the stores or this package into
// the answer to send. A store that is unavailable or has too many calls in
// flight gives 503 temporarily_unavailable (store_limits.go), logged once
// per outage by its bulkhead. Other unknown errors become server_error;
// their text is logged by the caller, never sent.
func asError(err error) (*Error, bool) {
	var e *Error
	if errors.As(err, &e) {
		return e, true
	}
	if e, ok := engineErrors[err]; ok {
		return e, true
	}
	if e, ok := unavailable(err); ok {
		return e, true
	}
	return errServer, false
}

// noStore marks a response as holding credentials (RFC 6749 §5.1). The keys
// are already canonical, so the map is written directly.
func noStore(h http.Header) {
	v := []string{"no-store", "no-cache"}
	h["Cache-Control"], h["Pragma"] = v[0:1:1], v[1:2:2]
}

// writeJSON writes v as a JSON response that caches must not keep.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		b = []byte(`{"error":"server_error"}`)
		status = http.StatusInternalServerError
	}
	writeRawJSON(w, status, append(b, '\n'))
}

// writeRawJSON writes an encoded JSON body with the headers every token,
// introspection and error response carries.
func writeRawJSON(w http.ResponseWriter, status int, body []byte) {
	v := []string{"application/json;charset=UTF-8", "no-store", "no-cache"}
	h := w.Header()
	h["Content-Type"], h["Cache-Control"], h["Pragma"] = v[0:1:1], v[1:2:2], v[2:3:3]
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// writeError writes e as an RFC 6749 §5.2 error response.
func writeError(w http.ResponseWriter, e *Error) {
	if e.challenge != "" {
		w.Header().Set("WWW-Authenticate", e.challenge)
	}
	if e.retryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int((e.retryAfter+time.Second-1)/time.Second)))
	}
	writeJSON(w, e.Status, struct {
		Error       string `json:"error"`
		Description string `json:"error_description,omitempty"`
		URI         string `json:"error_uri,omitempty"`
	}{e.Code, e.Description, e.URI})
}
