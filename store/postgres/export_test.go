package postgres

// Migrations are the schema's migrations, so that tests can build a schema
// as an older version of this package left it. {{.}} stands for the
// quoted schema name.
var Migrations = migrations[:]
