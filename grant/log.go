package grant

import (
	"context"
	"log/slog"
	"time"

	"github.com/oauthkit/oauthkit/internal/logsample"
)

// Refusal logs are sampled per error code: logBurst records at once, then
// one per logEvery, each carrying how many were held back. A flood of
// refused requests, throttled or not, thus writes a few hundred bytes a
// second whatever it sends, and one kind of refusal cannot hide another.
const (
	logBurst = 20
	logEvery = time.Second
)

func newLogSampler(now func() time.Time) *logsample.Sampler {
	return logsample.New(logBurst, logEvery, now)
}

// logRefusal logs a refused request at Info, sampled. Client-supplied
// values in attrs must already be cut short (logsample.Clip); addresses
// are cut here.
func (p *Provider) logRefusal(ctx context.Context, msg string, e *Error, attrs ...any) {
	if !p.cfg.Logger.Enabled(ctx, slog.LevelInfo) {
		return
	}
	ok, held := p.logs.Allow(e.Code)
	if !ok {
		return
	}
	for i := 0; i+1 < len(attrs); i += 2 {
		if attrs[i] == "addr" {
			s, _ := attrs[i+1].(string)
			attrs[i+1] = logsample.Clip(s)
		}
	}
	attrs = append(attrs, "error", e.Code, "description", e.Description)
	if e.detail != "" {
		attrs = append(attrs, "detail", e.detail)
	}
	if held > 0 {
		attrs = append(attrs, "suppressed", held)
	}
	p.cfg.Logger.InfoContext(ctx, msg, attrs...)
}

// logIssued logs a token response at Info: issuance is the audit trail a
// host wants by default (which client got what for whom), and it comes
// only from authenticated, successful requests that each cost a store
// write, so its volume follows real use, not an attacker's. No token
// values.
func (p *Provider) logIssued(ctx context.Context, ev Event) {
	p.cfg.Logger.InfoContext(ctx, "grant: token issued", "grant_type", ev.GrantType, "client_id", ev.ClientID,
		"subject", ev.Subject, "scope", joinScopes(ev.Scopes), "addr", logsample.Clip(ev.Addr))
}
