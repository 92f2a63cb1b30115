package billing_test

import (
	"context"
	"fmt"
	"passd/db/dbtest"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"

	"passd/audit"
	"passd/billing"
	"passd/claims"
	"passd/claims/cpamfile"
	"passd/db"
	"passd/rights"
)

// process is one passd process on the fixture's database: its own pool,
// its stores, a correction deciding invoices again in its transaction.
func (f *fixture) process(t *testing.T) (*billing.Store, *claims.Store) {
	t.Helper()
	pool, err := db.Open(context.Background(), f.pool.Config().ConnString())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	var b *billing.Store
	c := claims.NewStore(db.NewPool(pool).Bind(dbtest.Convention), f.keys, f.clock.Now, claims.WithRedecider(
		func(ctx context.Context, tx pgx.Tx, actor audit.Actor, patientID int64, cause string) error {
			_, err := b.RedecidePatients(ctx, tx, actor, []int64{patientID}, cause, true)
			return err
		}))
	b = billing.NewStore(db.NewPool(pool).Bind(dbtest.Convention), c, billing.Config{DeadlineDays: 90, Now: f.clock.Now, BatchSize: 7})
	return b, c
}

// TestCorrectionsRaceJobsAndReturns runs, at once and from several
// processes: corrections of openings into refusals and into other
// periods, new decisions, the release and deadline jobs, and the CPAM's
// return paying the transmitted claims (twice). Whatever the order, every
// invoice ends with one current outcome, its history numbered, its money
// adding up, and the books balance; the corrected refusals hold.
func TestCorrectionsRaceJobsAndReturns(t *testing.T) {
	t.Parallel()
	const patients = 24
	f := newFixture(t, "2026-03-11")
	ctx := context.Background()
	files := make([]claims.Patient, patients)
	for i := range files {
		files[i] = f.patient(t)
		f.open(t, files[i].ID, "puma", "2026-01-01", "")
		for day := 1; day <= 2; day++ {
			f.submit(t, billing.KindGP, files[i].FileNumber, fmt.Sprintf("2026-03-0%d", day), consultation, ecg)
		}
	}
	f.runRelease(t)
	batch, ok, err := f.claims.CreateClaimBatch(ctx, f.referent)
	if err != nil || !ok {
		t.Fatalf("claim batch: %v %v", ok, err)
	}
	// A third invoice each, released after the batch: its claim is queued.
	for i := range files {
		f.submit(t, billing.KindGP, files[i].FileNumber, "2026-03-03", consultation)
	}
	f.runRelease(t)
	paid := f.returnPayingAll(t, batch.ID)
	decisions := map[int64]int64{}
	for _, p := range files {
		got, _, err := f.claims.Patient(ctx, f.referent, p.ID)
		if err != nil {
			t.Fatal(err)
		}
		decisions[p.ID] = got.Decisions[len(got.Decisions)-1].ID
	}

	var start, wg sync.WaitGroup
	start.Add(1)
	errs := make(chan error, 256)
	run := func(what string, do func(b *billing.Store, c *claims.Store) error) {
		b, c := f.process(t)
		wg.Add(1)
		go func() {
			defer wg.Done()
			start.Wait()
			if err := do(b, c); err != nil {
				errs <- fmt.Errorf("%s: %w", what, err)
			}
		}()
	}
	for range 2 {
		run("jobs", func(b *billing.Store, _ *claims.Store) error {
			for range 3 {
				if _, err := b.ReleaseJob(ctx); err != nil {
					return err
				}
				if _, err := b.DeadlineJob(ctx); err != nil {
					return err
				}
			}
			return nil
		})
	}
	// The CPAM's return, line by line from both ends, so that corrections
	// come before some lines and after others.
	for _, backwards := range []bool{false, true} {
		run("return", func(_ *billing.Store, c *claims.Store) error {
			for i := range paid {
				if backwards {
					i = len(paid) - 1 - i
				}
				if _, err := c.ImportReturn(ctx, f.referent, batch.ID, paid[i:i+1]); err != nil {
					return err
				}
			}
			return nil
		})
	}
	for i, p := range files {
		switch {
		case i < 8:
			run(fmt.Sprintf("refusal of file %d", p.ID), func(_ *billing.Store, c *claims.Store) error {
				_, _, err := c.CorrectRights(ctx, f.referent, p.ID, decisions[p.ID], claims.Correction{
					RightsDecision:   claims.RightsDecision{Decision: rights.Refused, Reason: "résidence non établie"},
					CorrectionReason: "ouverture saisie par erreur"})
				return err
			})
		case i < 14:
			run(fmt.Sprintf("new period of file %d", p.ID), func(_ *billing.Store, c *claims.Store) error {
				_, _, err := c.CorrectRights(ctx, f.referent, p.ID, decisions[p.ID], claims.Correction{
					RightsDecision: claims.RightsDecision{Decision: rights.Opened, Regime: "puma", EffectiveFrom: d("2026-02-01"),
						Reference: "PUMA-CORRIGE"}, CorrectionReason: "date d'effet corrigée"})
				return err
			})
		case i < 18:
			run(fmt.Sprintf("new decision on file %d", p.ID), func(_ *billing.Store, c *claims.Store) error {
				_, err := c.DecideRights(ctx, f.referent, p.ID, claims.RightsDecision{Decision: rights.Opened, Regime: "puma",
					EffectiveFrom: d("2026-03-01"), Reference: "PUMA-BIS"})
				return err
			})
		}
	}
	start.Done()
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("concurrent run: %v", err)
	}
	f.runRelease(t)

	for i, p := range files[:14] {
		var statuses []string
		if err := f.pool.QueryRow(ctx, `SELECT array_agg(DISTINCT status || '/' || decision_reason) FROM invoices WHERE patient_id = $1`,
			p.ID).Scan(&statuses); err != nil {
			t.Fatal(err)
		}
		want := "released/rights_opened"
		if i < 8 {
			want = "city_due/rights_refused"
		}
		if len(statuses) != 1 || statuses[0] != want {
			t.Errorf("file %d (%d): invoices %v, want all %s", p.ID, i, statuses, want)
		}
	}
	var refunds, cancelledSent, redecided int
	if err := f.pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM cpam_refunds),
		(SELECT count(*) FROM claims WHERE status = 'cancelled' AND batch_id IS NOT NULL),
		(SELECT count(*) FROM invoice_outcomes)`).Scan(&refunds, &cancelledSent, &redecided); err != nil {
		t.Fatal(err)
	}
	if redecided == 0 {
		t.Error("no invoice was decided again")
	}
	// Which came first, the return or the correction, varies from run to
	// run: both orders end in balanced books.
	t.Logf("decided again: %d; paid claims refunded: %d; transmitted claims cancelled before the return: %d", redecided, refunds, cancelledSent)
	checkMoneyInvariant(t, f.pool)
}

// returnPayingAll is a CPAM return paying every claim of batch in full.
func (f *fixture) returnPayingAll(t *testing.T, batchID int64) []cpamfile.ReturnLine {
	t.Helper()
	rows, err := f.pool.Query(context.Background(), `SELECT id, amount FROM claims WHERE batch_id = $1 ORDER BY id`, batchID)
	if err != nil {
		t.Fatal(err)
	}
	var lines []cpamfile.ReturnLine
	var id int64
	var amount decimal.Decimal
	_, err = pgx.ForEachRow(rows, []any{&id, &amount}, func() error {
		lines = append(lines, cpamfile.ReturnLine{Line: len(lines) + 1, ClaimID: id, Outcome: "paid", PaidAmount: amount, PaidOn: d("2026-03-10")})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return lines
}
