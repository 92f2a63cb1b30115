package migrations_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"

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
	app := dbtest.App(t, url)
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
	if report, err := audit.Verify(ctx, app); err != nil || !report.OK() || report.Rows != 3 || report.Pending != 1 {
		t.Fatalf("after an append: %+v, %v; want the 3 rows chained and 1 pending", report, err)
	}
	if n, err := audit.SealPending(ctx, app, audit.SealBatch); err != nil || n != 1 {
		t.Fatalf("seal: %d, %v", n, err)
	}
	if report, err := audit.Verify(ctx, app); err != nil || !report.OK() || report.Rows != 4 || report.HeadSeq != 4 || report.Pending != 0 {
		t.Fatalf("after an append and its seal: %+v, %v", report, err)
	}
}

// TestDeferredSealingContinuesTheChainOf00004 migrates a log chained at
// insert (00004) to deferred sealing: its rows stay as they were, the
// sealer chains the new ones after them; and back down, every row is
// sealed first and chaining at insert resumes. The schema before 00021 has
// no conventions, which today's audit.Verify reads: on the older schemas
// the test reads the chain's columns itself, and verifies on today's.
func TestDeferredSealingContinuesTheChainOf00004(t *testing.T) {
	t.Parallel()
	url := dbtest.NewEmptyURL(t)
	ctx := context.Background()
	owner := dbtest.Owner(t, url)
	if _, err := migrations.UpTo(ctx, owner, sealVersion-1); err != nil {
		t.Fatal(err)
	}
	raw, err := db.OpenAs(ctx, url, dbtest.Role())
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	// Before 00021 the setting of a convention is a setting nobody reads.
	app := db.NewPool(raw).Bind(dbtest.Convention)
	appendN := func(n int) {
		t.Helper()
		for i := range n {
			if err := audit.Append(ctx, app, audit.Entry{Actor: audit.Job("test"), Action: "test.append", Entity: "test", EntityID: fmt.Sprint(i),
				After: map[string]any{"i": i}}); err != nil {
				t.Fatal(err)
			}
		}
	}
	chain := func(when string, wantChained, wantPending int) {
		t.Helper()
		var chained, pending, gaps int
		if err := owner.QueryRow(ctx, `SELECT count(chain_seq), count(*) - count(chain_seq),
				count(*) FILTER (WHERE chain_seq IS NOT NULL AND chain_seq <> r) FROM (
				SELECT chain_seq, row_number() OVER (ORDER BY chain_seq) AS r FROM audit_log) l`).Scan(&chained, &pending, &gaps); err != nil {
			t.Fatal(err)
		}
		if chained != wantChained || pending != wantPending || gaps != 0 {
			t.Fatalf("%s: %d chained (%d out of sequence), %d pending; want %d and %d", when, chained, gaps, pending, wantChained, wantPending)
		}
	}
	appendN(3)
	var before [][]byte
	if err := owner.QueryRow(ctx, `SELECT array_agg(hash ORDER BY chain_seq) FROM audit_log`).Scan(&before); err != nil || len(before) != 3 {
		t.Fatalf("chained at insert under 00004: %d hashes, %v", len(before), err)
	}
	chain("under 00004", 3, 0)

	if _, err := migrations.UpTo(ctx, owner, sealVersion); err != nil {
		t.Fatal(err)
	}
	appendN(2)
	chain("after migrating and 2 appends", 3, 2)

	// Down: the pending rows are sealed before the chain columns are
	// required again; then rows are chained at insert again.
	sqlDB := stdlib.OpenDBFromPool(owner)
	defer sqlDB.Close()
	p, err := goose.NewProvider(goose.DialectPostgres, sqlDB, migrations.FS())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.DownTo(ctx, sealVersion-1); err != nil {
		t.Fatal(err)
	}
	chain("after migrating down", 5, 0)
	appendN(1)
	chain("after an append under 00004 again", 6, 0)

	// Up to today: the sealer chains the new rows after all of them.
	if _, err := migrations.Up(ctx, owner); err != nil {
		t.Fatal(err)
	}
	appendN(2)
	if report, err := audit.Verify(ctx, app); err != nil || !report.OK() || report.Rows != 6 || report.HeadSeq != 6 || report.Pending != 2 {
		t.Fatalf("today, after 2 appends: %+v, %v; want 6 chained, 2 pending", report, err)
	}
	if n, err := audit.SealPending(ctx, app, audit.SealBatch); err != nil || n != 2 {
		t.Fatalf("seal: %d, %v", n, err)
	}
	var after [][]byte
	if err := owner.QueryRow(ctx, `SELECT array_agg(hash ORDER BY chain_seq) FROM audit_log`).Scan(&after); err != nil || len(after) != 8 {
		t.Fatalf("after sealing: %d hashes, %v", len(after), err)
	}
	for i := range before {
		if !bytes.Equal(before[i], after[i]) {
			t.Errorf("row %d of 00004's chain changed its hash", i+1)
		}
	}
	if report, err := audit.Verify(ctx, app); err != nil || !report.OK() || report.Rows != 8 || report.HeadSeq != 8 || report.Pending != 0 {
		t.Fatalf("after sealing: %+v, %v; want an intact chain of 8", report, err)
	}
}

// sealVersion is the migration that defers sealing.
const sealVersion = 7

// TestTheAppendOnlyTriggerLetsOnlySealingThrough: even the owner, whom
// privileges do not stop, may update an audit row only to seal it (its
// chain columns from NULL to set, nothing else changed), and never delete
// one.
func TestTheAppendOnlyTriggerLetsOnlySealingThrough(t *testing.T) {
	t.Parallel()
	app, owner := dbtest.NewOwner(t)
	ctx := context.Background()
	for i := range 2 {
		if err := audit.Append(ctx, app, audit.Entry{Actor: audit.Job("test"), Action: "test.append", Entity: "test", EntityID: fmt.Sprint(i)}); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := audit.Seal(ctx, app, 1); err != nil || n != 1 {
		t.Fatalf("seal: %d, %v", n, err)
	}
	const seal = `chain_seq = 100, prev_hash = decode(repeat('00', 32), 'hex'), hash = decode(repeat('11', 32), 'hex')`
	for _, sql := range []string{
		`UPDATE audit_log SET actor = 'someone else' WHERE chain_seq = 1`,
		`UPDATE audit_log SET chain_seq = 100 WHERE chain_seq = 1`,
		`UPDATE audit_log SET chain_seq = NULL, prev_hash = NULL, hash = NULL WHERE chain_seq = 1`,
		`UPDATE audit_log SET ` + seal + `, actor = 'someone else' WHERE chain_seq IS NULL`,
		`UPDATE audit_log SET ` + seal + `, at = at + interval '1 second' WHERE chain_seq IS NULL`,
		`UPDATE audit_log SET ` + seal + `, after = '{}' WHERE chain_seq IS NULL`,
		`DELETE FROM audit_log WHERE chain_seq IS NULL`,
		`DELETE FROM audit_log WHERE chain_seq = 1`,
	} {
		_, err := owner.Exec(ctx, sql)
		var pgErr *pgconn.PgError
		if !errors.As(err, &pgErr) || pgErr.Code != "42501" || !strings.Contains(pgErr.Message, "append-only") {
			t.Errorf("%s as the owner: %v, want the append-only trigger's refusal", sql, err)
		}
	}
	// Half a seal breaks the table's rule.
	if _, err := owner.Exec(ctx, `UPDATE audit_log SET chain_seq = 100 WHERE chain_seq IS NULL`); err == nil {
		t.Error("a row with chain_seq but no hashes was accepted")
	}
	if tag, err := owner.Exec(ctx, `UPDATE audit_log SET `+seal+` WHERE chain_seq IS NULL`); err != nil || tag.RowsAffected() != 1 {
		t.Errorf("sealing as the owner: %v, %v; want the row sealed", tag, err)
	}
}
