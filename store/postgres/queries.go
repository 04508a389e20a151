package postgres

import (
	"strings"

	"github.com/jackc/pgx/v5"
)

const (
	tokenCols = `hash, kind, family, client_id, subject, username, scopes, issued_at, expires_at, redirect_uri, code_challenge,
		audience, jkt, nonce, auth_time`
	clientCols = `id, secret_hash, name, redirect_uris, grant_types, scopes, auth_method, first_party, created_at, metadata`
)

// notifyIfAny ends a deletion WITH d AS (…): it announces the change
// ($3) on the channel ($2) if anything was deleted.
const notifyIfAny = ` SELECT pg_notify($2, $3) WHERE EXISTS (SELECT 1 FROM d)`

// queries holds every statement, with the schema filled in.
type queries struct {
	createToken, createLoneToken, token         string
	consumeToken, revokeToken                   string
	revokeFamily, deleteFamily, revokeClient    string
	createClient, updateClient, client, clients string
	deleteClient                                string
	cleanTokens, cleanFamilies, cleanAttempts   string
	chargeAttempt, attemptWait, refundAttempt   string
	resetAttempts, useOnce, cleanReplay         string
}

func newQueries(schema string) queries {
	sch := pgx.Identifier{schema}.Sanitize()
	r := strings.NewReplacer("T.", sch+".")
	return queries{
		// One statement: the upsert locks the family's row, so a concurrent
		// RevokeFamily either sees this token or makes this insert see
		// revoked = true.
		createToken: r.Replace(`WITH fam AS (
				INSERT INTO T.oauthkit_families AS f (name, expires_at) VALUES ($3, $9)
				ON CONFLICT (name) DO UPDATE SET expires_at = greatest(f.expires_at, excluded.expires_at)
				RETURNING revoked
			), ins AS (
				INSERT INTO T.oauthkit_tokens (` + tokenCols + `)
				SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15 FROM fam WHERE NOT fam.revoked
				ON CONFLICT (hash) DO NOTHING
				RETURNING 1
			)
			SELECT (SELECT revoked FROM fam), EXISTS (SELECT 1 FROM ins)`),
		// A token of no family joins none: no shared row for every
		// client_credentials token to queue on.
		createLoneToken: r.Replace(`INSERT INTO T.oauthkit_tokens (` + tokenCols + `)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
			ON CONFLICT (hash) DO NOTHING RETURNING false, true`),
		token: r.Replace(`SELECT ` + tokenCols + ` FROM T.oauthkit_tokens
			WHERE hash = $1 AND uses = 0 AND expires_at > $2`),
		consumeToken: r.Replace(`UPDATE T.oauthkit_tokens SET uses = uses + 1,
				consumed_at = CASE uses WHEN 0 THEN $2 ELSE consumed_at END
			WHERE hash = $1 AND expires_at > $2
			RETURNING uses, consumed_at, ` + tokenCols),
		// Each revocation that deletes a token announces it (pg_notify($2,
		// $3), changes.go) in the same statement: PostgreSQL delivers the
		// notification when, and only if, the deletion commits.
		revokeToken:  r.Replace(`WITH d AS (DELETE FROM T.oauthkit_tokens WHERE hash = $1 RETURNING 1)` + notifyIfAny),
		revokeFamily: r.Replace(`UPDATE T.oauthkit_families SET revoked = true WHERE name = $1`),
		deleteFamily: r.Replace(`WITH d AS (DELETE FROM T.oauthkit_tokens WHERE family = $1 RETURNING 1)` + notifyIfAny),
		revokeClient: r.Replace(`WITH d AS (DELETE FROM T.oauthkit_tokens WHERE client_id = $1 RETURNING 1)` + notifyIfAny),
		createClient: r.Replace(`INSERT INTO T.oauthkit_clients (id, secret_hash, name, redirect_uris, grant_types, scopes,
			auth_method, first_party, metadata, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
			ON CONFLICT (id) DO NOTHING`),
		updateClient: r.Replace(`UPDATE T.oauthkit_clients SET secret_hash = $2, name = $3, redirect_uris = $4, grant_types = $5,
			scopes = $6, auth_method = $7, first_party = $8, metadata = $9 WHERE id = $1`),
		client:        r.Replace(`SELECT ` + clientCols + ` FROM T.oauthkit_clients WHERE id = $1`),
		clients:       r.Replace(`SELECT ` + clientCols + ` FROM T.oauthkit_clients ORDER BY id`),
		deleteClient:  r.Replace(`DELETE FROM T.oauthkit_clients WHERE id = $1`),
		cleanTokens:   r.Replace(`DELETE FROM T.oauthkit_tokens WHERE hash IN (SELECT hash FROM T.oauthkit_tokens WHERE expires_at <= $1 LIMIT $2)`),
		cleanAttempts: r.Replace(`DELETE FROM T.oauthkit_attempts WHERE key IN (SELECT key FROM T.oauthkit_attempts WHERE tat <= $1 LIMIT $2)`),
		// GCRA: tat is the theoretical arrival time (µs); an attempt is
		// within the limit when max(tat, now) + every <= now + burst·every.
		// A charge always moves tat on (beyond the limit, a debt); the
		// upsert locks the row, so concurrent charges are serialised.
		chargeAttempt: r.Replace(`INSERT INTO T.oauthkit_attempts AS a (key, tat) VALUES ($1, $2::bigint + $3::bigint)
			ON CONFLICT (key) DO UPDATE SET tat = greatest(a.tat, $2) + $3
			RETURNING greatest(tat - ($2 + $4), 0)`),
		attemptWait:   r.Replace(`SELECT greatest(greatest(tat, $2) + $3 - ($2 + $4), 0) FROM T.oauthkit_attempts WHERE key = $1`),
		refundAttempt: r.Replace(`UPDATE T.oauthkit_attempts SET tat = greatest(tat - $3, $2) WHERE key = $1 AND tat > $2`),
		resetAttempts: r.Replace(`DELETE FROM T.oauthkit_attempts WHERE key = $1`),
		// A first use inserts the key, or takes over a record whose time
		// has passed; a live record changes nothing. The upsert locks the
		// row, so of concurrent uses exactly one changes it.
		useOnce: r.Replace(`INSERT INTO T.oauthkit_replay AS r (key, until) VALUES ($1, $2)
			ON CONFLICT (key) DO UPDATE SET until = excluded.until WHERE r.until <= $3`),
		cleanReplay:   r.Replace(`DELETE FROM T.oauthkit_replay WHERE key IN (SELECT key FROM T.oauthkit_replay WHERE until <= $1 LIMIT $2)`),
		cleanFamilies: r.Replace(`DELETE FROM T.oauthkit_families WHERE name IN (SELECT name FROM T.oauthkit_families WHERE expires_at <= $1 LIMIT $2)`),
	}
}
