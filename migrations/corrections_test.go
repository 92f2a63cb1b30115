package migrations_test

import (
	"context"
	"testing"

	"passd/db/dbtest"
	"passd/migrations"
)

// TestMigratingToCorrectionsKeepsWhatWasDecided: on a database filled
// before 00010, every decided invoice holds its first outcome, its claim
// and payout belong to that outcome, and the files with a decision and
// pending invoices wait for the release job in rights_changes. A decided
// invoice can then take its next outcome, the one it replaces kept.
func TestMigratingToCorrectionsKeepsWhatWasDecided(t *testing.T) {
	t.Parallel()
	url := dbtest.NewEmptyURL(t)
	ctx := context.Background()
	owner := dbtest.Owner(t, url)
	if _, err := migrations.UpTo(ctx, owner, 9); err != nil {
		t.Fatal(err)
	}
	mustExec(t, owner, `
		INSERT INTO users (id, name, role) OVERRIDING SYSTEM VALUE VALUES (1, 'referent', 'cpam_referent');
		INSERT INTO providers (id, kind, name, rpps, iban, bic) OVERRIDING SYSTEM VALUE
			VALUES (1, 'general_practitioner', 'Dr A', '10000000001', 'FR7630006000011234567890189', 'AGRIFRPP');
		INSERT INTO patients (id, file_number, identity_pending) OVERRIDING SYSTEM VALUE
			VALUES (1, 'PASS-2026-000001', true), (2, 'PASS-2026-000002', true);
		INSERT INTO rights_decisions (patient_id, decision, regime, effective_from, reference, decided_at)
			VALUES (1, 'opened', 'puma', '2026-01-01', 'PUMA-1', now());
		INSERT INTO invoices (id, provider_id, patient_id, external_ref, care_date, deadline, total, created_by) OVERRIDING SYSTEM VALUE
			VALUES (1, 1, 1, 'R-1', '2026-01-05', '2026-04-05', 30.00, 1), (2, 1, 1, 'R-2', '2026-01-06', '2026-04-06', 30.00, 1),
			       (3, 1, 2, 'R-3', '2026-01-06', '2026-04-06', 30.00, 1);
		UPDATE invoices SET status = 'released', decision_reason = 'rights_opened', cpam_amount = 21.00, city_amount = 9.00,
			decided_at = now() WHERE id = 1;
		INSERT INTO claims (invoice_id, amount, rate, rights_decision_id, regime, reference, created_at)
			SELECT 1, 21.00, 0.7, id, 'puma', 'PUMA-1', now() FROM rights_decisions;
		INSERT INTO payouts (invoice_id, provider_id, amount, reason, created_at) VALUES (1, 1, 9.00, 'ticket_moderateur', now());`)
	if _, err := migrations.Up(ctx, owner); err != nil {
		t.Fatal(err)
	}
	var outcome, claimOutcome, payoutOutcome int
	var kind string
	var waiting []int64
	if err := owner.QueryRow(ctx, `SELECT (SELECT outcome_no FROM invoices WHERE id = 1), (SELECT outcome_no FROM claims),
		(SELECT outcome_no FROM payouts), (SELECT kind FROM claims),
		(SELECT array_agg(patient_id ORDER BY patient_id) FROM rights_changes)`).Scan(&outcome, &claimOutcome, &payoutOutcome, &kind, &waiting); err != nil {
		t.Fatal(err)
	}
	if outcome != 1 || claimOutcome != 1 || payoutOutcome != 1 || kind != "claim" {
		t.Errorf("after the migration: invoice outcome %d, claim outcome %d (%s), payout outcome %d; want 1, 1 (claim), 1",
			outcome, claimOutcome, kind, payoutOutcome)
	}
	if len(waiting) != 1 || waiting[0] != 1 {
		t.Errorf("rights_changes holds %v, want [1]: the decided file with a pending invoice, not the undecided one", waiting)
	}
	mustExec(t, owner, `UPDATE invoices SET status = 'city_due', decision_reason = 'not_covered', cpam_amount = 0, city_amount = total,
		decided_at = now(), outcome_no = 2, outcome_cause = 'correction' WHERE id = 1`)
	var kept string
	if err := owner.QueryRow(ctx, `SELECT status || '/' || decision_reason || ' ' || cpam_amount || ' ' || city_amount
		FROM invoice_outcomes WHERE invoice_id = 1 AND outcome_no = 1`).Scan(&kept); err != nil {
		t.Fatal(err)
	}
	if kept != "released/rights_opened 21.00 9.00" {
		t.Errorf("the replaced outcome kept as %q", kept)
	}
}
