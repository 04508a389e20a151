package sqlite

// Migrations are the schema's migrations, so that tests can build a
// database as an older version of this package left it.
var Migrations = migrations[:]
