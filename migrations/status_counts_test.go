package migrations_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"passd/db"
	"passd/db/dbtest"
	"passd/migrations"
)

// The rows every status_counts test starts from: a provider, a user and a
// patient file (sealed as 00003 wants, or pending sealing, which any
// schema version takes).
const countsFixture = `
	INSERT INTO providers (id, kind, name, rpps, iban, bic) OVERRIDING SYSTEM VALUE
		VALUES (1, 'nurse', 'Cabinet', '10000000001', 'FR7630006000011234567890189', 'AGRIFRPP');
	INSERT INTO users (id, name, role) OVERRIDING SYSTEM VALUE VALUES (1, 'admin', 'admin');
	INSERT INTO patients (id, file_number, identity_pending) OVERRIDING SYSTEM VALUE VALUES (1, 'PASS-2026-000001', true);`

// invoiceRows inserts n pending invoices of 10.00, 20.00, … in one statement.
func invoiceRows(first, n int) string {
	return fmt.Sprintf(`
		INSERT INTO invoices (provider_id, patient_id, external_ref, care_date, deadline, total, created_by)
		SELECT 1, 1, 'R-' || i, '2026-01-05', '2026-04-05', i * 10.00, 1 FROM generate_series(%d, %d) AS i`, first, first+n-1)
}

// decide moves the pending invoices of the given refs to status, as the
// sweeps do: one statement.
func decide(status, reason, where string) string {
	split := "cpam_amount = 0, city_amount = total"
	switch status {
	case "released":
		split = "cpam_amount = total, city_amount = 0"
	case "cancelled":
		split = "cpam_amount = 0, city_amount = 0"
	}
	return fmt.Sprintf(`UPDATE invoices SET status = '%s', decision_reason = '%s', %s, decided_at = now() WHERE status = 'pending' AND %s`,
		status, reason, split, where)
}

// counted is what status_counts says, by "kind status": "n amount", with
// the empty statuses left out.
func counted(t *testing.T, q db.DBTX) map[string]string {
	t.Helper()
	return countsOf(t, q, `SELECT kind, status, sum(n)::bigint, sum(amount) FROM status_counts GROUP BY kind, status`)
}

// actual is the same, counted over the tables themselves.
func actual(t *testing.T, q db.DBTX) map[string]string {
	t.Helper()
	return countsOf(t, q, `
		SELECT 'invoice', status, count(*), sum(total) FROM invoices GROUP BY status
		UNION ALL
		SELECT 'payout', status, count(*), sum(amount) FROM payouts GROUP BY status`)
}

func countsOf(t *testing.T, q db.DBTX, sql string) map[string]string {
	t.Helper()
	rows, err := q.Query(context.Background(), sql)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	var kind, status, amount string
	var n int64
	_, err = pgx.ForEachRow(rows, []any{&kind, &status, &n, &amount}, func() error {
		if n != 0 {
			out[kind+" "+status] = fmt.Sprintf("%d %s", n, amount)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func wantCountsExact(t *testing.T, q db.DBTX, after string) {
	t.Helper()
	if got, want := counted(t, q), actual(t, q); !maps.Equal(got, want) {
		t.Errorf("after %s: status_counts says %v, the tables %v", after, got, want)
	}
}

func mustExec(t *testing.T, q db.DBTX, sql string) {
	t.Helper()
	if _, err := q.Exec(context.Background(), sql); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

// TestStatusCountsFollowEveryWrite: inserts, decisions in bulk, deletes
// and payouts moving into a batch keep status_counts equal to the tables;
// a statement rolled back leaves no trace.
func TestStatusCountsFollowEveryWrite(t *testing.T) {
	t.Parallel()
	_, owner := dbtest.NewOwner(t)
	ctx := context.Background()
	mustExec(t, owner, countsFixture)
	wantCountsExact(t, owner, "no invoice")

	mustExec(t, owner, invoiceRows(1, 40))
	wantCountsExact(t, owner, "40 invoices in one statement")
	for i := 41; i <= 45; i++ {
		mustExec(t, owner, invoiceRows(i, 1))
	}
	wantCountsExact(t, owner, "5 invoices one by one")

	mustExec(t, owner, decide("released", "rights_opened", "external_ref IN ('R-1', 'R-2', 'R-3')"))
	mustExec(t, owner, decide("city_due", "deadline_passed", "total > 300"))
	mustExec(t, owner, decide("cancelled", "voided", "external_ref = 'R-4'"))
	mustExec(t, owner, decide("cancelled", "voided", "false"))
	wantCountsExact(t, owner, "decisions")

	err := pgx.BeginFunc(ctx, owner, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, invoiceRows(100, 10)); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, decide("released", "rights_opened", "true")); err != nil {
			return err
		}
		return errors.New("roll back")
	})
	if err == nil || err.Error() != "roll back" {
		t.Fatal(err)
	}
	wantCountsExact(t, owner, "a transaction rolled back")

	mustExec(t, owner, `DELETE FROM invoices WHERE external_ref IN ('R-5', 'R-6')`)
	wantCountsExact(t, owner, "a delete")

	mustExec(t, owner, `
		INSERT INTO payouts (invoice_id, provider_id, amount, reason)
		SELECT id, provider_id, total, 'deadline_passed' FROM invoices WHERE status = 'city_due'`)
	wantCountsExact(t, owner, "payouts due")
	mustExec(t, owner, confirmedBanks)
	mustExec(t, owner, `
		WITH b AS (INSERT INTO payout_batches (payout_count, total, ceiling, created_at, creator)
		           VALUES (2, 630.00, 10000.00, now(), 'test') RETURNING id)
		UPDATE payouts SET status = 'batched', batch_id = (SELECT id FROM b)
		WHERE id IN (SELECT id FROM payouts ORDER BY id LIMIT 2)`)
	wantCountsExact(t, owner, "two payouts batched")

	got := counted(t, owner)
	if got["invoice pending"] == "" || got["invoice released"] != "3 60.00" || got["payout batched"] != "2 630.00" {
		t.Errorf("counts %v: the fixture did not reach every status it meant to", got)
	}
}

// TestCompactionKeepsTheSums: the application folds the deltas with
// status_counts_compact() and nothing else; it may append and read them,
// never change or remove one.
func TestCompactionKeepsTheSums(t *testing.T) {
	t.Parallel()
	app, owner := dbtest.NewOwner(t)
	ctx := context.Background()
	mustExec(t, owner, countsFixture)
	for i := 1; i <= 30; i++ {
		mustExec(t, app, invoiceRows(i, 1))
	}
	mustExec(t, app, decide("city_due", "deadline_passed", "total < 100"))
	before := counted(t, app)
	var deltas int64
	if err := app.QueryRow(ctx, `SELECT count(*) FROM status_counts`).Scan(&deltas); err != nil {
		t.Fatal(err)
	}

	var folded int64
	if err := app.QueryRow(ctx, `SELECT status_counts_compact()`).Scan(&folded); err != nil {
		t.Fatalf("the application compacts: %v", err)
	}
	if folded != deltas {
		t.Errorf("compaction folded %d rows, want the %d there were", folded, deltas)
	}
	var rows int64
	if err := app.QueryRow(ctx, `SELECT count(*) FROM status_counts`).Scan(&rows); err != nil {
		t.Fatal(err)
	}
	// One row per status of each kind: 4 of invoices, 4 of payouts.
	if rows != 8 {
		t.Errorf("%d rows after compaction, want 8", rows)
	}
	if after := counted(t, app); !maps.Equal(before, after) {
		t.Errorf("compaction changed the counts: %v, then %v", before, after)
	}
	wantCountsExact(t, app, "compaction")

	for _, sql := range []string{`UPDATE status_counts SET n = n + 1`, `DELETE FROM status_counts`, `TRUNCATE status_counts`} {
		_, err := app.Exec(ctx, sql)
		var pgErr *pgconn.PgError
		if !errors.As(err, &pgErr) || pgErr.Code != "42501" {
			t.Errorf("%s as the application: %v, want permission denied (42501)", sql, err)
		}
	}
}

// TestCompactionsAtOnceLoseNothing: two sessions compacting while others
// append never change a sum: each compaction moves only the rows its
// snapshot sees, and a second one at the same moment steps aside.
func TestCompactionsAtOnceLoseNothing(t *testing.T) {
	t.Parallel()
	app, owner := dbtest.NewOwner(t)
	ctx := context.Background()
	mustExec(t, owner, countsFixture)
	const writers, each = 4, 25
	errs := make(chan error, writers+2)
	for w := range writers {
		go func() {
			for i := range each {
				if _, err := app.Exec(ctx, invoiceRows(1000*(w+1)+i, 1)); err != nil {
					errs <- err
					return
				}
			}
			errs <- nil
		}()
	}
	for range 2 {
		go func() {
			for range each {
				if _, err := app.Exec(ctx, `SELECT status_counts_compact()`); err != nil {
					errs <- err
					return
				}
			}
			errs <- nil
		}()
	}
	for range writers + 2 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	wantCountsExact(t, app, "appends and compactions at once")
	if got := counted(t, app)["invoice pending"]; got[:4] != "100 " {
		t.Errorf("pending = %q, want 100 invoices", got)
	}
}

// TestMigratingCountsTheRowsAlreadyThere: on a database filled before
// 00006, the counts start from the rows there, every status present.
func TestMigratingCountsTheRowsAlreadyThere(t *testing.T) {
	t.Parallel()
	url := dbtest.NewEmptyURL(t)
	ctx := context.Background()
	owner := dbtest.Owner(t, url)
	if _, err := migrations.UpTo(ctx, owner, 5); err != nil {
		t.Fatal(err)
	}
	mustExec(t, owner, countsFixture)
	mustExec(t, owner, invoiceRows(1, 12))
	mustExec(t, owner, decide("city_due", "rights_refused", "total <= 30"))
	mustExec(t, owner, `
		INSERT INTO payouts (invoice_id, provider_id, amount, reason)
		SELECT id, provider_id, total, 'rights_refused' FROM invoices WHERE status = 'city_due'`)
	if _, err := migrations.Up(ctx, owner); err != nil {
		t.Fatal(err)
	}
	wantCountsExact(t, owner, "the migration")
	got := counted(t, owner)
	if got["invoice pending"] != "9 720.00" || got["invoice city_due"] != "3 60.00" || got["payout due"] != "3 60.00" {
		t.Errorf("counts after migrating: %v", got)
	}
	var statuses int64
	if err := owner.QueryRow(ctx, `SELECT count(DISTINCT (kind, status)) FROM status_counts`).Scan(&statuses); err != nil {
		t.Fatal(err)
	}
	if statuses != 8 {
		t.Errorf("%d statuses have a row, want all 8 (zero included)", statuses)
	}
	// And the triggers count what follows.
	app := dbtest.App(t, url)
	mustExec(t, app, invoiceRows(50, 3))
	wantCountsExact(t, app, "inserts after the migration")
}
