// Command load measures a running oauthkit example over loopback HTTP, in
// one run, phase by phase (-phases): "compare", a protected route with a
// valid token against an unprotected route of the same server;
// "validate", the protected route alone; "issue", client_credentials
// issuance; "code", the authorization-code exchange (codes obtained first
// through the login and consent forms, then only the exchanges timed).
// Every phase is bounded in requests and in time, and only loopback
// addresses are accepted.
//
// -base may name several instances sharing one store, comma-separated:
// requests go round-robin, and an instance that stops answering (a
// transport error, as when it is killed) is taken out and the request sent
// to the next one, as a load balancer would; -sample keeps every Nth
// issued token and checks afterwards that the instances still up accept
// it, so that a token acknowledged by an instance that died is not lost.
//
// bench/load.sh builds and starts the example and runs this against it;
// bench/scale.sh runs it per store, at several concurrencies, and against
// three instances with one killed:
//
//	bench/load.sh
//	bench/scale.sh
//	go run ./load freeport          # prints a free loopback port
//	go run ./load token -base ... -banner ...   # prints an access token (scope read)
//	go run ./load -base http://127.0.0.1:5000 -banner banner.txt   # by hand, from bench/
package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"html"
	"io"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

func main() {
	if err := run(context.Background(), os.Args[1:], os.Stdout); err != nil {
		slog.Error("load", "err", err)
		os.Exit(1)
	}
}

// config is the command line.
type config struct {
	base        *url.URL   // bases[0]
	bases       []*url.URL // every instance, requests round-robin
	phases      map[string]bool
	allowErrors bool
	sample      int
	banner      string
	duration    time.Duration
	maxRequests int
	conns       int
	codes       int
	protected   string
	unprotected string
	rounds      int
	minRatio    float64
}

func parseFlags(args []string) (*config, error) {
	fs := flag.NewFlagSet("load", flag.ContinueOnError)
	base := fs.String("base", "", "base URL of the example, on a loopback address, or of several instances sharing a store, comma-separated (required)")
	phases := fs.String("phases", "compare,issue,code", "phases to run, comma-separated: compare, validate, issue, code")
	c := &config{}
	fs.BoolVar(&c.allowErrors, "allow-errors", false, "report error answers (as above saturation) without failing")
	fs.IntVar(&c.sample, "sample", 0, "keep every Nth token issued in the issue phase and check at the end that an instance still up accepts it (0: off)")
	fs.StringVar(&c.banner, "banner", "", "file holding the example's start-up banner, to read the demo clients' secrets from (required)")
	fs.DurationVar(&c.duration, "duration", 5*time.Second, "time limit of each timed phase")
	fs.IntVar(&c.maxRequests, "requests", 500_000, "request limit of each timed phase")
	fs.IntVar(&c.conns, "conns", 8, "concurrent connections")
	fs.IntVar(&c.codes, "codes", 5000, "authorization codes to obtain, then exchange (codes live 1 minute)")
	fs.StringVar(&c.protected, "protected", "/api/data", "protected route (scope read)")
	fs.StringVar(&c.unprotected, "unprotected", "/api/public", "unprotected route of the same server to compare with (the example serves /api/data's answer there without a token)")
	fs.IntVar(&c.rounds, "rounds", 3, "alternating rounds of unprotected and protected, each -duration/-rounds long")
	fs.Float64Var(&c.minRatio, "min-ratio", 0.90, "protected/unprotected requests per second to call the target met")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if *base == "" || c.banner == "" {
		return nil, errors.New("-base and -banner are required")
	}
	for _, b := range strings.Split(*base, ",") {
		u, err := url.Parse(b)
		if err != nil || u.Scheme != "http" || u.Host == "" {
			return nil, fmt.Errorf("-base %q: want http://HOST:PORT", b)
		}
		if !loopback(u.Hostname()) {
			return nil, fmt.Errorf("-base %q: only loopback addresses may be loaded", b)
		}
		c.bases = append(c.bases, u)
	}
	c.base = c.bases[0]
	c.phases = map[string]bool{}
	for _, ph := range strings.Split(*phases, ",") {
		switch ph {
		case "compare", "validate", "issue", "code":
			c.phases[ph] = true
		default:
			return nil, fmt.Errorf("-phases: unknown phase %q (want compare, validate, issue, code)", ph)
		}
	}
	if c.duration <= 0 || c.maxRequests <= 0 || c.conns <= 0 || c.codes <= 0 || c.rounds <= 0 || c.sample < 0 {
		return nil, errors.New("-duration, -requests, -conns, -codes and -rounds must be positive, -sample not negative")
	}
	return c, nil
}

// freePort prints a TCP port free on 127.0.0.1 at the time of asking, for
// load.sh to start the example on.
func freePort(out io.Writer) error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	defer ln.Close()
	_, err = fmt.Fprintln(out, ln.Addr().(*net.TCPAddr).Port)
	return err
}

// loopback reports whether host is a loopback name or address.
func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func run(ctx context.Context, args []string, out io.Writer) error {
	if len(args) == 1 && args[0] == "freeport" {
		return freePort(out)
	}
	tokenOnly := len(args) > 0 && args[0] == "token"
	if tokenOnly {
		args = args[1:]
	}
	c, err := parseFlags(args)
	if err != nil {
		return err
	}
	secrets, err := readSecrets(c.banner)
	if err != nil {
		return err
	}
	for _, id := range []string{"demo-service", "demo-app"} {
		if secrets[id] == "" {
			return fmt.Errorf("%s: no secret for %s in the banner", c.banner, id)
		}
	}
	l := &loader{c: c, down: make([]atomic.Bool, len(c.bases)), client: &http.Client{
		Transport: &http.Transport{
			MaxIdleConns: c.conns * len(c.bases), MaxIdleConnsPerHost: c.conns, MaxConnsPerHost: c.conns,
			IdleConnTimeout: 30 * time.Second, DisableCompression: true,
		},
		Timeout:       10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
	var results []result

	// A token for the protected route, from the first instance.
	tok, err := l.clientCredentials(ctx, secrets["demo-service"])
	if err != nil {
		return err
	}
	if tokenOnly {
		_, err := fmt.Fprintln(out, tok)
		return err
	}
	get := func(path, token string) func(context.Context, int) error {
		return func(ctx context.Context, i int) error {
			return l.send(ctx, i, func(base *url.URL) *http.Request {
				u := base.JoinPath(path).String()
				if path == "/" {
					u = base.String() + "/"
				}
				req, _ := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
				if token != "" {
					req.Header.Set("Authorization", "Bearer "+token)
				}
				return req
			}, http.StatusOK, nil)
		}
	}
	var unprot, prot result
	if c.phases["compare"] {
		// Warm up both routes, then alternate them so that neither gets
		// the quieter moments of the machine.
		for _, p := range []string{c.unprotected, c.protected} {
			l.timed(ctx, "warm-up", 2000, time.Second, get(p, tok))
		}
		unprot = result{name: "GET " + c.unprotected + " (unprotected)"}
		prot = result{name: "GET " + c.protected + " (RequireOAuth, valid token)"}
		slice := c.duration / time.Duration(c.rounds)
		for range c.rounds {
			unprot.add(l.timed(ctx, unprot.name, c.maxRequests/c.rounds, slice, get(c.unprotected, "")))
			prot.add(l.timed(ctx, prot.name, c.maxRequests/c.rounds, slice, get(c.protected, tok)))
		}
		results = append(results, unprot, prot)
	}
	if c.phases["validate"] {
		l.timed(ctx, "warm-up", 2000, time.Second, get(c.protected, tok))
		results = append(results, l.timed(ctx, "GET "+c.protected+" (RequireOAuth, valid token)", c.maxRequests, c.duration, get(c.protected, tok)))
	}

	// client_credentials issuance.
	form := url.Values{"grant_type": {"client_credentials"}, "scope": {"read"}}.Encode()
	if c.phases["issue"] {
		results = append(results, l.timed(ctx, "POST /oauth/token client_credentials", c.maxRequests, c.duration, func(ctx context.Context, i int) error {
			var t tokenAnswer
			into := any(nil)
			if c.sample > 0 && i%c.sample == 0 {
				into = &t
			}
			err := l.send(ctx, i, func(base *url.URL) *http.Request {
				req, _ := http.NewRequestWithContext(ctx, http.MethodPost, base.JoinPath("/oauth/token").String(), strings.NewReader(form))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				req.SetBasicAuth("demo-service", secrets["demo-service"])
				return req
			}, http.StatusOK, into)
			if err == nil && t.AccessToken != "" {
				l.keep(t.AccessToken)
			}
			return err
		}))
	}

	// The authorization-code exchange: codes first, untimed, on the first
	// instance, exchanged round-robin.
	if c.phases["code"] {
		start := time.Now()
		codes, err := l.obtainCodes(ctx)
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "obtained %d authorization codes through the login and consent forms in %v\n", len(codes), time.Since(start).Round(time.Millisecond))
		results = append(results, l.timed(ctx, "POST /oauth/token authorization_code", len(codes), c.duration, func(ctx context.Context, i int) error {
			cd := codes[i]
			f := url.Values{"grant_type": {"authorization_code"}, "code": {cd.code}, "redirect_uri": {redirectURI}, "code_verifier": {cd.verifier}}.Encode()
			return l.send(ctx, i, func(base *url.URL) *http.Request {
				req, _ := http.NewRequestWithContext(ctx, http.MethodPost, base.JoinPath("/oauth/token").String(), strings.NewReader(f))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				req.SetBasicAuth("demo-app", secrets["demo-app"])
				return req
			}, http.StatusOK, nil)
		}))
	}

	hosts := make([]string, len(c.bases))
	for i, b := range c.bases {
		hosts[i] = b.Host
	}
	fmt.Fprintf(out, "\n%d connections, loopback %s\n\n", c.conns, strings.Join(hosts, ", "))
	fmt.Fprintf(out, "| %-48s | %9s | %-18s | %10s | %9s | %9s |\n", "request", "requests", "errors", "req/s", "p50", "p99")
	fmt.Fprintf(out, "|%s|%s|%s|%s|%s|%s|\n", strings.Repeat("-", 50), strings.Repeat("-", 11), strings.Repeat("-", 20), strings.Repeat("-", 12), strings.Repeat("-", 11), strings.Repeat("-", 11))
	for _, r := range results {
		fmt.Fprintf(out, "| %-48s | %9d | %-18s | %10.0f | %9v | %9v |\n", r.name, r.n, r.errors(), r.rate(), r.pct(50), r.pct(99))
	}
	if c.phases["compare"] {
		ratio := prot.rate() / unprot.rate()
		verdict := "met"
		if ratio < c.minRatio {
			verdict = "MISSED"
		}
		fmt.Fprintf(out, "\nprotected / unprotected = %.1f%% (target >= %.0f%%: %s)\n", 100*ratio, 100*c.minRatio, verdict)
	}
	if err := l.report(ctx, out); err != nil {
		return err
	}
	for _, r := range results {
		if r.errs > 0 && !c.allowErrors {
			return fmt.Errorf("%s: %d errors, first: %v", r.name, r.errs, r.firstErr)
		}
	}
	return nil
}

// readSecrets reads "secret=..." from the example's banner lines, by client
// ID (the first word of the line).
func readSecrets(path string) (map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	out := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		for _, fl := range fields {
			if s, ok := strings.CutPrefix(fl, "secret="); ok && len(fields) > 0 {
				out[fields[0]] = s
			}
		}
	}
	return out, sc.Err()
}

type loader struct {
	c         *config
	client    *http.Client
	down      []atomic.Bool // by index in c.bases: stopped answering
	failovers atomic.Int64  // requests sent again to another instance

	mu   sync.Mutex
	kept []string // sampled access tokens, acknowledged with 200
}

// tokenAnswer is the part of a token response the loader reads.
type tokenAnswer struct {
	AccessToken string `json:"access_token"`
}

// statusError is an answer with another status than expected.
type statusError struct {
	status int
	msg    string
}

func (e *statusError) Error() string { return e.msg }

// expect sends req and checks the status; into, if set, gets the JSON body.
func (l *loader) expect(req *http.Request, status int, into any) error {
	resp, err := l.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode != status {
		msg := fmt.Sprintf("%s %s: status %d, want %d: %.200s", req.Method, req.URL.Path, resp.StatusCode, status, body)
		if ra := resp.Header.Get("Retry-After"); ra != "" {
			msg += " (Retry-After: " + ra + ")"
		}
		return &statusError{status: resp.StatusCode, msg: msg}
	}
	if into != nil {
		return json.Unmarshal(body, into)
	}
	return nil
}

func (l *loader) clientCredentials(ctx context.Context, secret string) (string, error) {
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, l.c.base.JoinPath("/oauth/token").String(),
		strings.NewReader("grant_type=client_credentials&scope=read"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth("demo-service", secret)
	var t tokenAnswer
	if err := l.expect(req, http.StatusOK, &t); err != nil {
		return "", err
	}
	return t.AccessToken, nil
}

// result is one phase's figures.
type result struct {
	name     string
	n, errs  int
	statuses map[int]int     // error answers by status; 0: no answer
	errLat   []time.Duration // latencies of the error answers
	elapsed  time.Duration
	lat      []time.Duration
	firstErr error
}

func (r *result) count(err error, took time.Duration) {
	r.errs++
	if r.statuses == nil {
		r.statuses = map[int]int{}
	}
	var se *statusError
	if errors.As(err, &se) {
		r.statuses[se.status]++
		r.errLat = append(r.errLat, took)
	} else {
		r.statuses[0]++
	}
	if r.firstErr == nil {
		r.firstErr = err
	}
}

// errors is the error count, by status when there are any: "0",
// "1200 (503: 1200)".
func (r result) errors() string {
	if r.errs == 0 {
		return "0"
	}
	keys := slices.Sorted(maps.Keys(r.statuses))
	parts := make([]string, len(keys))
	for i, k := range keys {
		name := strconv.Itoa(k)
		if k == 0 {
			name = "none"
		}
		parts[i] = fmt.Sprintf("%s: %d", name, r.statuses[k])
	}
	if len(r.errLat) > 0 {
		parts = append(parts, "p99 "+percentile(r.errLat, 99).String())
	}
	return fmt.Sprintf("%d (%s)", r.errs, strings.Join(parts, ", "))
}

func (r *result) add(o result) {
	r.n += o.n
	for k, v := range o.statuses {
		if r.statuses == nil {
			r.statuses = map[int]int{}
		}
		r.statuses[k] += v
	}
	r.errs += o.errs
	r.errLat = append(r.errLat, o.errLat...)
	r.elapsed += o.elapsed
	r.lat = append(r.lat, o.lat...)
	if r.firstErr == nil {
		r.firstErr = o.firstErr
	}
}

func (r result) rate() float64 { return float64(r.n) / r.elapsed.Seconds() }

func (r result) pct(p int) time.Duration { return percentile(r.lat, p) }

// percentile is the p-th percentile of lat, to the microsecond.
func percentile(lat []time.Duration, p int) time.Duration {
	if len(lat) == 0 {
		return 0
	}
	s := slices.Clone(lat)
	slices.Sort(s)
	return s[(len(s)-1)*p/100].Round(time.Microsecond)
}

// timed runs do from l.c.conns goroutines until max requests were sent or
// limit passed; do gets the request's index, below max.
func (l *loader) timed(ctx context.Context, name string, max int, limit time.Duration, do func(context.Context, int) error) result {
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	var next atomic.Int64
	var mu sync.Mutex
	r := result{name: name}
	start := time.Now()
	var wg sync.WaitGroup
	for range l.c.conns {
		wg.Go(func() {
			lat := make([]time.Duration, 0, 1024)
			var n int
			var mine result
			for ctx.Err() == nil {
				i := int(next.Add(1) - 1)
				if i >= max {
					break
				}
				t0 := time.Now()
				err := do(ctx, i)
				if ctx.Err() != nil {
					break // cut off by the time limit: not counted
				}
				if err != nil {
					mine.count(err, time.Since(t0))
					continue
				}
				lat = append(lat, time.Since(t0))
				n++
			}
			mine.n, mine.lat = n, lat
			mu.Lock()
			r.add(mine)
			mu.Unlock()
		})
	}
	wg.Wait()
	r.elapsed = time.Since(start)
	return r
}

// The demo web app's registered redirect URI; nothing listens there: the
// loader reads the code from the redirect's Location.
const redirectURI = "http://127.0.0.1:8080/callback"

type code struct{ code, verifier string }

var csrfRE = regexp.MustCompile(`name="csrf_token" value="([^"]*)"`)

// obtainCodes signs in once on the login page, then runs the authorization
// request and the consent form l.c.codes times, as a browser would, with
// cookies. Codes live one minute, so this is kept short.
func (l *loader) obtainCodes(ctx context.Context) ([]code, error) {
	jar, err := cookiejar.New(nil)
	if err != nil {
		return nil, err
	}
	browser := &http.Client{Jar: jar, Transport: l.client.Transport, Timeout: 10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	authURL := l.c.base.JoinPath("/oauth/authorize")
	page := func(req *http.Request) (int, string, string, error) {
		resp, err := browser.Do(req)
		if err != nil {
			return 0, "", "", err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		return resp.StatusCode, resp.Header.Get("Location"), string(b), err
	}
	postForm := func(u string, f url.Values) (int, string, string, error) {
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, u, strings.NewReader(f.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		return page(req)
	}
	csrf := func(body string) (string, error) {
		m := csrfRE.FindStringSubmatch(body)
		if m == nil {
			return "", fmt.Errorf("no csrf_token in the page: %.300s", body)
		}
		return html.UnescapeString(m[1]), nil
	}
	out := make([]code, 0, l.c.codes)
	for len(out) < l.c.codes {
		verifier := secret32()
		sum := sha256.Sum256([]byte(verifier))
		state := secret32()
		q := url.Values{
			"response_type": {"code"}, "client_id": {"demo-app"}, "redirect_uri": {redirectURI},
			"scope": {"read"}, "state": {state},
			"code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])}, "code_challenge_method": {"S256"},
		}
		u := *authURL
		u.RawQuery = q.Encode()
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
		status, _, body, err := page(req)
		if err != nil || status != http.StatusOK {
			return nil, fmt.Errorf("authorization request: status %d: %v", status, err)
		}
		token, err := csrf(body)
		if err != nil {
			return nil, err
		}
		if strings.Contains(body, `value="login"`) {
			// Sign in once; the session cookie carries it afterwards.
			status, _, _, err := postForm(u.String(), url.Values{"csrf_token": {token}, "step": {"login"}, "username": {"user1"}, "password": {"password1"}})
			if err != nil || status != http.StatusSeeOther {
				return nil, fmt.Errorf("login form: status %d: %v", status, err)
			}
			continue
		}
		status, loc, _, err := postForm(u.String(), url.Values{"csrf_token": {token}, "step": {"consent"}, "consent": {"allow"}})
		if err != nil || status/100 != 3 {
			return nil, fmt.Errorf("consent form: status %d: %v", status, err)
		}
		back, err := url.Parse(loc)
		if err != nil || back.Query().Get("state") != state || back.Query().Get("code") == "" {
			return nil, fmt.Errorf("consent redirect %q: no code or wrong state", loc)
		}
		out = append(out, code{code: back.Query().Get("code"), verifier: verifier})
	}
	return out, nil
}

// secret32 is 32 random bytes in base64url: a PKCE verifier or a state.
func secret32() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
