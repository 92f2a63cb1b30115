// Package dbtest gives each test its own PostgreSQL database, copied from a
// template that already carries the schema, so tests run with t.Parallel()
// against a real server and never see each other's rows.
//
// The server comes from TEST_DATABASE_URL (make test starts a throwaway
// cluster and sets it). Without it the tests fail: no test is skipped for
// want of a database.
//
// It imports db, migrations.
package dbtest
