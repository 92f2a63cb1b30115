package migrations_test

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"

	"passd/db/dbtest"
	"passd/migrations"
)

// TestEveryMigrationGoesDownAndUpAgain takes an empty database to the
// newest schema, then down one migration at a time to nothing (each Down
// followed by its Up and the Down again), and up once more. A city goes
// back by restoring its backup (docs/operations.md), but developers go
// down while they work and tests do (chain_test.go): a Down section that
// no longer runs is found here, not on the day it is needed.
func TestEveryMigrationGoesDownAndUpAgain(t *testing.T) {
	t.Parallel()
	url := dbtest.NewEmptyURL(t)
	ctx := context.Background()
	owner := dbtest.Owner(t, url)
	if _, err := migrations.Up(ctx, owner); err != nil {
		t.Fatal(err)
	}
	sqlDB := stdlib.OpenDBFromPool(owner)
	defer sqlDB.Close()
	p, err := goose.NewProvider(goose.DialectPostgres, sqlDB, migrations.FS())
	if err != nil {
		t.Fatal(err)
	}
	for v := migrations.Latest; v > 0; v-- {
		if _, err := p.Down(ctx); err != nil {
			t.Fatalf("down from %05d: %v", v, err)
		}
		// Each Down leaves the schema Up can build on again.
		if _, err := p.UpTo(ctx, v); err != nil {
			t.Fatalf("up to %05d again after its down: %v", v, err)
		}
		if _, err := p.Down(ctx); err != nil {
			t.Fatalf("down from %05d a second time: %v", v, err)
		}
	}
	// What the migrations made and Down forgot: relations (tables, views,
	// sequences, indexes), functions and types, beside goose's own record
	// and what belongs to an extension (00018's Down keeps pg_trgm, which
	// may have been there before).
	var left []string
	if err := owner.QueryRow(ctx, `SELECT coalesce(array_agg(name ORDER BY name), '{}') FROM (
		SELECT c.relname AS name, 'pg_class'::regclass AS catalog, c.oid FROM pg_class c
		WHERE c.relnamespace = 'public'::regnamespace AND c.relname NOT LIKE 'goose_db_version%'
		UNION ALL
		SELECT p.proname || '()', 'pg_proc'::regclass, p.oid FROM pg_proc p WHERE p.pronamespace = 'public'::regnamespace
		UNION ALL
		SELECT t.typname, 'pg_type'::regclass, t.oid FROM pg_type t
		WHERE t.typnamespace = 'public'::regnamespace AND t.typtype IN ('e', 'd', 'c') AND t.typrelid = 0) made
		WHERE NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = made.catalog AND d.objid = made.oid AND d.deptype = 'e')`).Scan(&left); err != nil {
		t.Fatal(err)
	}
	if len(left) > 0 {
		t.Errorf("after every Down, the schema still holds %v", left)
	}
	if _, err := migrations.Up(ctx, owner); err != nil {
		t.Fatalf("up again from nothing: %v", err)
	}
	if ok, err := migrations.Current(ctx, dbtest.App(t, url).Pool); err != nil || !ok {
		t.Fatalf("Current after the round trip = %v, %v", ok, err)
	}
}
