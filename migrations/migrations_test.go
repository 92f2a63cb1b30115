package migrations_test

import (
	"context"
	"testing"

	"passd/db/dbtest"
	"passd/migrations"
)

func TestCurrentSeesTheNewestEmbeddedVersion(t *testing.T) {
	t.Parallel()
	if migrations.Latest < 1 {
		t.Fatalf("Latest = %d, want the newest file's number", migrations.Latest)
	}
	// The application reads the migrations' record; only the owner, who
	// applies migrations, may write it.
	pool, owner := dbtest.NewOwner(t)
	ctx := context.Background()
	if ok, err := migrations.Current(ctx, pool.Pool); err != nil || !ok {
		t.Fatalf("Current on a migrated database = %v, %v", ok, err)
	}
	if _, err := owner.Exec(ctx, `DELETE FROM goose_db_version WHERE version_id = $1`, migrations.Latest); err != nil {
		t.Fatal(err)
	}
	if ok, err := migrations.Current(ctx, pool.Pool); err != nil || ok {
		t.Fatalf("Current one version behind = %v, %v; want false", ok, err)
	}
}
