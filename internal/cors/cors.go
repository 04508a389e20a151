package cors

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Policy is the CORS answer of one endpoint. Each field's comment gives its
// default.
type Policy struct {
	// Public lets every origin read every answer: each response carries
	// Access-Control-Allow-Origin: *, and credentials (cookies) are never
	// allowed. For documents without secrets only. Default false: an
	// origin reads an answer only when the handler calls [Allow].
	Public bool
	// Methods a preflight may ask for. Default none: every preflight is
	// refused, and only CORS "simple" requests (GET, HEAD and form POSTs
	// without custom headers) reach the handler.
	Methods []string
	// Headers a preflight may ask to send, compared without regard to case.
	// "*" allows any header, for a public policy only (a private one takes
	// it as a name no header has). Default none.
	Headers []string
	// Expose lists the response headers, beyond the CORS-safelisted ones,
	// that scripts may read. Default none.
	Expose []string
	// MaxAge is how long a browser may keep a preflight answer. Default 10
	// minutes.
	MaxAge time.Duration
	// AllowPreflight reports whether a preflight from origin o may be
	// granted (a preflight carries no credentials, so the handler cannot
	// yet tell who calls). Ignored when Public. Default: refuse.
	AllowPreflight func(r *http.Request, o Origin) bool
}

// Wrap returns h with p applied. Preflights (OPTIONS requests with an
// Origin and Access-Control-Request-Method) are answered here, 204 with or
// without the CORS grant, and never reach h; every other request does.
func (p *Policy) Wrap(h http.Handler) http.Handler {
	methods := strings.Join(p.Methods, ", ")
	headers := strings.Join(p.Headers, ", ")
	expose := strings.Join(p.Expose, ", ")
	maxAge := p.MaxAge
	if maxAge == 0 {
		maxAge = 10 * time.Minute
	}
	age := strconv.Itoa(int(maxAge / time.Second))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		if !p.Public {
			hd.Add("Vary", "Origin")
		}
		origin, sent := r.Header["Origin"]
		if p.Public {
			// On every answer, so that a cache never serves one without
			// it to a cross-origin request.
			hd.Set("Access-Control-Allow-Origin", "*")
		}
		if !sent || len(origin) != 1 {
			h.ServeHTTP(w, r)
			return
		}
		if r.Method != http.MethodOptions || r.Header.Get("Access-Control-Request-Method") == "" {
			if expose != "" {
				hd.Set("Access-Control-Expose-Headers", expose)
			}
			h.ServeHTTP(w, r)
			return
		}
		hd.Set("Cache-Control", "no-store")
		if !p.preflightOK(r, origin[0]) {
			hd.Del("Access-Control-Allow-Origin")
			w.WriteHeader(http.StatusNoContent)
			return
		}
		if !p.Public {
			hd.Set("Access-Control-Allow-Origin", origin[0])
		}
		hd.Set("Access-Control-Allow-Methods", methods)
		if p.anyHeader() {
			headers = strings.Join(r.Header.Values("Access-Control-Request-Headers"), ", ")
		}
		if headers != "" {
			hd.Set("Access-Control-Allow-Headers", headers)
		}
		hd.Set("Access-Control-Max-Age", age)
		w.WriteHeader(http.StatusNoContent)
	})
}

// preflightOK reports whether the preflight r, from origin, asks only for
// what p allows.
func (p *Policy) preflightOK(r *http.Request, origin string) bool {
	if !slices.Contains(p.Methods, r.Header.Get("Access-Control-Request-Method")) {
		return false
	}
	if p.anyHeader() {
		return true
	}
	for _, v := range r.Header.Values("Access-Control-Request-Headers") {
		for name := range strings.SplitSeq(v, ",") {
			name = strings.TrimSpace(name)
			if name != "" && !slices.ContainsFunc(p.Headers, func(h string) bool { return strings.EqualFold(h, name) }) {
				return false
			}
		}
	}
	if p.Public {
		return true
	}
	o, ok := ParseOrigin(origin)
	return ok && p.AllowPreflight != nil && p.AllowPreflight(r, o)
}

// anyHeader reports whether p is public and allows any request header.
func (p *Policy) anyHeader() bool { return p.Public && slices.Contains(p.Headers, "*") }

// RequestOrigin returns the origin of a cross-origin request: its one
// Origin header, parsed by ParseOrigin. It reports false when there is
// none or it is not a usable http or https origin.
func RequestOrigin(r *http.Request) (Origin, bool) {
	v := r.Header.Values("Origin")
	if len(v) != 1 {
		return Origin{}, false
	}
	return ParseOrigin(v[0])
}

// Allow lets o read the response to the request being answered (for a
// policy that is not public). Call it before the response is written.
func Allow(w http.ResponseWriter, o Origin) {
	w.Header().Set("Access-Control-Allow-Origin", o.String())
}
