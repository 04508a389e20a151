// Command example is the tutorial "Implementing OAuth 2.0 in a Flask API"
// done with oauthkit: users, clients, a login endpoint that issues tokens, a
// token endpoint, and routes protected by scope. See README.md beside it.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run is the whole program; it returns the exit status. It serves until ctx
// is done.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] == "clients" {
		return runClients(ctx, args[1:], stdout, stderr) // clientcmd.go
	}
	fs := flag.NewFlagSet("example", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:5000", "address to listen on: HOST:PORT, or :PORT for every interface")
	issuer := fs.String("issuer", "", "issuer URL (default http://ADDR for a loopback ADDR, http://127.0.0.1:PORT for :PORT or 0.0.0.0:PORT; required otherwise, https)")
	accessToken := fs.String("access-token", "opaque", "access token format: opaque or jwt (RFC 9068)")
	clientsFile := fs.String("clients", "", "JSON file of client registrations (RFC 7591 fields) replacing the demo clients")
	dpopNonce := fs.Bool("dpop-nonce", false, "make DPoP proofs at the token endpoint carry a server nonce (RFC 9449 §8)")
	storeSpec := fs.String("store", defaultStore(), storeUsage)
	clientStoreSpec := fs.String("client-store", "", clientStoreUsage)
	var resources []string
	fs.Func("resource", "`URL` of a resource server tokens may be issued for (RFC 8707 resource indicator), such as http://127.0.0.1:8081/mcp; repeatable", func(s string) error {
		resources = append(resources, s)
		return nil
	})
	tun := tuningFlags(fs)                                // tuning.go
	metricsAddr := fs.String("metrics", "", metricsUsage) // metrics.go
	validationCache := fs.Bool("validation-cache", false, "cache validated access tokens in this instance, kept honest by the store's change feed (memory, postgres, redis): a revocation made anywhere is refused here within 1s")
	if err := fs.Parse(args); errors.Is(err, flag.ErrHelp) {
		return 0
	} else if err != nil {
		return 2
	}
	local, err := localURL(*addr)
	if err != nil {
		fmt.Fprintf(stderr, "example: %v\n", err)
		return 2
	}
	if *issuer == "" {
		if *issuer, err = defaultIssuer(*addr, local); err != nil {
			fmt.Fprintf(stderr, "example: %v\n", err)
			return 2
		}
	}
	logger := slog.New(slog.NewTextHandler(stderr, nil))
	o := options{Issuer: *issuer, Logger: logger, AccessToken: *accessToken, DPoPNonce: *dpopNonce, Resources: resources, ValidationCache: *validationCache}
	if err := tun.check(); err != nil {
		fmt.Fprintf(stderr, "example: %v\n", err)
		return 2
	}
	o.Tuning = *tun
	mln, err := o.openMetrics(*metricsAddr) // metrics.go; nil when off
	if err != nil {
		fmt.Fprintf(stderr, "example: %v\n", err)
		return metricsExitStatus(err)
	}
	if mln != nil {
		defer mln.Close()
	}
	key, err := sessionKey()
	if err != nil {
		fmt.Fprintf(stderr, "example: %v\n", err)
		return 2
	}
	o.Secret = key
	if *clientsFile != "" {
		clients, err := loadClients(*clientsFile)
		if err != nil {
			fmt.Fprintf(stderr, "example: %v\n", err)
			return 2
		}
		o.Clients = clients
	}
	st, name, err := openTunedStore(ctx, *storeSpec, o.storeTuning())
	if err != nil {
		fmt.Fprintf(stderr, "example: %v\n", err)
		return exitStatus(err)
	}
	defer closeStore(st, logger)
	o.Store, o.StoreName = st, name
	if *clientStoreSpec != "" {
		cst, cname, err := openClientStore(ctx, *clientStoreSpec, o.storeTuning())
		if err != nil {
			fmt.Fprintf(stderr, "example: %v\n", err)
			return exitStatus(err)
		}
		defer closeStore(cst, logger)
		o.ClientStore, o.StoreName = cst, name+"; clients in "+cname
	}
	a, err := newApp(ctx, o)
	if err != nil {
		fmt.Fprintf(stderr, "example: %v\n", err)
		return 2
	}
	defer a.provider.Close() // stops the validation cache, if any
	srv := &http.Server{
		Addr:              *addr,
		Handler:           a.handler,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      10 * time.Second,
		IdleTimeout:       60 * time.Second,
		MaxHeaderBytes:    16 << 10,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	a.printBanner(ctx, stdout, *addr, local)
	if mln != nil {
		go serveMetrics(ctx, mln, o.Metrics, logger)
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.ListenAndServe() }()
	select {
	case err := <-errc:
		fmt.Fprintf(stderr, "example: %v\n", err)
		return 1
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil && !errors.Is(err, http.ErrServerClosed) {
		fmt.Fprintf(stderr, "example: shutdown: %v\n", err)
		return 1
	}
	return 0
}

// printBanner lists users, clients and routes, as the tutorial's app would;
// local is the URL of addr that curl can reach (localURL).
func (a *app) printBanner(ctx context.Context, w io.Writer, addr, local string) {
	where := local
	if local != "http://"+addr {
		where += ", listening on " + addr
	}
	fmt.Fprintf(w, "oauthkit example on %s (issuer %s)\n\nUsers:\n", where, a.provider.Issuer())
	for _, u := range demoUsers {
		fmt.Fprintf(w, "  %s / %s\n", u.name, u.password)
	}
	if a.storeName != "" {
		fmt.Fprintf(w, "\nStore: %s\n", a.storeName)
	}
	a.printTuning(w) // tuning.go
	fmt.Fprintln(w, "\nClients:")
	clients, err := a.store.Clients(ctx)
	if err != nil {
		fmt.Fprintf(w, "  (cannot list them: %v)\n", err)
	}
	for _, c := range clients {
		line := fmt.Sprintf("  %-16s %-20s grants=%s scope=%q", c.ID, c.AuthMethod, strings.Join(c.GrantTypes, ","), joinScopes(c.Scopes))
		if s, ok := a.secrets[c.ID]; ok {
			line += " secret=" + s
		} else if !c.Public() && !a.fromFile[c.ID] {
			line += " (secret shown at creation only)"
		}
		if len(c.RedirectURIs) > 0 {
			line += " redirect_uris=" + strings.Join(c.RedirectURIs, ",")
		}
		fmt.Fprintln(w, line)
	}
	fmt.Fprintln(w, "\nRoutes:")
	width := 0
	for _, r := range routeTable {
		width = max(width, len(r.pattern))
	}
	for _, r := range routeTable {
		fmt.Fprintf(w, "  %-*s %s\n", width, r.pattern, r.about)
	}
	fmt.Fprintf(w, "\nTry:\n  curl -X POST %s/login -H \"Content-Type: application/json\" -d '{\"username\": \"user1\", \"password\": \"password1\"}'\n", local)
	fmt.Fprintf(w, "  curl %s/api/data -H \"Authorization: Bearer <access_token>\"\n\n", local)
}

func joinScopes(s []string) string { return strings.Join(s, " ") }
