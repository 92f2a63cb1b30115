// Package migrations holds passd's schema as numbered SQL files, embedded in
// the binary and applied by goose under a PostgreSQL advisory lock so that
// several passd processes starting at once apply each file exactly once.
//
// It imports nothing of passd.
package migrations
