package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/oauthkit/oauthkit/grant"
	"github.com/oauthkit/oauthkit/store"
)

// clientsUsage is the help of the clients command.
const clientsUsage = `usage: example clients <command> [flags] -store STORE [-client-store STORE]

Registers and removes OAuth clients in a persistent store (sqlite:PATH,
postgres://…, redis://…, redis+cluster://…), the one the server runs
with; in -client-store when the server has one (delete then revokes the
client's tokens in -store).

commands:
  create --id ID [--redirect-uri URI]... [--grant-type GT]... [--scope "a b"]
         [--public] [--name NAME] [--auth-method client_secret_basic|client_secret_post]
         registers a client; a confidential client's secret is printed once
  list   lists the registered clients
  delete --id ID
         removes a client and revokes every token issued to it
`

// listFlag is a repeatable string flag.
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, " ") }

func (l *listFlag) Set(v string) error {
	*l = append(*l, v)
	return nil
}

// runClients is `example clients …`; it returns the exit status: 0, 1 when
// the store fails, 2 for bad input.
func runClients(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, clientsUsage)
		return 2
	}
	if args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(stdout, clientsUsage)
		return 0
	}
	cmd, args := args[0], args[1:]
	fs := flag.NewFlagSet("example clients "+cmd, flag.ContinueOnError)
	fs.SetOutput(stderr)
	spec := fs.String("store", defaultStore(), storeUsage)
	clientSpec := fs.String("client-store", "", clientStoreUsage)
	var c clientFlags
	switch cmd {
	case "create":
		c.define(fs)
	case "delete":
		fs.StringVar(&c.id, "id", "", "client ID (required)")
	case "list":
	default:
		fmt.Fprintf(stderr, "example clients: unknown command %q\n\n%s", cmd, clientsUsage)
		return 2
	}
	if err := fs.Parse(args); errors.Is(err, flag.ErrHelp) {
		return 0
	} else if err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "example clients %s: unexpected argument %q (quote a value with spaces; repeat a flag for several values)\n", cmd, fs.Arg(0))
		return 2
	}
	fail := func(status int, err error) int {
		fmt.Fprintf(stderr, "example clients %s: %v\n", cmd, err)
		return status
	}
	var client *store.Client
	if cmd == "create" {
		var err error
		if client, err = c.client(); err != nil {
			return fail(2, err)
		}
	}
	if cmd == "delete" && c.id == "" {
		return fail(2, errors.New("--id is required"))
	}
	if *spec == "" || *spec == "memory" {
		return fail(2, errors.New("-store memory keeps nothing after this command: give the server's store (sqlite:PATH, postgres://… or redis://…)"))
	}
	st, _, err := openStore(ctx, *spec)
	if err != nil {
		return fail(exitStatus(err), err)
	}
	defer func() {
		if err := st.Close(); err != nil {
			fmt.Fprintf(stderr, "example clients: closing the store: %v\n", err)
		}
	}()
	clients := st
	if *clientSpec != "" {
		if clients, _, err = openClientStore(ctx, *clientSpec, storeTuning{}); err != nil {
			return fail(exitStatus(err), err)
		}
		defer func() {
			if err := clients.Close(); err != nil {
				fmt.Fprintf(stderr, "example clients: closing the client store: %v\n", err)
			}
		}()
	}
	switch cmd {
	case "create":
		err = createClient(ctx, clients, client, stdout)
	case "list":
		err = listClients(ctx, clients, stdout)
	case "delete":
		err = deleteClient(ctx, clients, st, c.id, stdout)
	}
	switch {
	case errors.Is(err, store.ErrInvalidClient):
		return fail(2, errors.New(describe(err)))
	case errors.Is(err, errBadClient):
		return fail(2, err)
	case err != nil:
		return fail(1, err)
	}
	return 0
}

// errBadClient marks errors in what the user asked for, found only once the
// store is open (a client ID that is taken or unknown).
var errBadClient = errors.New("bad client")

// clientFlags are the flags of clients create and delete.
type clientFlags struct {
	id, name, scope, method string
	public                  bool
	redirectURIs, grants    listFlag
}

func (c *clientFlags) define(fs *flag.FlagSet) {
	fs.StringVar(&c.id, "id", "", "client ID (required): up to 128 bytes of printable characters, no spaces (an https URL is fine)")
	fs.StringVar(&c.name, "name", "", "name shown on the consent page (default the ID)")
	fs.Var(&c.redirectURIs, "redirect-uri", "a redirect URI, matched exactly (repeatable; required for authorization_code)")
	fs.Var(&c.grants, "grant-type", "authorization_code, client_credentials, refresh_token or password (repeatable; default authorization_code)")
	fs.StringVar(&c.scope, "scope", "", `the scopes the client may ask for, space-separated: "read write"`)
	fs.BoolVar(&c.public, "public", false, "a public client (browser or native app): no secret, PKCE instead")
	fs.StringVar(&c.method, "auth-method", "", "client_secret_basic (default) or client_secret_post; not with --public")
}

// client turns the flags into a client; grant.RegisterClient (in
// createClient) fills the defaults, generates a confidential client's
// secret and applies store.Client.Validate, as for every client.
func (c *clientFlags) client() (*store.Client, error) {
	switch {
	case c.id == loginClientID:
		return nil, fmt.Errorf("client ID %q is reserved for the example's POST /login", loginClientID)
	case c.public && c.method != "" && c.method != store.AuthNone:
		return nil, fmt.Errorf("--public and --auth-method %s contradict each other: a public client has no secret", c.method)
	case c.method == store.AuthNone:
		return nil, errors.New("--auth-method none: use --public")
	case c.method == store.AuthPrivateKeyJWT:
		return nil, errors.New("--auth-method private_key_jwt is not supported here: give the client's keys (jwks or jwks_uri) in a -clients file")
	case c.method != "" && c.method != store.AuthSecretBasic && c.method != store.AuthSecretPost:
		return nil, fmt.Errorf("--auth-method %q is not supported (client_secret_basic, client_secret_post)", c.method)
	}
	cl := &store.Client{
		ID: c.id, Name: c.name, AuthMethod: c.method,
		RedirectURIs: c.redirectURIs, GrantTypes: c.grants, Scopes: strings.Fields(c.scope),
	}
	if c.public {
		cl.AuthMethod = store.AuthNone
	}
	return cl, nil
}

// createClient registers c and prints its secret, once.
func createClient(ctx context.Context, st backend, c *store.Client, w io.Writer) error {
	secret, err := grant.RegisterClient(ctx, st, c)
	if errors.Is(err, store.ErrExists) {
		return fmt.Errorf("%w: client %q is already registered (delete it first to replace it)", errBadClient, c.ID)
	} else if err != nil {
		return err
	}
	fmt.Fprintf(w, "client_id:     %s\n", c.ID)
	if secret != "" {
		fmt.Fprintf(w, "client_secret: %s\n", secret)
		fmt.Fprintln(w, "\nStore the secret now: only its hash is kept, it cannot be shown again.")
	} else {
		fmt.Fprintln(w, "a public client: no secret (PKCE S256 in the authorization code flow)")
	}
	return nil
}

// listClients prints the registered clients, one a line.
func listClients(ctx context.Context, st backend, w io.Writer) error {
	clients, err := st.Clients(ctx)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tAUTH METHOD\tGRANT TYPES\tSCOPE\tREDIRECT URIS\tCREATED")
	for _, c := range clients {
		created := "-"
		if !c.CreatedAt.IsZero() {
			created = c.CreatedAt.UTC().Format("2006-01-02 15:04:05Z")
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", c.ID, c.AuthMethod, orDash(strings.Join(c.GrantTypes, ",")),
			orDash(joinScopes(c.Scopes)), orDash(strings.Join(c.RedirectURIs, ",")), created)
	}
	return tw.Flush()
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// deleteClient removes the client id from st, then revokes every token
// issued to it in tokens (st itself, unless -client-store): deleted first,
// it can be issued no new one meanwhile. For an unknown
// ID it still revokes (a no-op unless an earlier delete failed to), so that
// running delete again finishes an interrupted one.
func deleteClient(ctx context.Context, st store.ClientRegistry, tokens store.TokenStore, id string, w io.Writer) error {
	_, err := st.Client(ctx, id)
	switch {
	case errors.Is(err, store.ErrNotFound):
		if err := tokens.RevokeClient(ctx, id); err != nil {
			return err
		}
		return fmt.Errorf("%w: no client %q", errBadClient, id)
	case err != nil:
		return err
	}
	if err := st.DeleteClient(ctx, id); err != nil {
		return err
	}
	fmt.Fprintf(w, "deleted client %s\n", id)
	if err := tokens.RevokeClient(ctx, id); err != nil {
		return fmt.Errorf("revoking the tokens of client %q (deleted; run delete again to retry): %w", id, err)
	}
	fmt.Fprintln(w, "Every token issued to it is revoked: its access tokens are refused from now on, and it can no longer authenticate or refresh.")
	return nil
}
