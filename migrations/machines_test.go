package migrations_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"passd/billing"
	"passd/db/dbtest"
	"passd/lifecycle"
	"passd/rights"
	"passd/settlement"
)

// The rows each walk starts from: two users, a provider, a patient file,
// a released invoice (for claims), a city_due one (for payouts), a claim
// batch and a payout batch to put them in.
const machinesFixture = `
	INSERT INTO users (id, name, role) OVERRIDING SYSTEM VALUE VALUES (1, 'preparer', 'finance'), (2, 'approver', 'finance');
	INSERT INTO providers (id, kind, name, rpps, iban, bic) OVERRIDING SYSTEM VALUE
		VALUES (1, 'nurse', 'Cabinet', '10000000001', 'FR7630006000011234567890189', 'AGRIFRPP');
	INSERT INTO patients (id, file_number, identity_pending) OVERRIDING SYSTEM VALUE VALUES (1, 'PASS-2026-000001', true);
	INSERT INTO invoices (id, provider_id, patient_id, external_ref, care_date, deadline, total, created_by) OVERRIDING SYSTEM VALUE
		VALUES (1, 1, 1, 'R-1', '2026-01-05', '2026-04-05', 10.00, 1), (2, 1, 1, 'R-2', '2026-01-05', '2026-04-05', 10.00, 1);
	UPDATE invoices SET status = 'released', decision_reason = 'rights_opened', cpam_amount = 10.00, city_amount = 0, decided_at = now() WHERE id = 1;
	UPDATE invoices SET status = 'city_due', decision_reason = 'deadline_passed', cpam_amount = 0, city_amount = 10.00, decided_at = now() WHERE id = 2;
	INSERT INTO claim_batches (id, claim_count, total, created_at, creator) OVERRIDING SYSTEM VALUE VALUES (1, 1, 10.00, now(), 'job');
	INSERT INTO payout_batches (id, payout_count, total, ceiling, created_at, creator) OVERRIDING SYSTEM VALUE
		VALUES (1, 1, 10.00, 100.00, now(), 'job');
	SELECT setval(pg_get_serial_sequence(t, 'id'), 100) FROM unnest('{users,providers,patients,invoices,claim_batches,payout_batches}'::text[]) AS t;` +
	confirmedBanks

// confirmedBanks confirms the bank details of every provider there, as a
// finance user would: no payout goes into a batch before (migration 00013).
const confirmedBanks = `
	INSERT INTO bank_detail_changes (provider_id, name, iban, bic, requested_at, status, decided_at)
	SELECT id, name, iban, bic, now(), 'confirmed', now() FROM providers WHERE bank_change_id IS NULL;
	UPDATE providers p SET bank_change_id = c.id FROM bank_detail_changes c WHERE c.provider_id = p.id AND p.bank_change_id IS NULL;`

// walk is one machine as the database sees it: how to make a fresh row in
// its first state, and the UPDATE each action runs, without the status
// guard the stores add, so that only the triggers and constraints judge.
type walk[S, A ~string] struct {
	machine lifecycle.Machine[S, A]
	insert  string            // makes the row, RETURNING its id
	table   string            // for messages
	actions map[A]string      // UPDATE … WHERE id = $1
	extra   map[string]string // moves no action makes: named, each must be refused from every state
}

// TestEveryMachineAgreesWithTheDatabase walks every (state, action) pair
// of each machine: the database accepts the action's update exactly when
// the Go table allows it. Each state is reached through the table's own
// actions from the first state, so the path is checked too.
func TestEveryMachineAgreesWithTheDatabase(t *testing.T) {
	_, owner := dbtest.NewOwner(t)
	ctx := context.Background()
	if _, err := owner.Exec(ctx, machinesFixture); err != nil {
		t.Fatal(err)
	}
	run := func(t *testing.T, f func(tx pgx.Tx)) {
		tx, err := owner.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = tx.Rollback(ctx) }()
		f(tx)
	}
	t.Run("invoice", func(t *testing.T) {
		checkMachine(t, run, walk[billing.InvoiceStatus, billing.InvoiceAction]{
			machine: billing.InvoiceMachine, table: "invoices",
			insert: `INSERT INTO invoices (provider_id, patient_id, external_ref, care_date, deadline, total, created_by)
				VALUES (1, 1, 'W-' || gen_random_uuid(), '2026-01-05', '2026-04-05', 10.00, 1) RETURNING id`,
			actions: map[billing.InvoiceAction]string{
				billing.InvoiceRelease: `UPDATE invoices SET status = 'released', decision_reason = 'rights_opened', cpam_amount = 7.00,
					city_amount = 3.00, decided_at = now() WHERE id = $1`,
				billing.InvoiceOweCity: `UPDATE invoices SET status = 'city_due', decision_reason = 'deadline_passed', cpam_amount = 0,
					city_amount = total, decided_at = now() WHERE id = $1`,
				billing.InvoiceCancel: `UPDATE invoices SET status = 'cancelled', decision_reason = 'voided', cpam_amount = 0, city_amount = 0,
					decided_at = now() WHERE id = $1`,
				billing.InvoiceRedecideRelease: `UPDATE invoices SET status = 'released', decision_reason = 'rights_opened', cpam_amount = 7.00,
					city_amount = 3.00, decided_at = now(), outcome_no = outcome_no + 1, outcome_cause = 'correction' WHERE id = $1`,
				billing.InvoiceRedecideCity: `UPDATE invoices SET status = 'city_due', decision_reason = 'not_covered', cpam_amount = 0,
					city_amount = total, decided_at = now(), outcome_no = outcome_no + 1, outcome_cause = 'correction' WHERE id = $1`,
			},
			extra: map[string]string{"back to pending": `UPDATE invoices SET status = 'pending', decision_reason = NULL, cpam_amount = NULL,
				city_amount = NULL, decided_at = NULL WHERE id = $1`},
		})
	})
	t.Run("claim", func(t *testing.T) {
		checkMachine(t, run, walk[settlement.ClaimStatus, settlement.ClaimAction]{
			machine: settlement.ClaimMachine, table: "claims",
			// One claim per invoice: each walk's claim takes invoice 1's
			// place, in a transaction rolled back afterwards.
			insert: `INSERT INTO claims (invoice_id, amount, rate, created_at) VALUES (1, 10.00, 1, now()) RETURNING id`,
			actions: map[settlement.ClaimAction]string{
				settlement.ClaimTransmit: `UPDATE claims SET status = 'transmitted', batch_id = 1 WHERE id = $1`,
				settlement.ClaimPay: `UPDATE claims SET status = 'paid', paid_amount = amount, paid_on = '2026-02-01', settled_at = now()
					WHERE id = $1`,
				settlement.ClaimReject: `UPDATE claims SET status = 'rejected', rejection_reason = 'droits fermés', settled_at = now()
					WHERE id = $1`,
				settlement.ClaimCancel: `UPDATE claims SET status = 'cancelled', cancelled_at = now() WHERE id = $1`,
			},
			extra: map[string]string{"back to queued": `UPDATE claims SET status = 'queued', batch_id = NULL, paid_amount = NULL,
				paid_on = NULL, rejection_reason = NULL, settled_at = NULL WHERE id = $1`},
		})
	})
	t.Run("payout", func(t *testing.T) {
		checkMachine(t, run, walk[settlement.PayoutStatus, settlement.PayoutAction]{
			machine: settlement.PayoutMachine, table: "payouts",
			insert: `INSERT INTO payouts (invoice_id, provider_id, amount, reason, created_at)
				VALUES (2, 1, 10.00, 'deadline_passed', now()) RETURNING id`,
			actions: map[settlement.PayoutAction]string{
				settlement.PayoutBatch:   `UPDATE payouts SET status = 'batched', batch_id = 1 WHERE id = $1`,
				settlement.PayoutUnbatch: `UPDATE payouts SET status = 'due', batch_id = NULL WHERE id = $1`,
				settlement.PayoutApprove: `UPDATE payouts SET status = 'approved' WHERE id = $1`,
				settlement.PayoutPay:     `UPDATE payouts SET status = 'paid', paid_on = '2026-02-01' WHERE id = $1`,
				settlement.PayoutCancel:  `UPDATE payouts SET status = 'cancelled', cancelled_at = now() WHERE id = $1`,
				settlement.PayoutHold:    `UPDATE payouts SET status = 'held', held_at = now(), hold_reason = 'doublon ?' WHERE id = $1`,
				settlement.PayoutRelease: `UPDATE payouts SET status = 'due', held_at = NULL, hold_reason = NULL WHERE id = $1`,
			},
			extra: map[string]string{"back to batched": `UPDATE payouts SET status = 'batched', batch_id = 1, paid_on = NULL WHERE id = $1`},
		})
	})
	t.Run("payout batch", func(t *testing.T) {
		checkMachine(t, run, walk[billing.BatchStatus, billing.BatchAction]{
			machine: billing.BatchMachine, table: "payout_batches",
			insert: `INSERT INTO payout_batches (payout_count, total, ceiling, created_at, creator)
				VALUES (1, 10.00, 100.00, now(), 'job') RETURNING id`,
			actions: map[billing.BatchAction]string{
				billing.BatchSubmit:   `UPDATE payout_batches SET status = 'submitted', submitted_at = now(), prepared_by = 1 WHERE id = $1`,
				billing.BatchApprove:  `UPDATE payout_batches SET status = 'approved', approved_at = now(), approved_by = 2 WHERE id = $1`,
				billing.BatchCancel:   `UPDATE payout_batches SET status = 'cancelled', cancelled_at = now(), cancelled_by = 1 WHERE id = $1`,
				billing.BatchMarkPaid: `UPDATE payout_batches SET status = 'paid', paid_on = '2026-02-01', paid_at = now(), paid_by = 1 WHERE id = $1`,
			},
			extra: map[string]string{"back to draft": `UPDATE payout_batches SET status = 'draft', submitted_at = NULL, prepared_by = NULL,
				approved_at = NULL, approved_by = NULL, cancelled_at = NULL, cancelled_by = NULL, paid_on = NULL, paid_at = NULL WHERE id = $1`},
		})
	})
	t.Run("rights", func(t *testing.T) {
		checkMachine(t, run, walk[rights.Status, rights.Action]{
			machine: rights.Machine, table: "patients",
			insert: `INSERT INTO patients (file_number, identity_pending) VALUES ('PASS-2026-' || lpad((random() * 999999)::int::text, 6, '0'), true)
				RETURNING id`,
			actions: map[rights.Action]string{
				rights.Request: `UPDATE patients SET rights_status = 'requested', rights_regime = 'ame', rights_filed_on = '2026-01-01',
					rights_effective_from = NULL, rights_effective_to = NULL, rights_reference = NULL, rights_reason = NULL,
					rights_decided_at = NULL WHERE id = $1`,
				rights.Open: `UPDATE patients SET rights_status = 'opened', rights_regime = 'ame', rights_effective_from = '2026-01-01',
					rights_effective_to = '2026-12-31', rights_reference = 'AME-1', rights_reason = NULL, rights_decided_at = now() WHERE id = $1`,
				rights.Refuse: `UPDATE patients SET rights_status = 'refused', rights_reason = 'ressources', rights_decided_at = now()
					WHERE id = $1`,
			},
			extra: map[string]string{"back to none": `UPDATE patients SET rights_status = 'none', rights_regime = NULL, rights_filed_on = NULL,
				rights_effective_from = NULL, rights_effective_to = NULL, rights_reference = NULL, rights_reason = NULL,
				rights_decided_at = NULL WHERE id = $1`},
		})
	})
}

// checkMachine tries every action from every state, each on a fresh row in
// a transaction of its own, and every extra move from every state but the
// first.
func checkMachine[S, A ~string](t *testing.T, run func(*testing.T, func(pgx.Tx)), w walk[S, A]) {
	t.Helper()
	ctx := context.Background()
	states := w.machine.States()
	for _, state := range states {
		path := pathTo(w.machine, states[0], state)
		if path == nil && state != states[0] {
			t.Errorf("%s: state %s cannot be reached from %s", w.table, state, states[0])
			continue
		}
		try := func(what, update string, want bool) {
			run(t, func(tx pgx.Tx) {
				id := reach(t, tx, w, path)
				_, err := tx.Exec(ctx, "SAVEPOINT try")
				if err == nil {
					_, err = tx.Exec(ctx, update, id)
				}
				refused := isRefusal(err)
				if err != nil && !refused {
					t.Fatalf("%s %s from %s: %v", w.table, what, state, err)
				}
				if refused == want {
					t.Errorf("%s: %s from %s: Go says allowed=%v, the database %s", w.table, what, state, want, verdict(err))
				}
			})
		}
		for _, a := range w.machine.Actions() {
			try(string(a), w.actions[a], w.machine.Allowed(state, a))
		}
		if state != states[0] {
			for name, update := range w.extra {
				try(name, update, false)
			}
		}
	}
}

// reach inserts a row and moves it along path, each step an action the
// database must accept.
func reach[S, A ~string](t *testing.T, tx pgx.Tx, w walk[S, A], path []A) int64 {
	t.Helper()
	ctx := context.Background()
	var id int64
	if err := tx.QueryRow(ctx, w.insert).Scan(&id); err != nil {
		t.Fatalf("%s: insert: %v", w.table, err)
	}
	for _, a := range path {
		sql, ok := w.actions[a]
		if !ok {
			t.Fatalf("%s: no SQL for action %s", w.table, a)
		}
		if _, err := tx.Exec(ctx, sql, id); err != nil {
			t.Fatalf("%s: %s on the way: %v", w.table, a, err)
		}
	}
	return id
}

// pathTo is the shortest list of actions from one state to another, nil
// when there is none (empty when from is to).
func pathTo[S, A ~string](m lifecycle.Machine[S, A], from, to S) []A {
	type node struct {
		state S
		path  []A
	}
	seen := map[S]bool{from: true}
	queue := []node{{from, []A{}}}
	for len(queue) > 0 {
		n := queue[0]
		queue = queue[1:]
		if n.state == to {
			return n.path
		}
		for _, a := range m.Actions() {
			next, ok := m.Next(n.state, a)
			if ok && !seen[next] {
				seen[next] = true
				queue = append(queue, node{next, append(append([]A{}, n.path...), a)})
			}
		}
	}
	return nil
}

// isRefusal reports whether err is the database refusing a move: a
// trigger or a check constraint (both check_violation).
func isRefusal(err error) bool {
	var pg *pgconn.PgError
	return errors.As(err, &pg) && pg.Code == "23514"
}

func verdict(err error) string {
	if err == nil {
		return "accepts it"
	}
	return fmt.Sprintf("refuses it (%v)", err)
}
