package main

import (
	"flag"
	"fmt"
	"io"
	"time"
)

// tuning holds the flags that soak and load runs shorten: the token
// lifetimes and the store's cleanup interval.
type tuning struct {
	AccessTTL, RefreshTTL, CodeTTL time.Duration
	Cleanup                        time.Duration // 0: no background cleanup
}

// Their defaults: the Provider's and the SQL stores' own.
const (
	defaultAccessTTL  = time.Hour
	defaultRefreshTTL = 14 * 24 * time.Hour
	defaultCodeTTL    = time.Minute
	maxCodeTTL        = 10 * time.Minute // RFC 6749 §4.1.2
	defaultCleanup    = 5 * time.Minute
)

// tuningFlags defines -access-ttl, -refresh-ttl, -code-ttl and -cleanup on
// fs.
func tuningFlags(fs *flag.FlagSet) *tuning {
	t := &tuning{}
	fs.DurationVar(&t.AccessTTL, "access-ttl", defaultAccessTTL, "lifetime of access tokens, at least 1s (Go duration syntax: 90s, 15m, 2h)")
	fs.DurationVar(&t.RefreshTTL, "refresh-ttl", defaultRefreshTTL, "lifetime of each refresh token (every use rotates it), at least 1s")
	fs.DurationVar(&t.CodeTTL, "code-ttl", defaultCodeTTL, "lifetime of authorization codes, 1s to 10m")
	fs.DurationVar(&t.Cleanup, "cleanup", defaultCleanup, "how often a sqlite or postgres store deletes expired tokens; 0 turns that off (memory and redis drop expired entries by themselves)")
	return t
}

// check refuses values the Provider or the store would refuse or
// misread, naming the flag.
func (t *tuning) check() error {
	for _, f := range []struct {
		name string
		d    time.Duration
	}{{"-access-ttl", t.AccessTTL}, {"-refresh-ttl", t.RefreshTTL}, {"-code-ttl", t.CodeTTL}} {
		if f.d < time.Second {
			// expires_in is in whole seconds: less would announce 0.
			return fmt.Errorf("%s %v: want at least 1s", f.name, f.d)
		}
	}
	if t.CodeTTL > maxCodeTTL {
		return fmt.Errorf("-code-ttl %v: want at most 10m (RFC 6749 §4.1.2)", t.CodeTTL)
	}
	if t.Cleanup < 0 {
		return fmt.Errorf("-cleanup %v: want a positive interval, or 0 for none", t.Cleanup)
	}
	return nil
}

// cleanupNote describes the cleanup interval for the banner.
func (t *tuning) cleanupNote() string {
	if t.Cleanup == 0 {
		return "never"
	}
	return "every " + t.Cleanup.String()
}

// printTuning adds the lifetimes, the cleanup interval and the metrics'
// address to the banner.
func (a *app) printTuning(w io.Writer) {
	t := a.tuning
	fmt.Fprintf(w, "Lifetimes: access %v, refresh %v, code %v; expired rows cleaned up (sqlite, postgres): %s\n",
		orDefault(t.AccessTTL, defaultAccessTTL), orDefault(t.RefreshTTL, defaultRefreshTTL), orDefault(t.CodeTTL, defaultCodeTTL), t.cleanupNote())
	if a.metrics != "" {
		fmt.Fprintf(w, "Metrics: http://%s/metrics (Prometheus text)\n", a.metrics)
	}
}

func orDefault(d, def time.Duration) time.Duration {
	if d == 0 {
		return def
	}
	return d
}
