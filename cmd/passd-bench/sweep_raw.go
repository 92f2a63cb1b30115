package main

// The sweep benchmark's yardstick: the state change a job makes through
// passd, made by SQL alone on an identical copy of the seeded database.

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"passd/billing"
	"passd/calendar"
	"passd/claims"
	"passd/keyring"
)

// The selectors of billing/jobs.go, on the candidate's invoice (i) and
// patient (pt), with n.today for the Paris date; the release job's $4 is
// the patients of the changes it read.
var rawSelectors = map[string]string{
	"release":  `i.patient_id = ANY($4::bigint[])`,
	"deadline": `i.deadline < n.today`,
}

// releaseChangesPerRun is billing's maxChangesPerRun: the patients one
// release run takes from rights_changes, oldest change first.
const releaseChangesPerRun = 50000

// newPostingsCTE is the journal postings of the claims (cl) and payouts
// (po) a statement writes, one transaction each, as journal.Post makes
// them: both raw statements end with it.
const newPostingsCTE = `postings AS MATERIALIZED (
	SELECT nextval('journal_txn_seq') AS txn, p.* FROM (
		SELECT 'claim_queued' AS movement, 'cpam_receivable' AS debit_account, 'provider_payable' AS credit_account,
		       amount, invoice_id, id AS claim_id, NULL::bigint AS payout_id FROM cl
		UNION ALL
		SELECT 'payout_due', 'pass_expense', 'provider_payable', amount, invoice_id, NULL, id FROM po
	) p
),
`

// rateSpansCTE is the rates' history as spans of care dates: the rate of
// a regime and class is in force from its effective_from until the next
// one's (billing.RateBook.At: the latest on or before the care date).
const rateSpansCTE = `rate_spans AS MATERIALIZED (
	SELECT regime, rate_class, rate, effective_from AS lo,
	       lead(effective_from) OVER (PARTITION BY regime, rate_class ORDER BY effective_from) AS hi
	FROM rates
),
`

// rawLineRatesCTEs share the released invoices of decided (reason
// rights_opened) as billing's shareReleased does: each line at the rate of
// its class (invoice_lines.rate_class) under the period's regime in force
// on the care date, but 0 for a 15 % drug under AME for a patient 18 or
// older that day, or whose birth date could not be opened
// (billing.RateBook.LineRates, billing.Adult; the birth dates, which SQL
// cannot open, are $2 and $3); each line's CPAM share rounded half away
// from zero to the cent, which numeric's round does, the city the exact
// remainder (billing.SplitLines), and the line rates by position for the
// claim. A line without a rate in force leaves the shares NULL: passd
// refuses the batch, and the 0 + 0 the statement then writes breaks
// invoices_decision_complete.
const rawLineRatesCTEs = `births AS (
	SELECT * FROM unnest($2::bigint[], $3::date[]) AS b (patient_id, birth)
),
priced AS (
	SELECT d.id, l.position, l.quantity * l.unit_price AS amount,
	       CASE WHEN d.regime = 'ame' AND l.rate_class = 'drug_15'
	                 AND (b.birth IS NULL OR b.birth + interval '18 years' <= d.care_date) THEN 0
	            ELSE s.rate END AS rate
	FROM decided d
	JOIN invoice_lines l ON l.invoice_id = d.id
	LEFT JOIN rate_spans s ON s.regime = d.regime AND s.rate_class = l.rate_class
	     AND s.lo <= d.care_date AND (s.hi IS NULL OR d.care_date < s.hi)
	LEFT JOIN births b ON b.patient_id = d.patient_id
	WHERE d.reason = 'rights_opened'
),
split AS (
	SELECT id,
	       CASE WHEN bool_and(rate IS NOT NULL) THEN sum(round(amount * rate, 2)) END AS cpam,
	       CASE WHEN bool_and(rate IS NOT NULL) THEN sum(amount - round(amount * rate, 2)) END AS city,
	       array_agg(rate ORDER BY position)::numeric(4,3)[] AS line_rates
	FROM priced GROUP BY id
),
`

// rawSweepSQL is the job as one statement: the pending invoices the
// selector brings up, but those flagged for review (billing's
// lockCandidates); rights.InForce (the opened, not superseded period
// covering the care date, decided by the deadline day, with the largest
// rate of the provider's kind in force on the care date, a missing rate
// counting as zero; on a tie the latest decision: billing.RateBook.KindRate)
// and billing.Decide in a CASE (same order of tests); rawLineRatesCTEs for
// the shares and line rates of the released ones; the guarded update,
// then the rows passd writes after it: claims with the period that
// released them and their line rates (claims.Store.Queue), payouts
// (billing's owe), their journal postings (journal.Post, one transaction
// id each) and the audit rows of all three with passd's JSON documents
// (billing's planDecisions: a released invoice's carries its regime and
// decision). The audit rows go in through one INSERT, as passd writes
// them; they are chained after the commit (audit_seal, migration 00007),
// and the bench times that sealing apart. $1 is the actor, $2 and $3 the
// birth dates rawBirths opened.
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
	WHERE i.status = 'pending' AND coalesce(i.review_status, '') <> 'flagged' AND %s
),
` + rateSpansCTE + `in_force AS (
	SELECT DISTINCT ON (c.id) c.id, d.id AS decision_id, d.regime, d.reference
	FROM cand c
	JOIN rights_decisions d ON d.patient_id = c.patient_id AND d.decision = 'opened' AND d.superseded_at IS NULL
	     AND d.effective_from <= c.care_date AND (d.effective_to IS NULL OR c.care_date <= d.effective_to)
	     AND (d.decided_at AT TIME ZONE 'Europe/Paris')::date <= c.deadline
	LEFT JOIN rate_spans r ON r.regime = d.regime AND r.rate_class = c.kind
	     AND r.lo <= c.care_date AND (r.hi IS NULL OR c.care_date < r.hi)
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
` + rawLineRatesCTEs + `final AS (
	-- A released invoice without lines or rate gets 0 + 0, which the
	-- invoices_decision_complete check refuses, as passd refuses it.
	SELECT d.id, d.provider_id, d.reason,
	       CASE WHEN d.reason = 'rights_opened' THEN 'released' ELSE 'city_due' END AS status,
	       CASE WHEN d.reason = 'rights_opened' THEN coalesce(s.cpam, 0) ELSE 0 END::numeric(12,2) AS cpam,
	       CASE WHEN d.reason = 'rights_opened' THEN coalesce(s.city, 0) ELSE d.total END::numeric(12,2) AS city,
	       s.line_rates, d.decision_id, d.regime, d.reference
	FROM decided d LEFT JOIN split s ON s.id = d.id
	WHERE d.reason IS NOT NULL
),
upd AS (
	UPDATE invoices i
	SET status = f.status, decision_reason = f.reason, cpam_amount = f.cpam, city_amount = f.city, decided_at = n.at
	FROM final f CROSS JOIN n
	WHERE i.id = f.id AND i.status = 'pending'
	RETURNING i.id, f.provider_id, f.status, f.reason, f.cpam, f.city, f.line_rates, f.decision_id, f.regime, f.reference
),
cl AS (
	INSERT INTO claims (invoice_id, amount, line_rates, rights_decision_id, regime, reference, created_at)
	SELECT u.id, u.cpam, u.line_rates, u.decision_id, u.regime, u.reference, n.at FROM upd u CROSS JOIN n WHERE u.cpam > 0
	RETURNING id, invoice_id, amount
),
po AS (
	INSERT INTO payouts (invoice_id, provider_id, amount, reason, created_at)
	SELECT u.id, u.provider_id, u.city, CASE WHEN u.status = 'released' THEN 'ticket_moderateur' ELSE u.reason END, n.at
	FROM upd u CROSS JOIN n WHERE u.city > 0
	RETURNING id, invoice_id, amount, reason
),
` + newPostingsCTE + `journal AS (
	INSERT INTO journal_entries (txn_id, posted_at, movement, account, debit, credit, invoice_id, claim_id, payout_id)
	SELECT p.txn, n.at, p.movement, p.debit_account, p.amount, 0, p.invoice_id, p.claim_id, p.payout_id FROM postings p CROSS JOIN n
	UNION ALL
	SELECT p.txn, n.at, p.movement, p.credit_account, 0, p.amount, p.invoice_id, p.claim_id, p.payout_id FROM postings p CROSS JOIN n
),
audit AS (
	INSERT INTO audit_log (actor, action, entity, entity_id, before, after)
	SELECT n.actor, 'claim.queue', 'claim', c.id::text, NULL::jsonb,
	       jsonb_build_object('invoice_id', c.invoice_id::text, 'amount', c.amount::text, 'status', 'queued', 'kind', 'claim')
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

// rawRedecideSQL is billing.RedecidePatients for the patients $4, with
// billing.Redecide in a CASE: the decided invoices (released or city_due,
// not prescribed) with their current outcome's claim; the opened period in
// force on the care date decided by today (whenever it was decided), chosen
// as rawSweepSQL chooses; a released invoice already under that period, or
// prescribed care, stays; with no period in force a released invoice
// becomes the city's (rights_refused or not_covered), a city_due one stays.
// A released one is shared as rawSweepSQL shares (rawLineRatesCTEs, with
// the birth dates $2 and $3).
// A changed invoice gets its next outcome (the trigger keeps the one it
// replaces in invoice_outcomes) with the release job's cause; its open
// claim and its due payouts are cancelled and their journal transactions
// reversed (journal.ReverseAll); the new outcome's claim (a recovery when
// the city held the invoice) and payout follow, posted and audited as
// passd does (settlement.CancelClaims, CancelPayouts, claims.Store.Queue,
// settlement.Owe, billing's planRedecisions).
//
// What the bench's world never holds is not mirrored: a claim the CPAM
// paid (a refund), a payout paid (a recovery from the provider) or in a
// batch (blocked). The summaries of the two copies would tell.
const rawRedecideSQL = `
WITH n AS MATERIALIZED (
	SELECT now() AS at, (now() AT TIME ZONE 'Europe/Paris')::date AS today, $1::text AS actor, $5::text AS cause
),
cur AS MATERIALIZED (
	SELECT i.id, i.provider_id, i.patient_id, i.total, i.care_date, i.status, i.decision_reason, i.outcome_no, pr.kind,
	       pt.rights_status AS rights, c.id AS claim_id, c.status AS claim_status,
	       coalesce(c.rights_decision_id, 0) AS claim_decision, n.today
	FROM invoices i
	JOIN patients pt ON pt.id = i.patient_id
	JOIN providers pr ON pr.id = i.provider_id
	LEFT JOIN claims c ON c.invoice_id = i.id AND c.outcome_no = i.outcome_no
	CROSS JOIN n
	WHERE i.patient_id = ANY($4::bigint[]) AND i.status IN ('released', 'city_due') AND i.decision_reason <> 'prescribed'
	FOR UPDATE OF i
),
` + rateSpansCTE + `decided AS (
	SELECT c.*, f.decision_id, f.regime, f.reference,
	       CASE WHEN f.decision_id IS NOT NULL THEN
	                CASE WHEN c.status = 'released' AND (c.claim_decision = f.decision_id OR c.claim_status = 'paid') THEN NULL
	                     WHEN c.today >= (date_trunc('quarter', c.care_date) + interval '27 months')::date THEN NULL
	                     ELSE 'rights_opened' END
	            WHEN c.status = 'city_due' THEN NULL
	            WHEN c.rights = 'refused' THEN 'rights_refused'
	            ELSE 'not_covered'
	       END AS reason
	FROM cur c
	-- Per invoice: the invoices were decided in this transaction, after
	-- the statistics were taken, and a join planned for the one row they
	-- promise would run the whole search once per invoice.
	LEFT JOIN LATERAL (
		SELECT d.id AS decision_id, d.regime, d.reference
		FROM rights_decisions d
		LEFT JOIN rate_spans r ON r.regime = d.regime AND r.rate_class = c.kind
		     AND r.lo <= c.care_date AND (r.hi IS NULL OR c.care_date < r.hi)
		WHERE d.patient_id = c.patient_id AND d.decision = 'opened' AND d.superseded_at IS NULL
		  AND d.effective_from <= c.care_date AND (d.effective_to IS NULL OR c.care_date <= d.effective_to)
		  AND (d.decided_at AT TIME ZONE 'Europe/Paris')::date <= c.today
		ORDER BY coalesce(r.rate, 0) DESC, d.id DESC
		LIMIT 1
	) f ON true
),
` + rawLineRatesCTEs + `final AS (
	SELECT d.id, d.provider_id, d.outcome_no AS prev, d.status AS was, d.decision_reason AS was_reason, d.claim_id, d.reason,
	       CASE WHEN d.reason = 'rights_opened' THEN 'released' ELSE 'city_due' END AS status,
	       CASE WHEN d.reason = 'rights_opened' THEN coalesce(s.cpam, 0) ELSE 0 END::numeric(12,2) AS cpam,
	       CASE WHEN d.reason = 'rights_opened' THEN coalesce(s.city, 0) ELSE d.total END::numeric(12,2) AS city,
	       s.line_rates, d.decision_id, d.regime, d.reference
	FROM decided d LEFT JOIN split s ON s.id = d.id
	WHERE d.reason IS NOT NULL
),
upd AS (
	UPDATE invoices i
	SET status = f.status, decision_reason = f.reason, cpam_amount = f.cpam, city_amount = f.city, decided_at = n.at,
	    outcome_no = i.outcome_no + 1, outcome_cause = n.cause
	FROM final f CROSS JOIN n
	WHERE i.id = f.id AND i.outcome_no = f.prev AND i.status IN ('released', 'city_due')
	RETURNING i.id, i.outcome_no AS next, f.prev, f.provider_id, f.was, f.was_reason, f.claim_id, f.status, f.reason,
	          f.cpam, f.city, f.line_rates, f.decision_id, f.regime, f.reference
),
ccl AS (
	UPDATE claims c SET status = 'cancelled', cancelled_at = n.at
	FROM upd u CROSS JOIN n
	WHERE c.id = u.claim_id AND c.status IN ('queued', 'transmitted')
	RETURNING c.id, c.invoice_id, c.amount, c.batch_id IS NOT NULL AS sent
),
cpo AS (
	UPDATE payouts p SET status = 'cancelled', cancelled_at = n.at
	FROM upd u CROSS JOIN n
	WHERE p.invoice_id = u.id AND p.status = 'due'
	RETURNING p.id, p.invoice_id, p.amount
),
reversed AS MATERIALIZED (
	SELECT r.txn_id AS old, nextval('journal_txn_seq') AS txn FROM (
		SELECT DISTINCT e.txn_id FROM journal_entries e
		WHERE ((e.movement = 'claim_queued' AND e.claim_id IN (SELECT id FROM ccl))
		    OR (e.movement = 'payout_due' AND e.payout_id IN (SELECT id FROM cpo)))
		  AND NOT EXISTS (SELECT 1 FROM journal_entries x WHERE x.reverses = e.txn_id)
	) r
),
cl AS (
	INSERT INTO claims (invoice_id, amount, line_rates, rights_decision_id, regime, reference, created_at, kind, outcome_no)
	SELECT u.id, u.cpam, u.line_rates, u.decision_id, u.regime, u.reference, n.at,
	       CASE WHEN u.was = 'city_due' THEN 'recovery' ELSE 'claim' END, u.next
	FROM upd u CROSS JOIN n WHERE u.cpam > 0
	RETURNING id, invoice_id, amount, kind
),
po AS (
	INSERT INTO payouts (invoice_id, provider_id, amount, reason, created_at, outcome_no)
	SELECT u.id, u.provider_id, u.city, CASE WHEN u.status = 'released' THEN 'ticket_moderateur' ELSE u.reason END, n.at, u.next
	FROM upd u CROSS JOIN n WHERE u.city > 0
	RETURNING id, invoice_id, amount, reason
),
` + newPostingsCTE + `journal AS (
	INSERT INTO journal_entries (txn_id, posted_at, movement, account, debit, credit, invoice_id, claim_id, payout_id, reverses)
	SELECT r.txn, n.at, 'reversal', e.account, e.credit, e.debit, e.invoice_id, e.claim_id, e.payout_id, e.txn_id
	FROM journal_entries e JOIN reversed r ON e.txn_id = r.old CROSS JOIN n
	UNION ALL
	SELECT p.txn, n.at, p.movement, p.debit_account, p.amount, 0, p.invoice_id, p.claim_id, p.payout_id, NULL FROM postings p CROSS JOIN n
	UNION ALL
	SELECT p.txn, n.at, p.movement, p.credit_account, 0, p.amount, p.invoice_id, p.claim_id, p.payout_id, NULL FROM postings p CROSS JOIN n
),
audit AS (
	INSERT INTO audit_log (actor, action, entity, entity_id, before, after)
	SELECT n.actor, 'invoice.redecide', 'invoice', u.id::text,
	       jsonb_build_object('status', u.was, 'decision_reason', u.was_reason, 'outcome_no', u.prev),
	       jsonb_build_object('status', u.status, 'decision_reason', u.reason, 'cpam_amount', u.cpam::text,
	                          'city_amount', u.city::text, 'outcome_no', u.next, 'cause', n.cause)
	       || CASE WHEN u.status = 'released' THEN jsonb_build_object('regime', u.regime, 'rights_decision_id', u.decision_id::text)
	               ELSE '{}'::jsonb END
	FROM upd u CROSS JOIN n
	UNION ALL
	SELECT n.actor, 'claim.cancel', 'claim', c.id::text, NULL::jsonb,
	       jsonb_build_object('invoice_id', c.invoice_id::text, 'amount', c.amount::text, 'status', 'cancelled', 'cancellation_line', c.sent)
	FROM ccl c CROSS JOIN n
	UNION ALL
	SELECT n.actor, 'payout.cancel', 'payout', p.id::text, '{"status": "due"}'::jsonb,
	       jsonb_build_object('invoice_id', p.invoice_id::text, 'amount', p.amount::text, 'status', 'cancelled')
	FROM cpo p CROSS JOIN n
	UNION ALL
	SELECT n.actor, 'claim.queue', 'claim', c.id::text, NULL::jsonb,
	       jsonb_build_object('invoice_id', c.invoice_id::text, 'amount', c.amount::text, 'status', 'queued', 'kind', c.kind)
	FROM cl c CROSS JOIN n
	UNION ALL
	SELECT n.actor, 'payout.create', 'payout', p.id::text, NULL::jsonb,
	       jsonb_build_object('invoice_id', p.invoice_id::text, 'amount', p.amount::text, 'reason', p.reason, 'status', 'due')
	FROM po p CROSS JOIN n
)
SELECT count(*) FROM upd`

// rawRun is what the raw SQL did: the pending invoices it decided, the
// decided ones it decided again (release only), and the time from its
// transaction's start to its commit.
type rawRun struct {
	Decided, Redecided int64
	Seconds            float64
}

// rawSweep does in one transaction on ownerURL, with as few statements as
// SQL allows, the same state change job ("deadline" or "release") makes
// through passd: invoice statuses and amounts, claims, payouts, journal
// entries, audit rows. Both first open the birth dates the age rule needs
// (rawBirths, with keys: the ring passd runs with). The deadline job is
// then one statement. The release job reads the changes one run takes (the
// oldest releaseChangesPerRun), decides the pending invoices of their
// patients (rawSweepSQL), decides their decided invoices again
// (rawRedecideSQL, a statement of its own: an invoice's row cannot change
// twice in one) and forgets the changes read.
func rawSweep(ctx context.Context, ownerURL, job string, keys *keyring.Ring) (rawRun, error) {
	var run rawRun
	selector, ok := rawSelectors[job]
	if !ok {
		return run, fmt.Errorf("bench: raw sweep: no job %q (deadline or release)", job)
	}
	conn, err := pgx.Connect(ctx, ownerURL)
	if err != nil {
		return run, fmt.Errorf("bench: raw sweep: %w", err)
	}
	defer conn.Close(ctx)
	actor := "job:" + job
	start := time.Now()
	err = pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
		if job != "release" {
			ids, births, err := rawBirths(ctx, tx, keys, nil)
			if err != nil {
				return err
			}
			return tx.QueryRow(ctx, fmt.Sprintf(rawSweepSQL, selector), actor, ids, births).Scan(&run.Decided)
		}
		var patients, seqs []int64
		if err := tx.QueryRow(ctx, `
			SELECT coalesce(array_agg(patient_id ORDER BY seq), '{}'), coalesce(array_agg(seq ORDER BY seq), '{}')
			FROM (SELECT patient_id, seq FROM rights_changes ORDER BY seq LIMIT $1) c`, releaseChangesPerRun).Scan(&patients, &seqs); err != nil {
			return fmt.Errorf("changes: %w", err)
		}
		if len(patients) == 0 {
			return nil
		}
		ids, births, err := rawBirths(ctx, tx, keys, patients)
		if err != nil {
			return err
		}
		if err := tx.QueryRow(ctx, fmt.Sprintf(rawSweepSQL, selector), actor, ids, births, patients).Scan(&run.Decided); err != nil {
			return fmt.Errorf("decide: %w", err)
		}
		if err := tx.QueryRow(ctx, rawRedecideSQL, actor, ids, births, patients, billing.ReleaseCause).Scan(&run.Redecided); err != nil {
			return fmt.Errorf("decide again: %w", err)
		}
		_, err = tx.Exec(ctx, `
			DELETE FROM rights_changes r USING unnest($1::bigint[], $2::bigint[]) AS u (patient_id, seq)
			WHERE r.patient_id = u.patient_id AND r.seq = u.seq`, patients, seqs)
		return err
	})
	run.Seconds = time.Since(start).Seconds()
	if err != nil {
		return run, fmt.Errorf("bench: raw %s sweep: %w", job, err)
	}
	return run, nil
}

// rawBirths opens the birth dates that AME's rule on 15 % drugs needs,
// which SQL alone cannot: those of the patients (nil: every patient) who
// hold an opened, not superseded AME period, as passd opens them
// (claims.Store.BirthDates, in the transaction; a file it cannot open is
// left out, and its patient counted as an adult). passd opens only those
// of the released AME invoices with a 15 % drug line; this is a superset,
// which the statements read only for such lines.
func rawBirths(ctx context.Context, tx pgx.Tx, keys *keyring.Ring, patients []int64) ([]int64, []calendar.Date, error) {
	rows, err := tx.Query(ctx, `
		SELECT DISTINCT patient_id FROM rights_decisions
		WHERE decision = 'opened' AND regime = 'ame' AND superseded_at IS NULL
		  AND ($1::bigint[] IS NULL OR patient_id = ANY($1::bigint[]))`, patients)
	if err != nil {
		return nil, nil, fmt.Errorf("birth dates: %w", err)
	}
	ame, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return nil, nil, fmt.Errorf("birth dates: %w", err)
	}
	// BirthDates needs only the keys and the transaction: no pool.
	opened, err := claims.NewStore(nil, keys, time.Now).BirthDates(ctx, tx, ame)
	if err != nil {
		return nil, nil, err
	}
	ids, births := make([]int64, 0, len(opened)), make([]calendar.Date, 0, len(opened))
	for id, birth := range opened {
		ids, births = append(ids, id), append(births, birth)
	}
	return ids, births, nil
}
