package main

import (
	"context"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"passd/audit"
	"passd/billing"
	"passd/calendar"
	"passd/claims"
	"passd/db"
	"passd/db/dbtest"
	"passd/ident"
	"passd/journal"
	"passd/keyring/keyringtest"
)

// TestRawSweepMatchesTheJobs is what makes the benchmark's yardstick
// trustworthy: on two copies of one seeded database, the job run through
// billing's store and rawSweep's one statement must leave the same
// invoices, claims, payouts, journal and audit rows, to the cent.
func TestRawSweepMatchesTheJobs(t *testing.T) {
	cases := []struct {
		name, job string
		n, opened int
		// renewals adds to the seed the decisions a file gathers over
		// time (addRenewals); the count of decisions is then only
		// bounded below by the world's.
		renewals bool
		// day seeds an ordinary day (worldShape.day), two invoices per
		// patient, instead of a backlog: every decided invoice is released.
		day bool
		// outcomes that must occur, as summary keys
		want []string
	}{
		{name: "deadline without rights", job: "deadline", n: 1000, opened: 0, want: []string{
			"invoices city_due deadline_passed", "payouts deadline_passed due"}},
		{name: "deadline", job: "deadline", n: 2000, opened: 200, want: []string{
			"invoices released rights_opened", "invoices city_due deadline_passed", "invoices city_due prescribed",
			"claims queued", "payouts ticket_moderateur due", "payouts deadline_passed due", "payouts prescribed due"}},
		{name: "release", job: "release", n: 2000, opened: 200, want: []string{
			"invoices released rights_opened", "invoices city_due deadline_passed", "invoices city_due not_covered",
			"invoices city_due prescribed", "invoices city_due rights_refused",
			"claims queued", "payouts ticket_moderateur due", "payouts deadline_passed due", "payouts not_covered due",
			"payouts prescribed due", "payouts rights_refused due",
			// Rights decided after some invoices' deadline: decided
			// deadline_passed, then again, the CPAM's share claimed back.
			"claims kind recovery", "payouts deadline_passed cancelled"}},
		{name: "release with renewals", job: "release", n: 2000, opened: 200, renewals: true, want: []string{
			"invoices released rights_opened", "invoices city_due deadline_passed", "invoices city_due not_covered",
			"invoices city_due prescribed", "invoices city_due rights_refused",
			"claims by period puma", "claims by period puma_css", "claims by period ame",
			// A renewal decided after the deadline moves released invoices
			// to its period: their first claim and payout are cancelled.
			"claims cancelled", "payouts ticket_moderateur cancelled"}},
		{name: "release on an ordinary day", job: "release", n: 2000, opened: 30, day: true, want: []string{
			"invoices released rights_opened", "claims by period puma", "claims by period puma_css", "claims by period ame",
			"payouts ticket_moderateur due"}},
		{name: "deadline with renewals", job: "deadline", n: 2000, opened: 200, renewals: true, want: []string{
			"invoices released rights_opened", "invoices city_due deadline_passed", "invoices city_due prescribed",
			"claims by period puma", "claims by period puma_css"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			a := dbtest.NewURL(t)
			shape := backlog(tc.n, tc.opened)
			if tc.day {
				shape.perPatient, shape.day = 2, true
			}
			expected, err := seedSweep(ctx, a, shape)
			if err != nil {
				t.Fatal(err)
			}
			w, err := newSweepWorld(time.Now(), shape)
			if err != nil {
				t.Fatal(err)
			}
			deadline, release := w.expected()
			// seedSweep's answer is for the bench's pairing: the deadline
			// job without rights, the release job with.
			if want := map[bool]int64{true: deadline, false: release}[tc.opened == 0]; expected != want {
				t.Fatalf("seedSweep expects %d decisions, the world says %d", expected, want)
			}
			wantDecided := map[string]int64{"deadline": deadline, "release": release}[tc.job]
			if tc.renewals {
				addRenewals(t, a)
			}
			b := cloneDatabase(t, a)

			decided := runJob(t, a, tc.job)
			raw, err := rawSweep(ctx, b, tc.job)
			if err != nil {
				t.Fatal(err)
			}
			// passd's count holds the invoices the release job decided
			// again besides the pending ones.
			if decided != raw.Decided+raw.Redecided || (tc.job == "deadline" && raw.Redecided != 0) {
				t.Errorf("decided: passd %d, raw SQL %d pending and %d again; want the same", decided, raw.Decided, raw.Redecided)
			}
			if tc.renewals {
				// The renewed files of patients who applied again are
				// brought up too, and some of their invoices decided.
				if (tc.job == "release" && raw.Decided <= wantDecided) || (tc.job == "deadline" && raw.Decided != wantDecided) {
					t.Errorf("decided: raw SQL %d pending; want for release more than %d, for deadline %[2]d", raw.Decided, wantDecided)
				}
			} else if raw.Decided != wantDecided {
				t.Errorf("decided: raw SQL %d pending; want %d", raw.Decided, wantDecided)
			}

			viaPassd, err := sweepSummary(ctx, a)
			if err != nil {
				t.Fatal(err)
			}
			viaSQL, err := sweepSummary(ctx, b)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(viaPassd, viaSQL); diff != "" {
				t.Errorf("summaries differ (-passd +raw SQL):\n%s", diff)
			}
			for _, key := range tc.want {
				if count(viaPassd[key]) == 0 {
					t.Errorf("no %q after the %s job: the seed must exercise it (summary: %v)", key, tc.job, viaPassd)
				}
			}
			if released := count(viaPassd["invoices released rights_opened"]); tc.day && (released != 2*int64(tc.opened) || raw.Redecided != 0) {
				t.Errorf("an ordinary day released %d invoices and decided %d again; want %d released, none again", released, raw.Redecided, 2*tc.opened)
			}
			if v := viaPassd["claims queued"]; tc.opened == 0 && v != "" {
				t.Errorf("claims queued = %s with no rights opened", v)
			}
			for _, check := range []string{"journal txns not two balanced lines", "journal lines off their invoice", "audit rows off their claim or payout"} {
				if viaPassd[check] != "0" {
					t.Errorf("%s: %s", check, viaPassd[check])
				}
			}
			for _, u := range []string{a, b} {
				assertUntouched(t, u, tc.job)
				assertBooks(t, u)
			}
		})
	}
}

// addRenewals gives the seeded files the history that one decision each
// does not have, so that the raw SQL is held to every branch of
// rights.InForce: by the opened decision's patient id modulo 4, a second
// period over the same dates of another regime, decided a day later
// (puma → puma_css, whose rate is larger; puma_css → puma, smaller; ame →
// puma_css, equal, so the later decision wins), or of the same regime with
// a new reference, decided at the same time (a tie: the later decision
// wins), or a period of puma_css covering every care date that was
// superseded (ignored). Patients who have applied without a decision yet
// hold an earlier puma period, from 1 000 days ago to 150 days ago,
// decided then: the release job brings them up by it.
func addRenewals(t *testing.T, u string) {
	t.Helper()
	ctx := context.Background()
	// A connection closed before the database is cloned.
	pool, err := pgx.Connect(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close(ctx)
	_, err = pool.Exec(ctx, `
		INSERT INTO rights_decisions (patient_id, decision, regime, effective_from, effective_to, reference, filed_on, decided_at)
		SELECT d.patient_id, 'opened',
		       CASE WHEN d.patient_id % 4 = 1 THEN d.regime WHEN d.regime = 'puma_css' THEN 'puma' ELSE 'puma_css' END,
		       d.effective_from, d.effective_to, d.reference || '-R', d.filed_on,
		       d.decided_at + CASE WHEN d.patient_id % 4 = 0 THEN interval '1 day' ELSE interval '0' END
		FROM rights_decisions d WHERE d.decision = 'opened' AND d.patient_id % 4 IN (0, 1)
		UNION ALL
		SELECT d.patient_id, 'opened', 'puma_css', now()::date - 3000, NULL, d.reference || '-X', d.filed_on, d.decided_at - interval '3000 days'
		FROM rights_decisions d WHERE d.decision = 'opened' AND d.patient_id % 4 = 2
		UNION ALL
		SELECT p.id, 'opened', 'puma', now()::date - 1000, now()::date - 150, 'CPAM-OLD-' || p.id, now()::date - 1030, now() - interval '1000 days'
		FROM patients p WHERE p.rights_status = 'requested'
		ORDER BY 1`)
	if err != nil {
		t.Fatalf("renewals: %v", err)
	}
	tag, err := pool.Exec(ctx, `
		UPDATE rights_decisions SET superseded_at = now(), correction_reason = 'saisie erronée'
		WHERE reference LIKE '%-X'`)
	if err != nil || tag.RowsAffected() == 0 {
		t.Fatalf("superseded renewals: %v (%d rows)", err, tag.RowsAffected())
	}
	// Each new decision told the release job, as claims.noteRightsChange does.
	_, err = pool.Exec(ctx, `
		INSERT INTO rights_changes (patient_id, changed_at)
		SELECT patient_id, max(decided_at) FROM rights_decisions WHERE reference LIKE '%-R' OR reference LIKE '%-X' OR reference LIKE 'CPAM-OLD-%'
		GROUP BY patient_id ORDER BY patient_id
		ON CONFLICT (patient_id) DO UPDATE SET seq = nextval('rights_changes_seq'), changed_at = EXCLUDED.changed_at`)
	if err != nil {
		t.Fatalf("renewals' changes: %v", err)
	}
}

// runJob runs job through billing's store on url, wired as cmd/passd wires
// it, as the application's role, with batches small enough to need many.
func runJob(t *testing.T, u, job string) int64 {
	t.Helper()
	ctx := context.Background()
	pool := openAs(t, u, dbtest.Role())
	cs := claims.NewStore(pool, keyringtest.New(t), time.Now)
	bs := billing.NewStore(pool, cs, billing.Config{Now: time.Now, BatchSize: 150})
	run := map[string]func(context.Context) (int64, error){"deadline": bs.DeadlineJob, "release": bs.ReleaseJob}[job]
	n, err := run(ctx)
	if err != nil {
		t.Fatalf("%s job: %v", job, err)
	}
	return n
}

// assertUntouched checks that a job decided only what it selects: the
// deadline job nothing before its deadline, the release job nothing of a
// patient whose rights are not decided (past its deadline or not).
func assertUntouched(t *testing.T, u, job string) {
	t.Helper()
	cond := map[string]string{
		"deadline": `i.deadline >= (now() AT TIME ZONE 'Europe/Paris')::date`,
		"release":  `pt.rights_status NOT IN ('opened', 'refused') AND NOT EXISTS (SELECT 1 FROM rights_decisions d WHERE d.patient_id = pt.id)`,
	}[job]
	pool := openAs(t, u, "")
	var decided, left int64
	err := pool.QueryRow(context.Background(), `
		SELECT count(*) FILTER (WHERE i.status <> 'pending'), count(*) FILTER (WHERE i.status = 'pending')
		FROM invoices i JOIN patients pt ON pt.id = i.patient_id WHERE `+cond).Scan(&decided, &left)
	if err != nil {
		t.Fatal(err)
	}
	if decided != 0 || left == 0 {
		t.Errorf("%s job: %d invoices it does not select were decided, %d left pending (want 0, and some)", job, decided, left)
	}
}

// assertBooks runs passd check's invariants and verifies the audit chain.
func assertBooks(t *testing.T, u string) {
	t.Helper()
	ctx := context.Background()
	pool := openAs(t, u, dbtest.Role())
	report, err := journal.Check(ctx, pool)
	if err != nil {
		t.Fatal(err)
	}
	if !report.OK {
		t.Errorf("invariants broken: %+v", report.Findings)
	}
	chain, err := audit.Verify(ctx, pool)
	if err != nil {
		t.Fatal(err)
	}
	if !chain.OK() {
		t.Errorf("audit chain broken: %+v", chain)
	}
}

func openAs(t *testing.T, u, role string) *pgxpool.Pool {
	t.Helper()
	pool, err := db.OpenAs(context.Background(), u, role)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return pool
}

// cloneDatabase copies the database at u (nobody may be connected to it)
// into a new one, dropped when the test ends, and returns its URL.
func cloneDatabase(t *testing.T, u string) string {
	t.Helper()
	ctx := context.Background()
	parsed, err := url.Parse(u)
	if err != nil {
		t.Fatal(err)
	}
	source := strings.TrimPrefix(parsed.Path, "/")
	clone := source + "_raw"
	admin, err := pgx.Connect(ctx, dbtest.ServerURL(t))
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(ctx)
	if _, err := admin.Exec(ctx, fmt.Sprintf("CREATE DATABASE %s TEMPLATE %s", pgx.Identifier{clone}.Sanitize(), pgx.Identifier{source}.Sanitize())); err != nil {
		t.Fatalf("clone %s: %v", source, err)
	}
	t.Cleanup(func() {
		conn, err := pgx.Connect(ctx, dbtest.ServerURL(t))
		if err != nil {
			t.Logf("drop %s: %v", clone, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, fmt.Sprintf("DROP DATABASE IF EXISTS %s WITH (FORCE)", pgx.Identifier{clone}.Sanitize())); err != nil {
			t.Logf("drop %s: %v", clone, err)
		}
	})
	parsed.Path = "/" + clone
	return parsed.String()
}

// count reads "count=N" from a summary value; 0 when absent.
func count(v string) int64 {
	for _, f := range strings.Fields(v) {
		if s, ok := strings.CutPrefix(f, "count="); ok {
			n, _ := strconv.ParseInt(s, 10, 64)
			return n
		}
	}
	return 0
}

// TestExpectedReleaseIsOneRun: the release job takes at most
// releaseChangesPerRun changes a run, so the seed expects only the
// invoices of the first decided patients' when there are more.
func TestExpectedReleaseIsOneRun(t *testing.T) {
	t.Parallel()
	// 60 000 patients of 5 invoices, 55 000 opened and 2 750 refused.
	w, err := newSweepWorld(time.Now(), backlog(300_000, 55_000))
	if err != nil {
		t.Fatal(err)
	}
	if _, release := w.expected(); release != releaseChangesPerRun*invoicesPerPatient {
		t.Errorf("release decides %d pending invoices, want %d: the first %d patients' changes", release,
			releaseChangesPerRun*invoicesPerPatient, releaseChangesPerRun)
	}
}

// TestSeedSweepShape checks what the benchmark relies on: half the
// invoices past their deadline today, the rights asked for, lines that add
// up to each total, providers whose identifiers passd would accept.
func TestSeedSweepShape(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	u := dbtest.NewURL(t)
	const n, opened = 1001, 60
	if _, err := seedSweep(ctx, u, backlog(n, opened)); err != nil {
		t.Fatal(err)
	}
	if _, err := seedSweep(ctx, u, backlog(n, opened)); err == nil {
		t.Error("a second seed into the same database was accepted")
	}
	pool := openAs(t, u, "")
	var past, invoices, patients, open, refused, offTotal, kinds int64
	err := pool.QueryRow(ctx, `
		SELECT (SELECT count(*) FILTER (WHERE deadline < (now() AT TIME ZONE 'Europe/Paris')::date) FROM invoices),
		       (SELECT count(*) FROM invoices WHERE status = 'pending'),
		       (SELECT count(*) FROM patients),
		       (SELECT count(*) FROM patients WHERE rights_status = 'opened'),
		       (SELECT count(*) FROM patients WHERE rights_status = 'refused'),
		       (SELECT count(*) FROM invoices i WHERE total <> (SELECT sum(quantity * unit_price) FROM invoice_lines l WHERE l.invoice_id = i.id)),
		       (SELECT count(DISTINCT kind) FROM providers)`).Scan(&past, &invoices, &patients, &open, &refused, &offTotal, &kinds)
	if err != nil {
		t.Fatal(err)
	}
	if past != (n+1)/2 || invoices != n || patients != (n+4)/5 || open != opened || refused != opened/20 || offTotal != 0 || kinds != 6 {
		t.Errorf("past deadline %d of %d pending, %d patients (%d opened, %d refused), %d totals off their lines, %d kinds",
			past, invoices, patients, open, refused, offTotal, kinds)
	}
	// One decision per decided file, saying what the file says, and noted
	// as a change; the next one passd records does not collide with a
	// seeded one.
	var decisions, offFile, changes int64
	err = pool.QueryRow(ctx, `
		SELECT (SELECT count(*) FROM rights_decisions),
		       (SELECT count(*) FROM rights_changes c JOIN rights_decisions d ON d.patient_id = c.patient_id AND d.id = c.seq
		        AND d.decided_at = c.changed_at),
		       (SELECT count(*) FROM patients p
		        LEFT JOIN rights_decisions d ON d.patient_id = p.id
		        WHERE p.rights_status IN ('opened', 'refused')
		          AND (d.id IS NULL OR (d.decision, d.regime, d.effective_from, d.effective_to, d.reference, d.reason, d.filed_on, d.decided_at)
		               IS DISTINCT FROM (p.rights_status, CASE WHEN p.rights_status = 'opened' THEN p.rights_regime END,
		                                 p.rights_effective_from, p.rights_effective_to, p.rights_reference, p.rights_reason,
		                                 p.rights_filed_on, p.rights_decided_at)))`).Scan(&decisions, &changes, &offFile)
	if err != nil {
		t.Fatal(err)
	}
	if decisions != open+refused || offFile != 0 || changes != decisions {
		t.Errorf("%d decisions for %d decided files, %d of them off their file, %d noted for the release job", decisions, open+refused, offFile, changes)
	}
	if _, err := pool.Exec(ctx, `INSERT INTO rights_decisions (patient_id, decision, reason, decided_at) VALUES (1, 'refused', 'test', now())`); err != nil {
		t.Errorf("a new decision after the seed: %v", err)
	}
	rows, err := pool.Query(ctx, `SELECT coalesce(rpps, ''), coalesce(finess, ''), iban, bic FROM providers`)
	if err != nil {
		t.Fatal(err)
	}
	var rpps, finess, iban, bic string
	if _, err := pgx.ForEachRow(rows, []any{&rpps, &finess, &iban, &bic}, func() error {
		if rpps != "" {
			if _, err := ident.ParseRPPS(rpps); err != nil {
				return err
			}
		} else if _, err := ident.ParseFINESS(finess); err != nil {
			return err
		}
		if _, err := ident.ParseIBAN(iban); err != nil {
			return fmt.Errorf("%s: %w", iban, err)
		}
		_, err := ident.ParseBIC(bic)
		return err
	}); err != nil {
		t.Error(err)
	}
	// The next file passd opens does not collide with a seeded one.
	cs := claims.NewStore(openAs(t, u, dbtest.Role()), keyringtest.New(t), time.Now)
	if _, err := cs.CreatePatient(ctx, audit.Actor{Name: "test"}, claims.NewPatient{LastName: "A", FirstName: "B", BirthDate: calendar.NewDate(1990, 1, 1)}); err != nil {
		t.Errorf("a new file after the seed: %v", err)
	}
}
