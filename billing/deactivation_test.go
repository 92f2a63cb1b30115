package billing_test

import (
	"context"
	"testing"

	"passd/audit"
	"passd/billing"
	"passd/fault"
)

// TestADeactivatedProviderIsToldSoFirst: the submission statement itself
// refuses a deactivated provider (no read of deactivated_at before it),
// and the answer is the 403 whatever else is wrong with the submission: a
// good one, an unknown file, a reference used already; once reactivated,
// the same submission is stored.
func TestADeactivatedProviderIsToldSoFirst(t *testing.T) {
	t.Parallel()
	f := newFixture(t, "2026-03-11")
	p := f.patientBorn(t, "Martin", "Léa", "1990-04-12")
	pu := f.provider(t, billing.KindGP)
	ctx := context.Background()
	if _, err := submitAs(t, f, p.FileNumber, p.BirthDate, "DUP-1"); err != nil {
		t.Fatalf("before the deactivation: %v", err)
	}
	if _, err := f.billing.SetProviderActive(ctx, audit.Actor{Name: "test"}, pu.id, false); err != nil {
		t.Fatal(err)
	}
	for name, send := range map[string]func() error{
		"a good submission": func() error { _, err := submitAs(t, f, p.FileNumber, p.BirthDate, "D-2"); return err },
		"an unknown file":   func() error { _, err := submitAs(t, f, "PASS-2026-999999", p.BirthDate, "D-2"); return err },
		"a used reference":  func() error { _, err := submitAs(t, f, p.FileNumber, p.BirthDate, "DUP-1"); return err },
		"with a key": func() error {
			_, _, err := f.billing.CreateInvoiceOnce(ctx, pu.actor, pu.id, billing.NewInvoice{PatientFileNumber: p.FileNumber,
				BirthDate: p.BirthDate, ExternalRef: "D-3", CareDate: d("2026-03-10"),
				Lines: []billing.Line{{Code: "G", Label: "Consultation", Quantity: 1, UnitPrice: amt("30.00")}}},
				billing.Idempotency{UserID: pu.actor.UserID, Key: "k-1", Hash: []byte("h")})
			return err
		},
	} {
		if fe := refusal(t, send()); fe.Code != fault.Forbidden {
			t.Errorf("%s from a deactivated provider: %+v, want forbidden", name, fe)
		}
	}
	if n := countRows(t, f, `SELECT count(*) FROM invoices`); n != 1 {
		t.Fatalf("%d invoices stored, want the one sent before the deactivation", n)
	}
	if _, err := f.billing.SetProviderActive(ctx, audit.Actor{Name: "test"}, pu.id, true); err != nil {
		t.Fatal(err)
	}
	if _, err := submitAs(t, f, p.FileNumber, p.BirthDate, "D-2"); err != nil {
		t.Fatalf("once reactivated: %v", err)
	}
}
