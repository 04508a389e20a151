package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/oauthkit/oauthkit/grant"
	"github.com/oauthkit/oauthkit/store"
	"github.com/oauthkit/oauthkit/store/memory"
	"github.com/oauthkit/oauthkit/store/postgres"
	"github.com/oauthkit/oauthkit/store/redis"
	"github.com/oauthkit/oauthkit/store/sqlite"
)

// backend is where the example keeps clients and tokens: one of the store
// packages, chosen with -store. Users stay in the demo's memory store.
type backend interface {
	store.ClientRegistry
	store.TokenStore
	Close() error
}

// memoryBackend is a memory.Store with the Close the other backends have.
type memoryBackend struct{ *memory.Store }

// Close does nothing: the tokens go with the process.
func (memoryBackend) Close() error { return nil }

// storeEnv, if set, is the default of -store, so that a DSN with a
// password need not appear on the command line.
const storeEnv = "OAUTHKIT_STORE"

// storeUsage documents -store, for the flag sets of run and of the clients
// command.
const storeUsage = "where clients and tokens live: memory, sqlite:PATH, postgres://…[?schema=NAME], redis://…[?prefix=P], redis+cluster://host:port[,host:port…][?prefix=P]; $" + storeEnv + " sets the default"

// clientStoreUsage documents -client-store.
const clientStoreUsage = "where clients live, if not with the tokens (-store): sqlite:PATH or postgres://…[?schema=NAME], so that a Redis holding the tokens does not hold the registrations too; default: the -store"

// defaultStore is the default of -store.
func defaultStore() string {
	if s := os.Getenv(storeEnv); s != "" {
		return s
	}
	return "memory"
}

// errStoreSpec is wrapped by openStore's errors about the -store value
// itself (as opposed to a server that does not answer).
var errStoreSpec = errors.New("-store")

// openStore opens the backend that spec names:
//
//	memory                      in memory, gone at exit (the default)
//	sqlite:PATH                 a SQLite file, created if missing
//	postgres://…?schema=NAME    PostgreSQL; schema optional (default public)
//	postgresql://…              the same
//	redis://…?prefix=P          Redis (rediss:// for TLS); key prefix optional (default "oauthkit:")
//	redis+cluster://h:p,h:p/?prefix=P
//	                            Redis Cluster (rediss+cluster:// for TLS): one or more of its nodes
//
// It also returns a description of the store for the banner and logs, with
// any password left out.
func openStore(ctx context.Context, spec string) (backend, string, error) {
	return openTunedStore(ctx, spec, storeTuning{})
}

// storeTuning adjusts the backends openTunedStore opens. The zero value
// changes nothing.
type storeTuning struct {
	Cleanup  *time.Duration // sqlite and postgres: the cleanup interval (0: none); nil: the store's default
	Observer store.Observer // told of every store call (-metrics); nil: none
	Logger   *slog.Logger   // redis: where its warnings go (a server that would lose acknowledged writes); nil: slog.Default()
}

// storeTuning is -cleanup, -metrics' observer and the logger, for
// openTunedStore.
func (o *options) storeTuning() storeTuning {
	return storeTuning{Cleanup: &o.Tuning.Cleanup, Observer: o.observer(), Logger: o.Logger}
}

// openTunedStore is openStore with the tuning t.
func openTunedStore(ctx context.Context, spec string, t storeTuning) (backend, string, error) {
	switch {
	case spec == "" || spec == "memory":
		return memoryBackend{memory.New(memory.WithObserver(t.Observer))}, "memory (tokens are lost at exit)", nil
	case strings.HasPrefix(spec, "sqlite:"):
		path := strings.TrimPrefix(spec, "sqlite:")
		if path == "" || strings.HasPrefix(path, "//") {
			return nil, "", fmt.Errorf("%w %q: write sqlite:PATH, for example sqlite:oauthkit.db", errStoreSpec, spec)
		}
		opts := []sqlite.Option{sqlite.WithObserver(t.Observer)}
		if t.Cleanup != nil {
			opts = append(opts, sqlite.WithCleanupInterval(*t.Cleanup))
		}
		s, err := sqlite.Open(ctx, path, opts...)
		if err != nil {
			return nil, "", err
		}
		return s, "sqlite " + path, nil
	case strings.HasPrefix(spec, "postgres://"), strings.HasPrefix(spec, "postgresql://"):
		dsn, schema, shown, err := splitParam(spec, "schema")
		if err != nil {
			return nil, "", err
		}
		opts := []postgres.Option{postgres.WithObserver(t.Observer)}
		if t.Cleanup != nil {
			opts = append(opts, postgres.WithCleanupInterval(*t.Cleanup))
		}
		if schema != "" {
			opts = append(opts, postgres.WithSchema(schema))
		} else {
			schema = "public"
		}
		s, err := postgres.Open(ctx, dsn, opts...)
		if err != nil {
			return nil, "", err
		}
		return s, "postgres " + shown + " schema " + schema, nil
	case strings.HasPrefix(spec, "redis://"), strings.HasPrefix(spec, "rediss://"),
		strings.HasPrefix(spec, "redis+cluster://"), strings.HasPrefix(spec, "rediss+cluster://"):
		addr, prefix, shown, err := splitParam(spec, "prefix")
		if err != nil {
			return nil, "", err
		}
		opts := []redis.Option{redis.WithObserver(t.Observer)}
		if t.Logger != nil {
			opts = append(opts, redis.WithLogger(t.Logger))
		}
		if prefix != "" {
			opts = append(opts, redis.WithPrefix(prefix))
		} else {
			prefix = "oauthkit:"
		}
		s, err := redis.Open(ctx, addr, opts...)
		if err != nil {
			return nil, "", err
		}
		kind := "redis"
		if strings.Contains(spec, "+cluster://") {
			kind = "redis-cluster"
		}
		return s, fmt.Sprintf("%s %s prefix %q", kind, shown, prefix), nil
	}
	return nil, "", fmt.Errorf("%w %q: want memory, sqlite:PATH, postgres://…, redis://… or redis+cluster://…", errStoreSpec, spec)
}

// openClientStore opens the -client-store spec, a persistent store other
// than Redis (sqlite or postgres): where the registrations live when the
// tokens are in a Redis, which loses them if it restarts empty.
func openClientStore(ctx context.Context, spec string, t storeTuning) (backend, string, error) {
	if !strings.HasPrefix(spec, "sqlite:") && !strings.HasPrefix(spec, "postgres://") && !strings.HasPrefix(spec, "postgresql://") {
		return nil, "", fmt.Errorf("%w: -client-store %q: want sqlite:PATH or postgres://…", errStoreSpec, spec)
	}
	return openTunedStore(ctx, spec, t)
}

// splitParam removes the query parameter name (ours, not the driver's) from
// the URL raw. It returns the URL without it, the parameter's value, and
// the URL with its password redacted, for display.
func splitParam(raw, name string) (rest, value, shown string, err error) {
	u, err := url.Parse(raw)
	if err != nil {
		// url.Parse's error quotes the URL, password included.
		return "", "", "", fmt.Errorf("%w: not a valid URL", errStoreSpec)
	}
	rest = raw
	q := u.Query()
	if vs := q[name]; len(vs) > 0 {
		if len(vs) > 1 || vs[0] == "" {
			return "", "", "", fmt.Errorf("%w: give %s once, not empty", errStoreSpec, name)
		}
		value = vs[0]
		q.Del(name)
		u.RawQuery = q.Encode()
		rest = u.String()
	}
	return rest, value, u.Redacted(), nil
}

// register stores c (grant.RegisterClient generates the secret of a
// confidential demo client, shown in the banner). A client already in a
// persistent store (from an earlier start, or another instance) is kept as
// it is: its secret was shown when it was created and cannot be shown
// again. If its registration differs from c, the stored one wins, with a
// warning; but the example's own login client is brought up to date.
func (a *app) register(ctx context.Context, c *store.Client, log *slog.Logger) error {
	secret, err := grant.RegisterClient(ctx, a.store, c)
	if !errors.Is(err, store.ErrExists) {
		if err == nil && secret != "" {
			a.secrets[c.ID] = secret
		}
		return err
	}
	old, err := a.store.Client(ctx, c.ID)
	if err != nil {
		return err
	}
	switch {
	case sameRegistration(old, c, a.fromFile[c.ID]):
		log.InfoContext(ctx, "example: client already registered; reusing it", "client_id", c.ID)
	case c.ID == loginClientID:
		if err := a.store.UpdateClient(ctx, c); err != nil {
			return err
		}
		log.InfoContext(ctx, "example: updated the stored login client to this version's registration", "client_id", c.ID)
	default:
		log.WarnContext(ctx, "example: the stored client differs from this one; keeping the stored one (`clients delete` removes it)", "client_id", c.ID)
	}
	return nil
}

// sameRegistration reports whether the stored client old has what c asks
// for. Generated secrets differ at every start, so the secret is compared
// only for clients whose secret is given (a -clients file).
func sameRegistration(old, c *store.Client, secretGiven bool) bool {
	return old.AuthMethod == c.AuthMethod && old.FirstParty == c.FirstParty &&
		slices.Equal(old.GrantTypes, c.GrantTypes) && slices.Equal(old.Scopes, c.Scopes) &&
		slices.Equal(old.RedirectURIs, c.RedirectURIs) &&
		(!secretGiven || old.SecretHash == c.SecretHash) &&
		sameJSON(old.JWKS, c.JWKS) && old.JWKSURI == c.JWKSURI &&
		old.TokenEndpointAuthSigningAlg == c.TokenEndpointAuthSigningAlg
}

// sameJSON reports whether a and b are the same JSON value up to white
// space (stores may compact a client's jwks).
func sameJSON(a, b []byte) bool {
	var ca, cb bytes.Buffer
	if json.Compact(&ca, a) != nil || json.Compact(&cb, b) != nil {
		return bytes.Equal(a, b)
	}
	return bytes.Equal(ca.Bytes(), cb.Bytes())
}

// exitStatus is the exit status for an error of openStore: 2 for a bad
// -store value, 1 for a store that cannot be opened.
func exitStatus(err error) int {
	if errors.Is(err, errStoreSpec) {
		return 2
	}
	return 1
}

// closeStore closes st, logging a failure.
func closeStore(st backend, log *slog.Logger) {
	if err := st.Close(); err != nil {
		log.Error("example: closing the store", "err", err)
	}
}
