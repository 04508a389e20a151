package store

import "context"

// Exchanger is an optional capability of a [TokenStore]: consuming a
// single-use token and storing the tokens issued for it in one
// transaction, so that a store failure part way rolls the consumption back
// (the client's retry redeems the code or refresh token again) instead of
// burning the token with nothing issued. The Provider (package grant) uses
// it for the authorization code exchange and refresh token rotation when
// Config.Tokens has it; the SQLite, PostgreSQL and Redis backends do, and
// store/storetest checks it ([storetest.RunExchanger]). Detected by type
// assertion.
type Exchanger interface {
	// Exchange consumes the live token with hash h and creates every token
	// of issue, atomically: all of it happens, or none. On success it
	// returns the consumed token as ConsumeToken would. When h was already
	// consumed it returns the token (ConsumedAt set) with ErrConsumed, and
	// ErrNotFound when h is unknown, expired or revoked: nothing is created
	// then. When a token of issue would fail CreateToken (ErrRevoked, its
	// family revoked; ErrExists, its hash taken), Exchange returns that
	// error and h stays live and unconsumed. Any other error (the store
	// failed, ctx done) should leave everything as it was; a caller cannot
	// tell that apart from a commit whose answer was lost, and handles
	// both (the Provider's refresh retry finds the tokens a lost commit
	// stored).
	Exchange(ctx context.Context, h Hash, issue ...*Token) (Token, error)
}
