package grant

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/oauthkit/oauthkit/internal/resource"
	"github.com/oauthkit/oauthkit/store"
)

// Resource indicators (RFC 8707): a client names, with one or more resource
// parameters, the resource servers it wants a token for, at the
// authorization endpoint and at the token endpoint (every grant).
//
//   - Each resource must be an absolute http(s) URI without fragment, one
//     of Config.Resources.Allowed (and, if set, allowed for the client by
//     Resources.Allow); anything else is refused with invalid_target.
//     Resources are compared and stored in canonical form
//     (internal/resource: lower-case scheme and host, no default port,
//     normalised escapes, no trailing slash).
//   - The authorization code carries the resources of its authorization
//     request. The token request that redeems it, and every refresh of its
//     grant, may name a subset of them: the access token is then for that
//     subset; naming none, it is for all of them. Naming a resource outside
//     the grant is invalid_target, also when the grant has none (it was
//     authorized for Config.Audience, which a resource parameter cannot
//     widen). The refresh token keeps the grant's resources, as it keeps
//     its scopes (RFC 6749 §6).
//   - A token's audience is stored with it (store.Token.Audience) and is
//     what introspection answers as aud, ValidateToken reports as
//     middleware.Token.Audience, and a JWT access token carries as aud. A
//     token issued for no resource has Config.Audience instead.

// CodeInvalidTarget is RFC 8707 §2's error: the requested resource is
// invalid, missing, unknown, or malformed.
const CodeInvalidTarget = "invalid_target"

// maxResources bounds the resource parameters of one request.
const maxResources = 16

// Resources configures RFC 8707 resource indicators: the resource servers
// (APIs, MCP servers) the provider issues tokens for. The zero value
// accepts no resource parameter: every one is refused with invalid_target,
// and tokens carry Config.Audience.
type Resources struct {
	// Allowed are the resource identifiers clients may ask for tokens for:
	// absolute http or https URIs without fragment, such as
	// https://api.example.com/mcp. They are compared in canonical form, so
	// HTTPS://API.example.com:443/mcp/ names the same resource; the
	// trailing slash does not count. Default none.
	Allowed []string
	// Allow, if set, is asked about every requested resource that is in
	// Allowed, with its canonical form: false refuses it to client c with
	// invalid_target. Default: every client may have tokens for every
	// allowed resource.
	Allow func(ctx context.Context, c *store.Client, resource string) bool
}

// check puts the allowed resources in canonical form.
func (r *Resources) check() error {
	out := make([]string, 0, len(r.Allowed))
	for _, s := range r.Allowed {
		c, err := resource.Canonical(s)
		if err != nil {
			return fmt.Errorf("grant: Config.Resources.Allowed %s: %w", quoteName(s), err)
		}
		if !slices.Contains(out, c) {
			out = append(out, c)
		}
	}
	r.Allowed = out
	return nil
}

func errTarget(desc string) *Error { return newError(http.StatusBadRequest, CodeInvalidTarget, desc) }

// requestedResources checks the resource parameters vals of a request by
// client c and returns them in canonical form, without repeats, in the
// order given; nil when there are none.
func (p *Provider) requestedResources(ctx context.Context, c *store.Client, vals []string) ([]string, *Error) {
	if len(vals) == 0 {
		return nil, nil
	}
	if len(vals) > maxResources {
		return nil, errTarget(fmt.Sprintf("at most %d resource parameters are allowed", maxResources))
	}
	out := make([]string, 0, len(vals))
	for _, v := range vals {
		r, err := resource.Canonical(v)
		if err != nil {
			return nil, errTarget("a resource parameter is not an absolute http or https URI without fragment")
		}
		if !slices.Contains(p.cfg.Resources.Allowed, r) {
			return nil, errTarget("the resource " + quoteName(r) + " is not one this server issues tokens for")
		}
		if p.cfg.Resources.Allow != nil && !p.cfg.Resources.Allow(ctx, c, r) {
			return nil, errTarget("the client may not have tokens for the resource " + quoteName(r))
		}
		if !slices.Contains(out, r) {
			out = append(out, r)
		}
	}
	return out, nil
}

// narrowResources is the audience of an access token of a grant for
// resources granted, for a request that asked for requested: the grant's
// when it asked for none, else what it asked for, each of which must be
// the grant's.
func narrowResources(granted, requested []string) ([]string, *Error) {
	if len(requested) == 0 {
		return granted, nil
	}
	for _, r := range requested {
		if !slices.Contains(granted, r) {
			return nil, errTarget("the resource " + quoteName(r) + " was not part of the authorization grant")
		}
	}
	if len(requested) == len(granted) {
		return granted, nil
	}
	return requested, nil
}

// audience is the aud of token t: the resources it was issued for, or
// Config.Audience when it was issued for none.
func (p *Provider) audience(t *store.Token) []string {
	if len(t.Audience) > 0 {
		return t.Audience
	}
	return p.cfg.Audience
}

// resourcesPart is what a derived access token of a rotation depends on
// beyond its scope (refresh_retry.go): nothing when it has the grant's
// audience, so that the values stay those of a request that named no
// resource; else its resources, sorted.
func resourcesPart(aud, granted []string) []string {
	if slices.Equal(aud, granted) {
		return nil
	}
	s := slices.Clone(aud)
	slices.Sort(s)
	return []string{"resource " + strings.Join(s, " ")}
}
