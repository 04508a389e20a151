package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
)

// errAllDown is a request that no instance answered.
var errAllDown = errors.New("no instance answers")

// send sends the request build makes for one instance, the i-th in
// round-robin order among those still up, and checks its status as
// expect does. An instance that gives no answer (connection refused or
// reset: it was killed) is taken out and the request sent to the next, as
// a load balancer would; with a single instance the error is returned.
func (l *loader) send(ctx context.Context, i int, build func(*url.URL) *http.Request, status int, into any) error {
	n := len(l.c.bases)
	var last error
	for try := range n {
		k := (i + try) % n
		if l.down[k].Load() {
			continue
		}
		err := l.expect(build(l.c.bases[k]), status, into)
		var se *statusError
		if err == nil || errors.As(err, &se) || ctx.Err() != nil || n == 1 {
			return err
		}
		last = err
		if !l.down[k].Swap(true) {
			l.client.Transport.(*http.Transport).CloseIdleConnections()
		}
		l.failovers.Add(1)
	}
	if last == nil {
		last = errAllDown
	}
	return last
}

// keep records a sampled access token that an instance acknowledged.
func (l *loader) keep(tok string) {
	l.mu.Lock()
	l.kept = append(l.kept, tok)
	l.mu.Unlock()
}

// report prints which instances were taken out and how many requests went
// to another, and checks every kept token on the instances still up: an
// acknowledged token they refuse was lost. Lost tokens are an error.
func (l *loader) report(ctx context.Context, out io.Writer) error {
	if len(l.c.bases) > 1 {
		for k, b := range l.c.bases {
			if l.down[k].Load() {
				fmt.Fprintf(out, "instance %s stopped answering and was taken out\n", b.Host)
			}
		}
		fmt.Fprintf(out, "requests sent again to another instance: %d\n", l.failovers.Load())
	}
	if len(l.kept) == 0 {
		return nil
	}
	lost := 0
	var first error
	for i, tok := range l.kept {
		err := l.send(ctx, i, func(base *url.URL) *http.Request {
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base.JoinPath(l.c.protected).String(), nil)
			req.Header.Set("Authorization", "Bearer "+tok)
			return req
		}, http.StatusOK, nil)
		if err != nil {
			lost++
			if first == nil {
				first = err
			}
		}
	}
	fmt.Fprintf(out, "acknowledged tokens checked afterwards on the instances still up: %d, refused: %d\n", len(l.kept), lost)
	if lost > 0 {
		return fmt.Errorf("%d acknowledged tokens refused afterwards, first: %v", lost, first)
	}
	return nil
}
