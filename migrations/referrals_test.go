package migrations_test

import (
	"context"
	"testing"

	"passd/db/dbtest"
)

// TestAReferralCaseOnlyMovesForward: the database refuses, whatever the
// code, a case that goes back, skips a step, changes what was recorded, or
// gets back an identity once anonymised (migration 00017).
func TestAReferralCaseOnlyMovesForward(t *testing.T) {
	t.Parallel()
	_, owner := dbtest.NewOwner(t)
	ctx := context.Background()
	if _, err := owner.Exec(ctx, `
		INSERT INTO organisations (id, kind, name) OVERRIDING SYSTEM VALUE VALUES (1, 'ccas', 'CCAS'), (2, 'sos_medecins', 'SOS');
		INSERT INTO conventions (id, ccas_id, association_id, signed_on) OVERRIDING SYSTEM VALUE VALUES (1, 1, 2, '2026-01-01');
		INSERT INTO users (id, name, role, organisation_id) OVERRIDING SYSTEM VALUE VALUES (1, 'as', 'social_worker', 1), (2, 'dr', 'doctor', 2);
		INSERT INTO referral_cases (id, kind, convention_id, status, reason, urgency, place, identity_enc, identity_key, created_by, created_at)
			VALUES (1, 'referral', 1, 'sent', 'isolation', 'today', 'ccas', 'v1.k.x', 'k', 1, now());
		INSERT INTO referral_cases (id, kind, convention_id, status, reason, basis, consent_on, consent_how, consent_by,
			identity_enc, identity_key, created_by, created_at)
			VALUES (2, 'alert', 1, 'sent', 'precarity', 'consent', '2026-06-01', 'oral', 'person', 'v1.k.y', 'k', 2, now())`); err != nil {
		t.Fatal(err)
	}
	refused := func(what, sql string) {
		t.Helper()
		tx, err := owner.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = tx.Rollback(ctx) }()
		if _, err := tx.Exec(ctx, sql); err == nil {
			t.Errorf("%s was accepted", what)
		}
	}
	accepted := func(what, sql string) {
		t.Helper()
		if _, err := owner.Exec(ctx, sql); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	refused("a referral closed before it is accepted", `UPDATE referral_cases SET status = 'closed', closed_at = now() WHERE id = 1`)
	refused("a referral acknowledged", `UPDATE referral_cases SET status = 'acknowledged' WHERE id = 1`)
	refused("an alert without basis", `UPDATE referral_cases SET basis = NULL, consent_on = NULL, consent_how = NULL, consent_by = NULL WHERE id = 2`)
	refused("an alert accepted", `UPDATE referral_cases SET status = 'accepted' WHERE id = 2`)
	refused("a case moved to another convention's creator", `UPDATE referral_cases SET created_by = 2 WHERE id = 1`)
	accepted("accept", `UPDATE referral_cases SET status = 'accepted', first_answer_at = now() WHERE id = 1`)
	refused("an accepted referral sent again", `UPDATE referral_cases SET status = 'sent' WHERE id = 1`)
	refused("the first answer's time moved", `UPDATE referral_cases SET first_answer_at = now() + interval '1 day' WHERE id = 1`)
	accepted("the outcome", `UPDATE referral_cases SET status = 'closed', outcome = 'pass', outcome_on = '2026-06-15', closed_at = now() WHERE id = 1`)
	refused("the outcome changed", `UPDATE referral_cases SET outcome = 'hospital' WHERE id = 1`)
	refused("a closed referral reopened", `UPDATE referral_cases SET status = 'accepted', closed_at = NULL WHERE id = 1`)
	accepted("the PASS file linked", `UPDATE referral_cases SET pass_file_number = '2026-000001' WHERE id = 1`)
	accepted("anonymised", `UPDATE referral_cases SET identity_enc = NULL, identity_key = NULL, anonymised_at = now() WHERE id = 1`)
	refused("an identity back after anonymisation", `UPDATE referral_cases SET identity_enc = 'v1.k.z', identity_key = 'k', anonymised_at = NULL WHERE id = 1`)
	refused("a social worker of an association", `UPDATE users SET organisation_id = 2 WHERE id = 1`)
	refused("a doctor without organisation", `UPDATE users SET organisation_id = NULL WHERE id = 2`)
}
