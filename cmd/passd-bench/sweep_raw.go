package main

// The sweep benchmark's yardstick: the state change a job makes through
// passd, made by SQL alone on an identical copy of the seeded database.

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// The selectors of billing/jobs.go, on the candidate's invoice (i) and
// patient (pt), with n.today for the Paris date.
var rawSelectors = map[string]string{
	"release":  `(pt.rights_status IN ('opened', 'refused') OR EXISTS (SELECT 1 FROM rights_decisions d WHERE d.patient_id = pt.id))`,
	"deadline": `i.deadline < n.today`,
}

// rawSweepSQL is the job as one statement: rights.InForce (the opened, not
// superseded period covering the care date, decided by the deadline day,
// with the largest rate for the provider's kind, a missing rate counting
// as zero; on a tie the latest decision) and billing.Decide in a CASE
// (same order of tests), billing.SplitLines per line at the period's rate
// (CPAM share rounded half away from zero to the cent, which numeric's
// round does, the city the exact remainder), the guarded update, then the
// rows passd writes after it: claims with the period that released them
// (claims.Store.Queue), payouts (billing's owe), their journal postings
// (journal.Post, one transaction id each) and the audit rows of all three
// with passd's JSON documents (billing's planDecisions: a released
// invoice's carries its regime and decision). The audit rows go in through
// one INSERT so that the chain's statement trigger sees them all at once.
const rawSweepSQL = `
WITH n AS MATERIALIZED (
	SELECT now() AS at, (now() AT TIME ZONE 'Europe/Paris')::date AS today, $1::text AS actor
),
cand AS MATERIALIZED (
	SELECT i.id, i.provider_id, i.patient_id, i.total, i.care_date, i.deadline, pr.kind, n.today,
	       pt.rights_status AS rights,
	       (pt.rights_decided_at AT TIME ZONE 'Europe/Paris')::date AS decided_on
	FROM invoices i
	JOIN patients pt ON pt.id = i.patient_id
	JOIN providers pr ON pr.id = i.provider_id
	CROSS JOIN n
	WHERE i.status = 'pending' AND %s
),
in_force AS (
	SELECT DISTINCT ON (c.id) c.id, d.id AS decision_id, d.regime, d.reference
	FROM cand c
	JOIN rights_decisions d ON d.patient_id = c.patient_id AND d.decision = 'opened' AND d.superseded_at IS NULL
	     AND d.effective_from <= c.care_date AND (d.effective_to IS NULL OR c.care_date <= d.effective_to)
	     AND (d.decided_at AT TIME ZONE 'Europe/Paris')::date <= c.deadline
	LEFT JOIN rates r ON r.regime = d.regime AND r.provider_kind = c.kind
	ORDER BY c.id, coalesce(r.rate, 0) DESC, d.id DESC
),
decided AS (
	SELECT c.*, f.decision_id, f.regime, f.reference,
	       CASE WHEN f.decision_id IS NOT NULL THEN
	                CASE WHEN c.today >= (date_trunc('quarter', c.care_date) + interval '27 months')::date THEN 'prescribed'
	                     ELSE 'rights_opened' END
	            WHEN c.rights IN ('opened', 'refused') AND (c.decided_on IS NULL OR c.decided_on <= c.deadline) THEN
	                CASE WHEN c.rights = 'refused' THEN 'rights_refused' ELSE 'not_covered' END
	            WHEN c.today > c.deadline THEN 'deadline_passed'
	       END AS reason
	FROM cand c LEFT JOIN in_force f ON f.id = c.id
),
split AS (
	SELECT d.id, r.rate,
	       sum(round(l.quantity * l.unit_price * r.rate, 2)) AS cpam,
	       sum(l.quantity * l.unit_price - round(l.quantity * l.unit_price * r.rate, 2)) AS city
	FROM decided d
	JOIN rates r ON r.regime = d.regime AND r.provider_kind = d.kind
	JOIN invoice_lines l ON l.invoice_id = d.id
	WHERE d.reason = 'rights_opened'
	GROUP BY d.id, r.rate
),
final AS (
	-- A released invoice without lines or rate gets 0 + 0, which the
	-- invoices_decision_complete check refuses, as passd refuses it.
	SELECT d.id, d.provider_id, d.reason,
	       CASE WHEN d.reason = 'rights_opened' THEN 'released' ELSE 'city_due' END AS status,
	       CASE WHEN d.reason = 'rights_opened' THEN coalesce(s.cpam, 0) ELSE 0 END::numeric(12,2) AS cpam,
	       CASE WHEN d.reason = 'rights_opened' THEN coalesce(s.city, 0) ELSE d.total END::numeric(12,2) AS city,
	       s.rate, d.decision_id, d.regime, d.reference
	FROM decided d LEFT JOIN split s ON s.id = d.id
	WHERE d.reason IS NOT NULL
),
upd AS (
	UPDATE invoices i
	SET status = f.status, decision_reason = f.reason, cpam_amount = f.cpam, city_amount = f.city, decided_at = n.at
	FROM final f CROSS JOIN n
	WHERE i.id = f.id AND i.status = 'pending'
	RETURNING i.id, f.provider_id, f.status, f.reason, f.cpam, f.city, f.rate, f.decision_id, f.regime, f.reference
),
cl AS (
	INSERT INTO claims (invoice_id, amount, rate, rights_decision_id, regime, reference, created_at)
	SELECT u.id, u.cpam, u.rate, u.decision_id, u.regime, u.reference, n.at FROM upd u CROSS JOIN n WHERE u.cpam > 0
	RETURNING id, invoice_id, amount
),
po AS (
	INSERT INTO payouts (invoice_id, provider_id, amount, reason, created_at)
	SELECT u.id, u.provider_id, u.city, CASE WHEN u.status = 'released' THEN 'ticket_moderateur' ELSE u.reason END, n.at
	FROM upd u CROSS JOIN n WHERE u.city > 0
	RETURNING id, invoice_id, amount, reason
),
postings AS MATERIALIZED (
	SELECT nextval('journal_txn_seq') AS txn, p.* FROM (
		SELECT 'claim_queued' AS movement, 'cpam_receivable' AS debit_account, 'provider_payable' AS credit_account,
		       amount, invoice_id, id AS claim_id, NULL::bigint AS payout_id FROM cl
		UNION ALL
		SELECT 'payout_due', 'pass_expense', 'provider_payable', amount, invoice_id, NULL, id FROM po
	) p
),
journal AS (
	INSERT INTO journal_entries (txn_id, posted_at, movement, account, debit, credit, invoice_id, claim_id, payout_id)
	SELECT p.txn, n.at, p.movement, p.debit_account, p.amount, 0, p.invoice_id, p.claim_id, p.payout_id FROM postings p CROSS JOIN n
	UNION ALL
	SELECT p.txn, n.at, p.movement, p.credit_account, 0, p.amount, p.invoice_id, p.claim_id, p.payout_id FROM postings p CROSS JOIN n
),
audit AS (
	INSERT INTO audit_log (actor, action, entity, entity_id, before, after)
	SELECT n.actor, 'claim.queue', 'claim', c.id::text, NULL::jsonb,
	       jsonb_build_object('invoice_id', c.invoice_id::text, 'amount', c.amount::text, 'status', 'queued')
	FROM cl c CROSS JOIN n
	UNION ALL
	SELECT n.actor, 'payout.create', 'payout', p.id::text, NULL::jsonb,
	       jsonb_build_object('invoice_id', p.invoice_id::text, 'amount', p.amount::text, 'reason', p.reason, 'status', 'due')
	FROM po p CROSS JOIN n
	UNION ALL
	SELECT n.actor, 'invoice.decide', 'invoice', u.id::text, '{"status": "pending"}'::jsonb,
	       jsonb_build_object('status', u.status, 'decision_reason', u.reason, 'cpam_amount', u.cpam::text,
	                          'city_amount', u.city::text)
	       || CASE WHEN u.status = 'released' THEN jsonb_build_object('regime', u.regime, 'rights_decision_id', u.decision_id::text)
	               ELSE '{}'::jsonb END
	FROM upd u CROSS JOIN n
)
SELECT count(*) FROM upd`

// rawSweep runs, as one SQL statement in one transaction on ownerURL, the
// same state change job ("deadline" or "release") makes through passd:
// invoice statuses and amounts, claims, payouts, journal entries, audit
// rows. Returns the invoices decided.
func rawSweep(ctx context.Context, ownerURL, job string) (int64, error) {
	selector, ok := rawSelectors[job]
	if !ok {
		return 0, fmt.Errorf("bench: raw sweep: no job %q (deadline or release)", job)
	}
	conn, err := pgx.Connect(ctx, ownerURL)
	if err != nil {
		return 0, fmt.Errorf("bench: raw sweep: %w", err)
	}
	defer conn.Close(ctx)
	var decided int64
	err = pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
		return tx.QueryRow(ctx, fmt.Sprintf(rawSweepSQL, selector), "job:"+job).Scan(&decided)
	})
	if err != nil {
		return 0, fmt.Errorf("bench: raw %s sweep: %w", job, err)
	}
	return decided, nil
}
