package migrations_test

import (
	"context"
	"testing"

	"passd/audit"
	"passd/db"
	"passd/db/dbtest"
	"passd/migrations"
)

// TestMigratingAPopulatedLogChainsItsRows fills the audit log of a schema
// older than the chain, then migrates: the rows written before are
// chained in id order, and appends after the migration continue the chain.
func TestMigratingAPopulatedLogChainsItsRows(t *testing.T) {
	t.Parallel()
	url := dbtest.NewEmptyURL(t)
	ctx := context.Background()
	owner := dbtest.Owner(t, url)
	if _, err := migrations.UpTo(ctx, owner, 3); err != nil {
		t.Fatal(err)
	}
	// Ids out of insertion order and unusual content, written as 00001 did.
	if _, err := owner.Exec(ctx, `
		INSERT INTO audit_log (id, at, actor, action, entity, entity_id, before, after) OVERRIDING SYSTEM VALUE VALUES
			(30, '2026-01-02 03:04:05.123456+01', 'seed-demo', 'provider.create', 'provider', '1', NULL, '{"name": "Cabinet \"Léo\"\n"}'),
			(10, '2025-12-31 23:59:59+00', 'cli', 'user.create', 'user', '1', NULL, NULL),
			(20, '2026-01-01 00:00:00+00', 'job:release', 'invoice.decide', 'invoice', '7', '{"status": "pending"}', 'null')`); err != nil {
		t.Fatal(err)
	}
	if _, err := migrations.Up(ctx, owner); err != nil {
		t.Fatal(err)
	}
	app, err := db.OpenAs(ctx, url, dbtest.Role())
	if err != nil {
		t.Fatal(err)
	}
	defer app.Close()
	report, err := audit.Verify(ctx, app)
	if err != nil || !report.OK() || report.Rows != 3 || report.HeadSeq != 3 {
		t.Fatalf("after migrating: %+v, %v; want an intact chain of the 3 rows", report, err)
	}
	var order []int64
	rows, err := app.Query(ctx, `SELECT id FROM audit_log ORDER BY chain_seq`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		order = append(order, id)
	}
	if len(order) != 3 || order[0] != 10 || order[1] != 20 || order[2] != 30 {
		t.Fatalf("chained in the order %v, want ids 10, 20, 30", order)
	}
	if err := audit.Append(ctx, app, audit.Entry{Actor: audit.Job("release"), Action: "invoice.decide", Entity: "invoice", EntityID: "8"}); err != nil {
		t.Fatal(err)
	}
	if report, err := audit.Verify(ctx, app); err != nil || !report.OK() || report.Rows != 4 || report.HeadSeq != 4 {
		t.Fatalf("after an append: %+v, %v", report, err)
	}
}
