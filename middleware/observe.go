package middleware

import (
	"context"
	"net/http"
	"time"
)

// observe validates raw as validate does, timing it for
// Options.OnValidated when that is set. Unset, it costs a nil check.
func (g *Guard) observe(r *http.Request, raw string) (*Token, context.Context, error) {
	if g.opts.OnValidated == nil {
		return g.validate(r.Context(), raw)
	}
	start := time.Now()
	tok, ctx, err := g.validate(r.Context(), raw)
	g.opts.OnValidated(r, time.Since(start), err)
	return tok, ctx, err
}
