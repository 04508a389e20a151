package postgres

// Migrations are the schema's migrations, so that tests can build a schema
// as an older version of this package left it. {{.}} stands for the
// quoted schema name.
var Migrations = migrations[:]

// MaxConns is the size of s's pool.
func MaxConns(s *Store) int32 { return s.pool.Config().MaxConns }
