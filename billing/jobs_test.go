package billing_test

import (
	"context"
	"testing"

	"passd/billing"
	"passd/settlement"
)

// TestSweepsDecideEveryCandidateAcrossBatches runs both sweeps with
// batches of two, so that a batch ends in the middle of a patient's
// invoices and of a deadline day: each sweep walks on from where the last
// batch stopped and must still decide every candidate, and nothing else.
func TestSweepsDecideEveryCandidateAcrossBatches(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t, "2026-03-11")
	small := billing.NewStore(f.pool, f.claims, billing.Config{DeadlineDays: 90, Now: f.clock.Now, BatchSize: 2})

	// Release: three files with rights decided (3, 2 and 1 invoices) and
	// one without, whose invoice stays pending.
	var decided []billing.Invoice
	for i, n := range []int{3, 2, 1} {
		p := f.patient(t)
		for range n {
			decided = append(decided, f.submit(t, billing.KindGP, p.FileNumber, "2026-03-10"))
		}
		if i == 1 {
			f.refuse(t, p.ID)
		} else {
			f.open(t, p.ID, "puma", "2026-01-01", "")
		}
	}
	waiting := f.patient(t)
	pending := f.submit(t, billing.KindGP, waiting.FileNumber, "2026-03-10")
	if n, err := small.ReleaseJob(ctx); err != nil || n != int64(len(decided)) {
		t.Fatalf("release: %d decided, %v; want %d", n, err, len(decided))
	}
	for _, inv := range decided {
		if m := f.ledger(t, inv.ID); m.status == billing.StatusPending {
			t.Errorf("invoice %d is still pending after the release sweep", inv.ID)
		}
	}

	// Deadline: invoices on three deadline days, two of them past, three
	// invoices on the same day so that a batch boundary falls inside it.
	f.clock.setDay("2026-03-21")
	late := []billing.Invoice{pending}
	for _, care := range []string{"2026-03-12", "2026-03-13", "2026-03-13", "2026-03-13"} {
		late = append(late, f.submit(t, billing.KindGP, waiting.FileNumber, care))
	}
	notYet := f.submit(t, billing.KindGP, waiting.FileNumber, "2026-03-20")
	f.clock.setDay("2026-06-14") // care on 2026-03-13 had until 2026-06-11; on 2026-03-20, until 2026-06-18
	if n, err := small.DeadlineJob(ctx); err != nil || n != int64(len(late)) {
		t.Fatalf("deadline: %d decided, %v; want %d", n, err, len(late))
	}
	for _, inv := range late {
		if m := f.ledger(t, inv.ID); m.status != billing.StatusCityDue || m.reason != settlement.DeadlinePassed {
			t.Errorf("invoice %d (deadline %s) is %s %s after the deadline sweep", inv.ID, inv.Deadline, m.status, m.reason)
		}
	}
	if m := f.ledger(t, notYet.ID); m.status != billing.StatusPending {
		t.Errorf("invoice %d (deadline %s) is %s before its deadline passed", notYet.ID, notYet.Deadline, m.status)
	}
	checkMoneyInvariant(t, f.pool)
}
