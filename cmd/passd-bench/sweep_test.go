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
	"passd/keyring"
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
		// rates adds changes to the rates' history (addRateChanges).
		rates bool
		// flag holds some pending invoices for review (flagForReview),
		// which neither side may decide.
		flag bool
		// day seeds an ordinary day (worldShape.day), two invoices per
		// patient, instead of a backlog: every decided invoice is released.
		day bool
		// outcomes that must occur, as summary keys
		want []string
	}{
		{name: "deadline without rights", job: "deadline", n: 1000, opened: 0, want: []string{
			"invoices city_due deadline_passed", "payouts deadline_passed due"}},
		{name: "deadline", job: "deadline", n: 2000, opened: 200, flag: true, want: []string{
			"invoices released rights_opened", "invoices city_due deadline_passed", "invoices city_due prescribed",
			"claims queued", "payouts ticket_moderateur due", "payouts deadline_passed due", "payouts prescribed due"}},
		{name: "release", job: "release", n: 2000, opened: 200, flag: true, want: []string{
			"invoices released rights_opened", "invoices city_due deadline_passed", "invoices city_due not_covered",
			"invoices city_due prescribed", "invoices city_due rights_refused",
			"claims queued", "payouts ticket_moderateur due", "payouts deadline_passed due", "payouts not_covered due",
			"payouts prescribed due", "payouts rights_refused due",
			// Rights decided after some invoices' deadline: decided
			// deadline_passed, then again, the CPAM's share claimed back.
			"claims kind recovery", "payouts deadline_passed cancelled"}},
		{name: "release with renewals", job: "release", n: 2000, opened: 200, renewals: true, rates: true, want: []string{
			"invoices released rights_opened", "invoices city_due deadline_passed", "invoices city_due not_covered",
			"invoices city_due prescribed", "invoices city_due rights_refused",
			"claims by period puma", "claims by period puma_css", "claims by period ame",
			// A renewal decided after the deadline moves released invoices
			// to its period: their first claim and payout are cancelled.
			"claims cancelled", "payouts ticket_moderateur cancelled"}},
		{name: "release on an ordinary day", job: "release", n: 2000, opened: 30, day: true, want: []string{
			"invoices released rights_opened", "claims by period puma", "claims by period puma_css", "claims by period ame",
			"payouts ticket_moderateur due"}},
		{name: "deadline with renewals", job: "deadline", n: 2000, opened: 200, renewals: true, rates: true, want: []string{
			"invoices released rights_opened", "invoices city_due deadline_passed", "invoices city_due prescribed",
			"claims by period puma", "claims by period puma_css"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			a := benchDBURL(t)
			shape := backlog(tc.n, tc.opened)
			if tc.day {
				shape.perPatient, shape.day = 2, true
			}
			// The keys passd runs with: its age rule opens the birth dates,
			// and so does the raw SQL's.
			keys := keyringtest.New(t)
			expected, err := seedSweep(ctx, a, shape, keys)
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
			if tc.rates {
				addRateChanges(t, a)
			}
			var flagged int64
			if tc.flag {
				var held int64
				flagged, held = flagForReview(t, a, tc.job)
				wantDecided -= held
			}
			b := cloneDatabase(t, a)

			decided := runJob(t, a, tc.job, keys)
			raw, err := rawSweep(ctx, b, tc.job, keys)
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
			if tc.flag {
				for _, u := range []string{a, b} {
					assertFlaggedPending(t, u, flagged)
				}
			}
			if tc.opened > 0 && !tc.day {
				assertLineRates(t, a, tc.job, tc.rates)
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

// addRateChanges gives the rates a history, so that the raw SQL is held
// to the rate in force on each care date (billing.RateBook.At), for a
// line's class and for the provider's kind that chooses between periods:
// puma_css pays a nurse's acts 50 % for care of the last 60 days, less
// than puma's 60 % (a nurse's invoice covered by both goes to puma, and a
// health centre's nurse act under puma_css is paid 50 %); puma pays a
// health centre's own acts 80 % for care of the last 150 days (the
// deadline job's invoices are older than 90); AME pays a minor's 15 %
// drugs 50 % for care of the last 45 days; and a change to come (GPs
// under puma, from 30 days on) applies to no care yet.
func addRateChanges(t *testing.T, u string) {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, `
		INSERT INTO rates (regime, rate_class, effective_from, rate, reason)
		SELECT r.regime, r.class, (now() AT TIME ZONE 'Europe/Paris')::date + r.days, r.rate, 'banc d''essai'
		FROM (VALUES ('puma_css', 'nurse', -60, 0.5), ('puma', 'health_centre', -150, 0.8), ('ame', 'drug_15', -45, 0.5),
		             ('puma', 'general_practitioner', 30, 0.1)) AS r (regime, class, days, rate)`)
	if err != nil {
		t.Fatalf("rate changes: %v", err)
	}
}

// flagForReview holds one pending invoice in 37 for the coordinator's
// review, as a submission over a ceiling under over_ceiling = review
// stores it, and returns how many it flagged and how many of those job
// would otherwise have decided: the deadline job's past their deadline,
// the release job's of a patient with a change to read.
func flagForReview(t *testing.T, u, job string) (flagged, held int64) {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	selects := map[string]string{
		"deadline": `i.deadline < (now() AT TIME ZONE 'Europe/Paris')::date`,
		"release":  `EXISTS (SELECT 1 FROM rights_changes c WHERE c.patient_id = i.patient_id)`,
	}[job]
	err = conn.QueryRow(ctx, `
		WITH f AS (
			UPDATE invoices i SET review_status = 'flagged',
			       review_reasons = jsonb_build_array(jsonb_build_object('field', 'total', 'value', i.total::text, 'ceiling', '10.00'))
			WHERE i.status = 'pending' AND i.id % 37 = 0
			RETURNING i.id, i.patient_id, i.deadline
		)
		SELECT count(*), count(*) FILTER (WHERE `+strings.ReplaceAll(selects, "i.", "f.")+`) FROM f`).Scan(&flagged, &held)
	if err != nil || flagged == 0 || held == 0 {
		t.Fatalf("flag for review: %v (%d flagged, %d the %s job would decide)", err, flagged, held, job)
	}
	return flagged, held
}

// assertFlaggedPending checks that the flagged invoices are still pending.
func assertFlaggedPending(t *testing.T, u string, flagged int64) {
	t.Helper()
	var pending int64
	err := openAs(t, u, "").QueryRow(context.Background(),
		`SELECT count(*) FROM invoices WHERE review_status = 'flagged' AND status = 'pending'`).Scan(&pending)
	if err != nil || pending != flagged {
		t.Errorf("%d flagged invoices pending, want %d (%v)", pending, flagged, err)
	}
}

// assertLineRates checks that the job's claims on u hold a rate per line,
// none a single rate, and that the seed exercised what the raw SQL
// mirrors: AME's 15 % drugs and their dispensing fees claimed at 0 for an
// adult and at AME's rate for a minor, lines of one invoice in several
// classes, a health centre's nurse act priced as a nurse's, and with
// rateChanges, the rates changed for recent care (the release job's).
func assertLineRates(t *testing.T, u, job string, rateChanges bool) {
	t.Helper()
	pool := openAs(t, u, "")
	rows, err := pool.Query(context.Background(), `
		SELECT c.regime || ' ' || pr.kind || ' ' || l.code || ' ' || l.rate_class || ' ' || r.rate, count(*)
		FROM claims c
		JOIN invoices i ON i.id = c.invoice_id
		JOIN providers pr ON pr.id = i.provider_id
		CROSS JOIN LATERAL unnest(c.line_rates) WITH ORDINALITY AS r (rate, position)
		JOIN invoice_lines l ON l.invoice_id = c.invoice_id AND l.position = r.position
		WHERE c.status = 'queued'
		GROUP BY 1
		UNION ALL
		SELECT 'single rate', count(*) FROM claims WHERE rate IS NOT NULL OR line_rates IS NULL
		UNION ALL
		SELECT 'line rates off their lines', count(*) FROM claims c
		WHERE cardinality(c.line_rates) <> (SELECT count(*) FROM invoice_lines l WHERE l.invoice_id = c.invoice_id)`)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int64{}
	var key string
	var n int64
	if _, err := pgx.ForEachRow(rows, []any{&key, &n}, func() error {
		got[key] = n
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if got["single rate"] != 0 || got["line rates off their lines"] != 0 {
		t.Errorf("%s job: %d claims with a single rate, %d whose line rates are not one per line", job, got["single rate"], got["line rates off their lines"])
	}
	want := []string{
		"ame pharmacy 3400930000007 drug_15 0.000", "ame pharmacy HD drug_15 0.000", // adults
		"ame pharmacy 3400930000007 drug_15 1.000", "ame pharmacy HD drug_15 1.000", // minors
		"puma pharmacy 3400930000007 drug_15 0.150", "puma pharmacy 3400930000014 drug_65 0.650",
		"puma health_centre AMX nurse 0.600", "puma health_centre G health_centre 0.700",
	}
	if rateChanges {
		want = append(want, "puma health_centre G health_centre 0.800")
		if job == "release" {
			want = append(want, "ame pharmacy 3400930000007 drug_15 0.500", "puma_css health_centre AMX nurse 0.500")
		}
	}
	for _, k := range want {
		if got[k] == 0 {
			t.Errorf("%s job: no claimed line %q: the seed must exercise it (claimed lines: %v)", job, k, got)
		}
	}
}

// runJob runs job through billing's store on url, wired as cmd/passd wires
// it with keys, as the application's role, with batches small enough to
// need many.
func runJob(t *testing.T, u, job string, keys *keyring.Ring) int64 {
	t.Helper()
	ctx := context.Background()
	pool := openAs(t, u, dbtest.Role())
	cs := claims.NewStore(db.NewPool(pool).Bind(dbtest.Convention), keys, time.Now)
	bs := billing.NewStore(db.NewPool(pool).Bind(dbtest.Convention), cs, billing.Config{Now: time.Now, BatchSize: 150})
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
	u := benchDBURL(t)
	const n, opened = 1001, 60
	keys := keyringtest.New(t)
	if _, err := seedSweep(ctx, u, backlog(n, opened), keys); err != nil {
		t.Fatal(err)
	}
	if _, err := seedSweep(ctx, u, backlog(n, opened), keys); err == nil {
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
	// Each kind's lines in the class billing.Tariff.Price gives them.
	rows, err = pool.Query(ctx, `
		SELECT DISTINCT pr.kind, l.code, l.rate_class FROM invoice_lines l
		JOIN invoices i ON i.id = l.invoice_id JOIN providers pr ON pr.id = i.provider_id`)
	if err != nil {
		t.Fatal(err)
	}
	classes := map[string]string{}
	var kind, code, class string
	if _, err := pgx.ForEachRow(rows, []any{&kind, &code, &class}, func() error {
		classes[kind+" "+code] += class
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"general_practitioner GS": "general_practitioner", "general_practitioner VG": "general_practitioner",
		"general_practitioner APC": "general_practitioner",
		"health_centre G":          "health_centre", "health_centre AMX": "nurse", "health_centre TCG": "health_centre",
		"nurse AMI": "nurse", "nurse IFD": "nurse", "nurse AIS": "nurse",
		"pharmacy 3400930000007": "drug_15", "pharmacy HD": "drug_15", "pharmacy 3400930000014": "drug_65",
		"radiology ZBQK002": "radiology", "radiology ZCQK004": "radiology", "radiology YYYY600": "radiology",
		"laboratory 0552": "laboratory", "laboratory 1104": "laboratory", "laboratory 0323": "laboratory",
	}
	if diff := cmp.Diff(want, classes); diff != "" {
		t.Errorf("rate classes of the seeded lines (-want +got):\n%s", diff)
	}
	// The next file passd opens does not collide with a seeded one.
	cs := claims.NewStore(db.NewPool(openAs(t, u, dbtest.Role())).Bind(dbtest.Convention), keys, time.Now)
	if _, err := cs.CreatePatient(ctx, audit.Actor{Name: "test"}, claims.NewPatient{LastName: "A", FirstName: "B", BirthDate: calendar.NewDate(1990, 1, 1)}); err != nil {
		t.Errorf("a new file after the seed: %v", err)
	}
}
