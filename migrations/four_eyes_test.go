package migrations_test

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"

	"passd/db/dbtest"
)

// TestTheDatabaseHoldsTheFourEyes: the leaves of docs/attack-tree.md that
// a forgotten check in Go would open are closed by the tables themselves
// (migration 00013), whatever the caller.
func TestTheDatabaseHoldsTheFourEyes(t *testing.T) {
	t.Parallel()
	_, owner := dbtest.NewOwner(t)
	ctx := context.Background()
	// machinesFixture: users 1 and 2 in finance, provider 1 (confirmed by
	// confirmedBanks), a city_due invoice 2 and a draft batch 1.
	mustExec(t, owner, machinesFixture)
	mustExec(t, owner, `INSERT INTO users (id, name, role) OVERRIDING SYSTEM VALUE VALUES (3, 'admin', 'admin'), (4, 'admin-2', 'admin');
		INSERT INTO providers (id, kind, name, rpps, iban, bic) OVERRIDING SYSTEM VALUE
			VALUES (2, 'nurse', 'Mallory', '10000000666', 'FR7610107001011234567890129', 'AGRIFRPP');
		INSERT INTO invoices (id, provider_id, patient_id, external_ref, care_date, deadline, total, created_by) OVERRIDING SYSTEM VALUE
			VALUES (3, 2, 1, 'M-1', '2026-01-05', '2026-04-05', 9900.00, 1);
		UPDATE invoices SET status = 'city_due', decision_reason = 'deadline_passed', cpam_amount = 0, city_amount = 9900.00,
			decided_at = now() WHERE id = 3;
		INSERT INTO payouts (id, invoice_id, provider_id, amount, reason, created_at) OVERRIDING SYSTEM VALUE
			VALUES (1, 2, 1, 10.00, 'deadline_passed', now()), (2, 3, 2, 9900.00, 'deadline_passed', now());
		UPDATE payout_batches SET status = 'submitted', submitted_at = now(), prepared_by = 1 WHERE id = 1`)

	refused := func(what, sql string, args ...any) {
		t.Helper()
		tx, err := owner.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = tx.Rollback(ctx) }()
		if _, err := tx.Exec(ctx, sql, args...); err == nil {
			t.Errorf("%s: the database let it through", what)
		}
	}
	accepted := func(what, sql string, args ...any) {
		t.Helper()
		if err := pgx.BeginFunc(ctx, owner, func(tx pgx.Tx) error {
			_, err := tx.Exec(ctx, sql, args...)
			return err
		}); err != nil {
			t.Errorf("%s: %v", what, err)
		}
	}
	approve := `UPDATE payout_batches SET status = 'approved', approved_at = now(), approved_by = $1 WHERE id = 1`
	refused("an admin approves a batch", approve, 3)
	refused("the preparer approves its batch", approve, 1)
	refused("a batch over the budget approved without an admin's leave",
		`UPDATE payout_batches SET status = 'approved', approved_at = now(), approved_by = 2, budget_override = true WHERE id = 1`)
	refused("the preparer gives leave to overspend",
		`UPDATE payout_batches SET budget_override_by = 1, budget_override_at = now(), budget_override_reason = 'x' WHERE id = 1`)
	refused("a payout to unconfirmed bank details batched", `UPDATE payouts SET status = 'batched', batch_id = 1 WHERE id = 2`)
	refused("a provider's IBAN edited", `UPDATE providers SET iban = 'FR7610107001011234567890129' WHERE id = 1`)
	refused("an unconfirmed provider's IBAN edited", `UPDATE providers SET iban = 'FR7630006000011234567890189' WHERE id = 2`)
	refused("a pending change pointed at", `WITH c AS (INSERT INTO bank_detail_changes (provider_id, name, iban, bic, requested_by, requested_at)
		VALUES (1, 'Cabinet', 'FR7610107001011234567890129', 'AGRIFRPP', 3, now()) RETURNING id)
		UPDATE providers SET iban = 'FR7610107001011234567890129', bank_change_id = (SELECT id FROM c) WHERE id = 1`)
	refused("a change confirmed by its requester", `INSERT INTO bank_detail_changes (provider_id, name, iban, bic, requested_by, requested_at,
		status, decided_by, decided_at) VALUES (2, 'Mallory', 'FR7610107001011234567890129', 'AGRIFRPP', 3, now(), 'confirmed', 3, now())`)
	refused("a decided change edited", `UPDATE bank_detail_changes SET iban = 'FR7610107001011234567890129' WHERE provider_id = 1`)
	refused("a token confirmed by its issuer", `INSERT INTO tokens (user_id, hash, issued_by, needs_confirmation, confirmed_at, confirmed_by)
		VALUES (1, '\x01', 3, true, now(), 3)`)
	refused("a token confirmed by its holder", `INSERT INTO tokens (user_id, hash, issued_by, needs_confirmation, confirmed_at, confirmed_by)
		VALUES (1, '\x02', 3, true, now(), 1)`)
	refused("a void confirmed by its requester", `INSERT INTO payout_voids (payout_id, reason, requested_by, requested_at, status, decided_by, decided_at)
		VALUES (2, 'x', 1, now(), 'confirmed', 1, now())`)
	refused("a voided invoice decided again", `UPDATE invoices SET status = 'cancelled', decision_reason = 'voided', cpam_amount = 0, city_amount = 0
		WHERE id = 3`)

	// The honest paths: another finance user approves within the budget;
	// an admin (not the preparer) gives leave; a void as a new outcome.
	accepted("finance approves", approve, 2)
	accepted("a void as a new outcome", `UPDATE invoices SET status = 'cancelled', decision_reason = 'voided', cpam_amount = 0, city_amount = 0,
		outcome_no = outcome_no + 1, outcome_cause = 'payout voided: doublon' WHERE id = 3`)
}
