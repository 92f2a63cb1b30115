package billing_test

import (
	"context"
	"passd/db/dbtest"
	"sync"
	"testing"

	"passd/billing"
	"passd/claims"
	"passd/db"
)

// TestDeadlineRacesRightsDecisions runs the deadline job from four
// goroutines, each a separate store on its own pool (as four passd
// processes would), and the release job from two more, while the referent
// records, at the same moment, rights that cover every invoice. Whichever
// wins, every invoice ends with exactly one current outcome whose money
// adds up: released, the invoices the deadline job reached first through
// a recovery (their deadline_passed outcome kept as the earlier one).
func TestDeadlineRacesRightsDecisions(t *testing.T) {
	t.Parallel()
	const patients, invoicesPerPatient = 40, 10
	// Care on 2026-01-05: deadline 2026-04-05. The referent records rights
	// on the deadline day (in time, so they would release the invoices);
	// the jobs run the day after, when the deadline has passed.
	f := newFixture(t, "2026-01-06")
	var fileIDs []int64
	var invoiceIDs []int64
	for range patients {
		p := f.patient(t)
		f.request(t, p.ID, "puma", "2026-01-02")
		fileIDs = append(fileIDs, p.ID)
		for range invoicesPerPatient {
			invoiceIDs = append(invoiceIDs, f.submit(t, billing.KindGP, p.FileNumber, "2026-01-05", consultation, ecg).ID)
		}
	}
	referentClock := newClock("2026-04-05")
	referent := claims.NewStore(f.pool, f.keys, referentClock.Now)
	f.clock.setDay("2026-04-06")

	ctx := context.Background()
	cfg := f.pool.Config().ConnString()
	var start sync.WaitGroup
	start.Add(1)
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	job := func(release bool) {
		defer wg.Done()
		pool, err := db.Open(ctx, cfg)
		if err != nil {
			errs <- err
			return
		}
		defer pool.Close()
		files := claims.NewStore(db.NewPool(pool).Bind(dbtest.Convention), f.keys, f.clock.Now)
		store := billing.NewStore(db.NewPool(pool).Bind(dbtest.Convention), files, billing.Config{DeadlineDays: 90, Now: f.clock.Now, BatchSize: 25})
		start.Wait()
		for range 3 {
			var err error
			if release {
				_, err = store.ReleaseJob(ctx)
			} else {
				_, err = store.DeadlineJob(ctx)
			}
			if err != nil {
				errs <- err
				return
			}
		}
	}
	for range 4 {
		wg.Add(1)
		go job(false)
	}
	for range 2 {
		wg.Add(1)
		go job(true)
	}
	for _, id := range fileIDs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			start.Wait()
			_, err := referent.DecideRights(ctx, f.referent, id, claims.RightsDecision{Decision: "opened", Regime: "puma",
				EffectiveFrom: d("2026-01-01"), Reference: "REF"})
			if err != nil {
				errs <- err
			}
		}()
	}
	start.Done()
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("concurrent run: %v", err)
	}
	// Whatever was left undecided by the race is decided by one more run.
	f.runRelease(t)
	f.runDeadline(t)

	outcomes := map[string]int{}
	for _, id := range invoiceIDs {
		m := f.ledger(t, id)
		outcomes[string(m.status)+"/"+string(m.reason)]++
		if m.decisionAudits != 1 {
			t.Errorf("invoice %d has %d decision audit rows", id, m.decisionAudits)
		}
	}
	if outcomes["released/rights_opened"] != len(invoiceIDs) {
		t.Fatalf("outcomes %v: want every one of %d invoices released", outcomes, len(invoiceIDs))
	}
	var recovered, earlier int
	if err := f.pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM claims WHERE kind = 'recovery'),
		(SELECT count(*) FROM invoice_outcomes WHERE decision_reason = 'deadline_passed')`).Scan(&recovered, &earlier); err != nil {
		t.Fatal(err)
	}
	if recovered != earlier {
		t.Errorf("%d recovery claims for %d invoices first decided deadline_passed", recovered, earlier)
	}
	t.Logf("recovered after the deadline job: %d", recovered)
	t.Logf("outcomes: %v", outcomes)
	checkMoneyInvariant(t, f.pool)
}
