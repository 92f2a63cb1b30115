package migrations

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
)

//go:embed *.sql
var files embed.FS

// FS returns the embedded migration files.
func FS() fs.FS { return files }

func provider(pool *pgxpool.Pool) (*goose.Provider, *sql.DB, error) {
	db := stdlib.OpenDBFromPool(pool)
	locker, err := lock.NewPostgresSessionLocker()
	if err != nil {
		db.Close()
		return nil, nil, fmt.Errorf("migrations: locker: %w", err)
	}
	p, err := goose.NewProvider(goose.DialectPostgres, db, files, goose.WithSessionLocker(locker))
	if err != nil {
		db.Close()
		return nil, nil, fmt.Errorf("migrations: %w", err)
	}
	return p, db, nil
}

// Up applies every pending migration and returns how many it applied.
func Up(ctx context.Context, pool *pgxpool.Pool) (int, error) {
	p, db, err := provider(pool)
	if err != nil {
		return 0, err
	}
	defer db.Close()
	results, err := p.Up(ctx)
	if err != nil {
		return len(results), fmt.Errorf("migrations: up: %w", err)
	}
	return len(results), nil
}

// UpTo applies the pending migrations up to and including version, for
// tests that fill an older schema before migrating it.
func UpTo(ctx context.Context, pool *pgxpool.Pool, version int64) (int, error) {
	p, db, err := provider(pool)
	if err != nil {
		return 0, err
	}
	defer db.Close()
	results, err := p.UpTo(ctx, version)
	if err != nil {
		return len(results), fmt.Errorf("migrations: up to %d: %w", version, err)
	}
	return len(results), nil
}

// Latest is the version of the newest embedded migration, read from the
// file names ("00001_spine.sql" is version 1).
var Latest = func() int64 {
	var latest int64
	names, _ := fs.Glob(files, "*.sql")
	for _, name := range names {
		prefix, _, _ := strings.Cut(name, "_")
		if v, err := strconv.ParseInt(prefix, 10, 64); err == nil && v > latest {
			latest = v
		}
	}
	return latest
}()

// Current reports whether the database schema is at the newest embedded
// version; the server refuses to serve on a schema that is behind. It is
// one small query, cheap enough for a readiness probe.
func Current(ctx context.Context, pool *pgxpool.Pool) (bool, error) {
	var version int64
	err := pool.QueryRow(ctx, `SELECT coalesce(max(version_id), 0) FROM goose_db_version WHERE is_applied`).Scan(&version)
	if err != nil {
		return false, fmt.Errorf("migrations: status: %w", err)
	}
	return version >= Latest, nil
}
