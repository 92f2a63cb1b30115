package main

import (
	"context"
	"maps"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"passd/billing"
	"passd/cmd/passd/passdtest"
	"passd/db/dbtest"
	"passd/keyring/keyringtest"
)

func TestMain(m *testing.M) { passdtest.Main(m) }

// pgbenchBinary finds pgbench as scripts/lib/pg.sh finds the server: in
// PATH, else in the highest /usr/lib/postgresql/*/bin.
func pgbenchBinary(t *testing.T) string {
	t.Helper()
	if p, err := exec.LookPath("pgbench"); err == nil {
		return p
	}
	found, _ := filepath.Glob("/usr/lib/postgresql/*/bin/pgbench")
	if len(found) == 0 {
		t.Fatal("pgbench not found in PATH or /usr/lib/postgresql/*/bin: install the PostgreSQL server package (Debian: postgresql)")
	}
	major := func(path string) int {
		n, _ := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(path))))
		return n
	}
	return slices.MaxFunc(found, func(a, b string) int { return major(a) - major(b) })
}

// TestLoadAndScriptStoreTheSameRows keeps bench/submit.sql honest: the
// load generator's invoices, through a real passd, and the script's, in
// pgbench on the same database, must be stored alike — the same lines and
// their rate classes, totals, deadline, review columns and audit row — so
// that when CreateInvoice changes what it writes, this fails until the
// script follows.
// benchDBURL is a fresh database's URL as the bench's own sessions use it
// (env.dbURL): acting in the bench's one convention.
func benchDBURL(t *testing.T) string {
	return withOption(dbtest.NewURL(t), "-c passd.tenant="+strconv.Itoa(benchConvention))
}

func TestLoadAndScriptStoreTheSameRows(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dbURL := benchDBURL(t)
	e := &env{ServerURL: dbtest.ServerURL(t), Passd: passdtest.Binary(t), Pgbench: pgbenchBinary(t), WorkDir: t.TempDir(),
		DataKey: keyringtest.Text(t), Progress: t.Logf}
	p, err := e.startPassd(ctx, "test", dbURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.kill)
	fx, err := seedSubmit(ctx, e, p, dbURL, 5)
	if err != nil {
		t.Fatal(err)
	}
	care := careDate(time.Now())

	lr, err := load{BaseURL: p.Base, Token: fx.ProviderToken, Clients: 2, Count: 3, FileNumbers: fx.FileNumbers,
		BirthDates: fx.BirthDates, CareDate: care, RefPrefix: "LG"}.run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// 2 warm-up invoices, then 3 each.
	if lr.Errors != 0 || lr.Created != 6 || lr.Latency.Count != 6 || lr.Statuses[201] != 6 {
		t.Fatalf("load: %+v", lr)
	}
	pg, err := pgbenchRun{Bin: e.Pgbench, Script: "../../bench/submit.sql", ConnURL: withRole(dbURL, "passd_app"),
		Clients: 2, Count: 4, Vars: submitVars(fx, care), LogPrefix: filepath.Join(e.WorkDir, "pgbench")}.run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if pg.Transactions != 8 || pg.Latency.Count != 8 {
		t.Fatalf("pgbench: %+v", pg)
	}
	if err := p.stop(); err != nil {
		t.Fatal(err)
	}
	if err := checkInvoices(ctx, dbURL, 16); err != nil {
		t.Fatal(err)
	}

	// Everything stored for an invoice, but what differs by nature: its id,
	// reference, patient and instant. The audit row's document is compared
	// whole, its reference checked against the invoice's.
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, `
		SELECT i.external_ref LIKE 'PGB-%' AS by_pgbench,
			concat_ws(' | ', i.provider_id, i.care_date, i.deadline, i.total, i.status, i.created_by,
				i.decision_reason IS NULL, i.cpam_amount IS NULL, i.city_amount IS NULL, i.decided_at IS NULL,
				coalesce(i.review_status, '-'), coalesce(i.review_reasons::text, '-'), i.reviewed_at IS NULL, i.reviewed_by IS NULL,
				(SELECT string_agg(concat_ws(',', l.position, l.code, l.label, l.quantity, l.unit_price, l.rate_class), ';' ORDER BY l.position)
				 FROM invoice_lines l WHERE l.invoice_id = i.id),
				(SELECT string_agg(concat_ws(',', a.actor_id, a.actor, a.action, a.entity, a.before IS NULL,
					(a.after - 'external_ref')::text, a.after->>'external_ref' = i.external_ref), ';')
				 FROM audit_log a WHERE a.entity = 'invoice' AND a.entity_id = i.id::text)) AS stored
		FROM invoices i ORDER BY i.id`)
	if err != nil {
		t.Fatal(err)
	}
	stored := map[bool]map[string]int{true: {}, false: {}}
	for rows.Next() {
		var byPgbench bool
		var s string
		if err := rows.Scan(&byPgbench, &s); err != nil {
			t.Fatal(err)
		}
		stored[byPgbench][s]++
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if len(stored[false]) != 1 || len(stored[true]) != 1 {
		t.Fatalf("the invoices are not stored alike within a side:\npassd %v\npgbench %v", stored[false], stored[true])
	}
	for s := range stored[false] {
		if stored[true][s] != 8 {
			t.Fatalf("submit.sql stores an invoice differently from passd:\npassd   %s\npgbench %v", s, stored[true])
		}
		t.Logf("both store: %s", s)
	}

	// The tariff's guard: priced with a tariff or a provider's kind that is
	// no longer the database's, the script stores nothing, as passd's
	// statement does (passd then prices again).
	for _, stale := range []map[string]string{
		{"tariff_version": strconv.FormatInt(fx.TariffVersion+1, 10)},
		{"provider_kind": billing.KindNurse},
	} {
		vars := submitVars(fx, care)
		maps.Copy(vars, stale)
		pg, err := pgbenchRun{Bin: e.Pgbench, Script: "../../bench/submit.sql", ConnURL: withRole(dbURL, "passd_app"),
			Clients: 1, Count: 1, Vars: vars, LogPrefix: filepath.Join(e.WorkDir, "pgbench-stale")}.run(ctx)
		if err != nil || pg.Transactions != 1 {
			t.Fatalf("pgbench with %v: %+v, %v", stale, pg, err)
		}
	}
	if err := checkInvoices(ctx, dbURL, 16); err != nil {
		t.Fatalf("with a stale tariff or kind: %v", err)
	}
}
