package main

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/jackc/pgx/v5"

	"passd/db/dbtest"
)

// TestLeanScriptStoresTheRowsOfSubmitSQL keeps the lean yardstick to its
// word: on its own schema, bench/submit_lean.sql stores per transaction
// one invoice, its 3 lines and its audit row with the values
// bench/submit.sql stores (TestLoadAndScriptStoreTheSameRows holds that
// one to passd's), so that the two yardsticks differ by the schema and the
// checks only.
func TestLeanScriptStoresTheRowsOfSubmitSQL(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := &env{ServerURL: dbtest.ServerURL(t), Pgbench: pgbenchBinary(t), WorkDir: t.TempDir(), Progress: t.Logf}
	db, err := e.leanDB(ctx, "../../bench/lean_schema.sql")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.dropDB(ctx, db) })
	fx := submitFixture{ProviderID: 7, ProviderUserID: 11, ProviderUser: benchProvider, FileNumbers: make([]string, 5),
		FilePrefix: "PASS-2026-", ProviderKind: benchProviderKind, TariffVersion: 1}
	pg, err := pgbenchRun{Bin: e.Pgbench, Script: "../../bench/submit_lean.sql", ConnURL: e.dbURL(db), Clients: 2, Count: 3,
		Vars: submitVars(fx, "2026-11-20"), LogPrefix: filepath.Join(e.WorkDir, "pgbench-lean")}.run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if pg.Transactions != 6 || pg.Latency.Count != 6 {
		t.Fatalf("pgbench: %+v", pg)
	}
	if err := checkInvoices(ctx, e.dbURL(db), 6); err != nil {
		t.Fatal(err)
	}
	conn, err := pgx.Connect(ctx, e.dbURL(db))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, `
		SELECT concat_ws(' | ', i.provider_id, i.patient_id BETWEEN 1 AND 5, i.care_date, i.deadline, i.total, i.status, i.created_by,
			coalesce(i.review_status, '-'), coalesce(i.review_reasons::text, '-'),
			(SELECT string_agg(concat_ws(',', l.position, l.code, l.label, l.quantity, l.unit_price, l.rate_class), ';' ORDER BY l.position)
			 FROM invoice_lines l WHERE l.invoice_id = i.id),
			(SELECT string_agg(concat_ws(',', a.actor_id, a.actor, a.action, a.entity, a.before IS NULL,
				(a.after - 'external_ref')::text, a.after->>'external_ref' = i.external_ref), ';')
			 FROM audit_log a WHERE a.entity = 'invoice' AND a.entity_id = i.id::text))
		FROM invoices i ORDER BY i.id`)
	if err != nil {
		t.Fatal(err)
	}
	stored, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	// What TestLoadAndScriptStoreTheSameRows logs as stored by both passd
	// and bench/submit.sql, for the columns the lean schema has.
	want := `7 | t | 2026-11-20 | 2027-02-18 | 52.75 | pending | 11 | - | - | ` +
		`1,3400930000007,Médicament,2,18.60,drug_65;2,HD,Honoraire de dispensation,2,1.02,drug_65;3,1131930,Dispositif médical,1,13.51,pharmacy | ` +
		`11,bench-provider,invoice.create,invoice,t,{"total": "52.75", "status": "pending", "deadline": "2027-02-18", "care_date": "2026-11-20", "provider_id": "7"},t`
	for _, s := range stored {
		if s != want {
			t.Fatalf("the lean script stores\n %s\nwant\n %s", s, want)
		}
	}
}
