package journal

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"passd/db"
)

// A Finding is one invariant and what breaks it.
type Finding struct {
	Name        string   `json:"name"`
	Description string   `json:"description"`
	Violations  int64    `json:"violations"`
	Examples    []string `json:"examples"` // at most 10, naming the rows
}

// Report is the result of Check; OK when no invariant is broken.
type Report struct {
	OK       bool      `json:"ok"`
	Findings []Finding `json:"invariants"`
}

// invariant is a query returning one text row per violation.
type invariant struct {
	name, description, query string
}

var invariants = []invariant{
	{"journal_balanced", "every journal transaction sums to zero (debits = credits)", `
		SELECT 'txn ' || txn_id || ': debit ' || sum(debit) || ', credit ' || sum(credit)
		FROM journal_entries WHERE tenant_id = passd_tenant() GROUP BY txn_id HAVING sum(debit) <> sum(credit) ORDER BY txn_id`},
	{"invoice_settled", "for every decided invoice, what its provider receives (claims open at their amount, paid at what the CPAM paid; payouts not cancelled, less recoveries) = total, and what the city bears (those payouts, plus refunds due to the CPAM) is the total less the CPAM's net (its claims less those refunds); undecided and cancelled invoices have neither", `
		WITH c AS (SELECT invoice_id, sum(CASE status WHEN 'paid' THEN paid_amount WHEN 'rejected' THEN 0 WHEN 'cancelled' THEN 0 ELSE amount END) AS s
		           FROM claims WHERE claims.tenant_id = passd_tenant() GROUP BY invoice_id),
		     f AS (SELECT invoice_id, sum(amount) AS s FROM cpam_refunds WHERE cpam_refunds.tenant_id = passd_tenant() GROUP BY invoice_id),
		     p AS (SELECT invoice_id, sum(amount) FILTER (WHERE status <> 'cancelled') AS s FROM payouts WHERE payouts.tenant_id = passd_tenant() GROUP BY invoice_id),
		     r AS (SELECT invoice_id, sum(amount) AS s FROM provider_recoveries WHERE provider_recoveries.tenant_id = passd_tenant() GROUP BY invoice_id)
		SELECT 'invoice ' || i.id || ' (' || i.status || '): total ' || i.total || ', to the provider ' || coalesce(c.s, 0) + coalesce(p.s, 0) - coalesce(r.s, 0)
		       || ' (CPAM ' || coalesce(c.s, 0) || ', city ' || coalesce(p.s, 0) - coalesce(r.s, 0) || ', refunded to the CPAM ' || coalesce(f.s, 0) || ')'
		FROM invoices i LEFT JOIN c ON c.invoice_id = i.id LEFT JOIN f ON f.invoice_id = i.id
		     LEFT JOIN p ON p.invoice_id = i.id LEFT JOIN r ON r.invoice_id = i.id
		WHERE CASE WHEN i.status IN ('released', 'city_due')
		           THEN coalesce(c.s, 0) + coalesce(p.s, 0) - coalesce(r.s, 0) <> i.total OR coalesce(f.s, 0) > coalesce(c.s, 0)
		           ELSE c.s IS NOT NULL OR p.s IS NOT NULL END
		  AND i.tenant_id = passd_tenant()
		ORDER BY i.id`},
	{"claim_matches_invoice", "a released invoice's current outcome has one claim, asking the CPAM for exactly its CPAM share and not refunded (none when that share is 0: no line the regime covers); a city_due one has none; a claim of an earlier outcome is closed (cancelled, rejected, or paid and refunded)", `
		SELECT 'invoice ' || i.id || ' (' || i.status || ', outcome ' || i.outcome_no || '): cpam share ' || coalesce(i.cpam_amount::text, 'none')
		       || ', claim ' || coalesce(c.id::text, 'none') || ' (' || coalesce(c.status, '') || ' ' || coalesce(c.amount::text, '') || ')'
		FROM invoices i
		LEFT JOIN claims c ON c.invoice_id = i.id AND c.tenant_id = passd_tenant()
		WHERE (CASE WHEN c.outcome_no = i.outcome_no
		           THEN i.status <> 'released' OR c.amount <> i.cpam_amount OR EXISTS (SELECT 1 FROM cpam_refunds f WHERE f.claim_id = c.id AND f.tenant_id = passd_tenant())
		           WHEN c.id IS NOT NULL
		           THEN c.status IN ('queued', 'transmitted') OR (c.status = 'paid' AND NOT EXISTS (SELECT 1 FROM cpam_refunds f WHERE f.claim_id = c.id AND f.tenant_id = passd_tenant()))
		           ELSE i.status = 'released' AND i.cpam_amount > 0 END
		   OR (i.status = 'released' AND i.cpam_amount > 0
		       AND NOT EXISTS (SELECT 1 FROM claims c2 WHERE c2.invoice_id = i.id AND c2.outcome_no = i.outcome_no AND c2.tenant_id = passd_tenant())))
		  AND i.tenant_id = passd_tenant()
		ORDER BY i.id, c.id`},
	{"outcome_history", "an invoice's earlier outcomes are kept, numbered 1 to its current outcome's number less one", `
		SELECT 'invoice ' || i.id || ': outcome ' || i.outcome_no || ', ' || coalesce(h.n, 0) || ' earlier outcomes up to ' || coalesce(h.top, 0)
		FROM invoices i LEFT JOIN (SELECT invoice_id, count(*) AS n, max(outcome_no) AS top FROM invoice_outcomes WHERE invoice_outcomes.tenant_id = passd_tenant() GROUP BY invoice_id) h
		     ON h.invoice_id = i.id
		WHERE (coalesce(h.n, 0) <> i.outcome_no - 1 OR coalesce(h.top, 0) <> i.outcome_no - 1) AND i.tenant_id = passd_tenant()
		ORDER BY i.id`},
	{"payout_in_one_batch", "a payout is in no batch when due, and otherwise in exactly one batch whose status matches its own", `
		SELECT 'payout ' || p.id || ' (' || p.status || ') in batch ' || coalesce(b.id::text, 'none') || ' (' || coalesce(b.status, 'none') || ')'
		FROM payouts p LEFT JOIN payout_batches b ON b.id = p.batch_id AND b.tenant_id = passd_tenant()
		WHERE NOT CASE p.status WHEN 'due' THEN b.id IS NULL
		                        WHEN 'cancelled' THEN b.id IS NULL
		                        WHEN 'batched' THEN b.status IN ('draft', 'submitted')
		                        WHEN 'approved' THEN b.status = 'approved'
		                        WHEN 'paid' THEN b.status = 'paid' AND p.paid_on = b.paid_on END
		  AND p.tenant_id = passd_tenant()
		ORDER BY p.id`},
	{"batch_total", "a batch's total and count are those of its payouts (none once cancelled)", `
		SELECT 'batch ' || b.id || ' (' || b.status || '): total ' || b.total || ' for ' || b.payout_count || ' payouts, payouts sum to ' || coalesce(s.total, 0) || ' for ' || coalesce(s.n, 0)
		FROM payout_batches b
		LEFT JOIN (SELECT batch_id, sum(amount) AS total, count(*) AS n FROM payouts WHERE batch_id IS NOT NULL AND payouts.tenant_id = passd_tenant() GROUP BY batch_id) s ON s.batch_id = b.id
		WHERE CASE WHEN b.status = 'cancelled' THEN s.n IS NOT NULL
		           ELSE s.total IS DISTINCT FROM b.total OR s.n IS DISTINCT FROM b.payout_count END
		  AND b.tenant_id = passd_tenant()
		ORDER BY b.id`},
	{"batch_offsets", "a batch's offset_total is the sum of the recoveries deducted from it (none once cancelled), and a recovery is deducted only from a batch that pays its provider more than what is deducted from it", `
		SELECT 'batch ' || b.id || ' (' || b.status || '): offset_total ' || b.offset_total || ', recoveries deducted sum to ' || coalesce(s.total, 0)
		FROM payout_batches b
		LEFT JOIN (SELECT offset_batch_id, sum(amount) AS total FROM provider_recoveries WHERE offset_batch_id IS NOT NULL AND provider_recoveries.tenant_id = passd_tenant() GROUP BY offset_batch_id) s
		     ON s.offset_batch_id = b.id
		WHERE CASE WHEN b.status = 'cancelled' THEN s.total IS NOT NULL ELSE coalesce(s.total, 0) <> b.offset_total END
		  AND b.tenant_id = passd_tenant()
		UNION ALL
		SELECT 'batch ' || r.offset_batch_id || ': provider ' || r.provider_id || ' has ' || r.total || ' deducted from payouts of ' || coalesce(p.total, 0)
		FROM (SELECT offset_batch_id, provider_id, sum(amount) AS total FROM provider_recoveries WHERE offset_batch_id IS NOT NULL AND provider_recoveries.tenant_id = passd_tenant()
		      GROUP BY offset_batch_id, provider_id) r
		LEFT JOIN (SELECT batch_id, provider_id, sum(amount) AS total FROM payouts WHERE batch_id IS NOT NULL AND payouts.tenant_id = passd_tenant() GROUP BY batch_id, provider_id) p
		     ON p.batch_id = r.offset_batch_id AND p.provider_id = r.provider_id
		WHERE coalesce(p.total, 0) <= r.total`},
	{"accounts_match", "each account's balance equals what the tables say is open: cpam_receivable = claims queued or transmitted; cpam_payable = refunds due to the CPAM; provider_payable = open claims + payouts neither paid nor cancelled, less recoveries not yet deducted from a paid batch; pass_expense = payouts not cancelled + refunds − recoveries; regie_bank = payouts paid less recoveries deducted", `
		WITH open_claims AS (SELECT coalesce(sum(amount), 0) AS v FROM claims WHERE status IN ('queued', 'transmitted') AND claims.tenant_id = passd_tenant()),
		     owed AS (SELECT coalesce(sum(amount), 0) AS v FROM payouts WHERE status NOT IN ('paid', 'cancelled') AND payouts.tenant_id = passd_tenant()),
		     live AS (SELECT coalesce(sum(amount), 0) AS v FROM payouts WHERE status <> 'cancelled' AND payouts.tenant_id = passd_tenant()),
		     paid AS (SELECT coalesce(sum(amount), 0) AS v FROM payouts WHERE status = 'paid' AND payouts.tenant_id = passd_tenant()),
		     refunds AS (SELECT coalesce(sum(amount), 0) AS v FROM cpam_refunds WHERE cpam_refunds.tenant_id = passd_tenant()),
		     recovered AS (SELECT coalesce(sum(amount), 0) AS v FROM provider_recoveries WHERE provider_recoveries.tenant_id = passd_tenant()),
		     deducted AS (SELECT coalesce(sum(r.amount), 0) AS v FROM provider_recoveries r
		                  JOIN payout_batches b ON b.id = r.offset_batch_id AND b.status = 'paid' AND b.tenant_id = passd_tenant()
		                  WHERE r.tenant_id = passd_tenant()),
		     j AS (SELECT account, sum(debit) - sum(credit) AS balance FROM journal_entries WHERE journal_entries.tenant_id = passd_tenant() GROUP BY account),
		     t AS (
			SELECT 'cpam_receivable' AS account, (SELECT v FROM open_claims) AS expected
			UNION ALL SELECT 'cpam_payable', -(SELECT v FROM refunds)
			UNION ALL SELECT 'provider_payable', -((SELECT v FROM open_claims) + (SELECT v FROM owed))
			                                      + (SELECT v FROM recovered) - (SELECT v FROM deducted)
			UNION ALL SELECT 'pass_expense', (SELECT v FROM live) + (SELECT v FROM refunds) - (SELECT v FROM recovered)
			UNION ALL SELECT 'regie_bank', -(SELECT v FROM paid) + (SELECT v FROM deducted))
		SELECT t.account || ': balance ' || coalesce(j.balance, 0) || ', expected ' || t.expected
		FROM t LEFT JOIN j ON j.account = t.account
		WHERE coalesce(j.balance, 0) <> t.expected ORDER BY t.account`},
}

// Check verifies every invariant over the whole database, in one
// repeatable-read snapshot so that work in flight cannot show as a false
// violation.
func Check(ctx context.Context, b db.TxBeginner) (Report, error) {
	report := Report{OK: true}
	err := db.InTxOptions(ctx, b, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		report = Report{OK: true}
		for _, inv := range invariants {
			f, err := run(ctx, tx, inv)
			if err != nil {
				return err
			}
			if f.Violations > 0 {
				report.OK = false
			}
			report.Findings = append(report.Findings, f)
		}
		return nil
	})
	return report, err
}

func run(ctx context.Context, tx pgx.Tx, inv invariant) (Finding, error) {
	f := Finding{Name: inv.name, Description: inv.description, Examples: []string{}}
	rows, err := tx.Query(ctx, inv.query)
	if err != nil {
		return f, fmt.Errorf("journal: check %s: %w", inv.name, err)
	}
	defer rows.Close()
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return f, fmt.Errorf("journal: check %s: %w", inv.name, err)
		}
		f.Violations++
		if len(f.Examples) < 10 {
			f.Examples = append(f.Examples, s)
		}
	}
	if err := rows.Err(); err != nil {
		return f, fmt.Errorf("journal: check %s: %w", inv.name, err)
	}
	return f, nil
}
