package claims

import (
	"context"
	"fmt"
	"io"
	"iter"
	"maps"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"

	"passd/audit"
	"passd/calendar"
	"passd/claims/cpamfile"
	"passd/db"
	"passd/fault"
	"passd/ident"
	"passd/journal"
	"passd/money"
	"passd/settlement"
)

// claimBatchColumns are a batch with the tally of the claims it sent (c,
// joined on the left: a batch of cancellations only sent none), named as
// ClaimBatch's fields so that pgx.RowToStructByName reads them.
const claimBatchColumns = `b.id, b.claim_count, b.cancellation_count, b.total, b.created_at, b.creator,
	count(*) FILTER (WHERE c.status = 'transmitted') AS transmitted, count(*) FILTER (WHERE c.status = 'paid') AS paid,
	count(*) FILTER (WHERE c.status = 'rejected') AS rejected, count(*) FILTER (WHERE c.status = 'cancelled') AS cancelled,
	coalesce(sum(c.paid_amount), 0) AS paid_amount`

// CreateClaimBatch gathers every queued claim into a new batch and marks
// them transmitted, and gives the batch every cancellation still to send
// (a claim sent earlier, then cancelled). ok is false when there was
// neither. Claims and cancellations another process is batching at the
// same moment are skipped, never batched twice.
func (s *Store) CreateClaimBatch(ctx context.Context, actor audit.Actor) (b ClaimBatch, ok bool, err error) {
	err = db.InTx(ctx, s.pool, func(tx pgx.Tx) error {
		ok = false
		var ids, cancelIDs []int64
		var count int
		var total decimal.NullDecimal
		err := tx.QueryRow(ctx, `
			WITH q AS (SELECT id, amount FROM claims WHERE status = 'queued' AND tenant_id = passd_tenant() ORDER BY id FOR UPDATE SKIP LOCKED)
			SELECT coalesce(array_agg(id ORDER BY id), '{}'), count(*), sum(amount) FROM q`).Scan(&ids, &count, &total)
		if err != nil {
			return fmt.Errorf("claims: queued claims: %w", err)
		}
		// The predicate is claims_cancel_pending_idx's. A cancellation that
		// another batch took after this statement's snapshot is skipped
		// (locked) or, once that batch committed, re-checked and dropped.
		err = tx.QueryRow(ctx, `
			WITH q AS (SELECT id FROM claims WHERE status = 'cancelled' AND batch_id IS NOT NULL AND cancel_batch_id IS NULL
			             AND tenant_id = passd_tenant()
			           ORDER BY id FOR UPDATE SKIP LOCKED)
			SELECT coalesce(array_agg(id ORDER BY id), '{}') FROM q`).Scan(&cancelIDs)
		if err != nil {
			return fmt.Errorf("claims: cancellations to send: %w", err)
		}
		if count == 0 && len(cancelIDs) == 0 {
			return nil
		}
		now := s.now()
		var batchID int64
		var createdBy *int64
		if actor.UserID != 0 {
			createdBy = &actor.UserID
		}
		if err := tx.QueryRow(ctx, `INSERT INTO claim_batches (claim_count, cancellation_count, total, created_at, created_by, creator)
			VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`, count, len(cancelIDs), total.Decimal, now, createdBy, actor.Name).Scan(&batchID); err != nil {
			return fmt.Errorf("claims: insert batch: %w", err)
		}
		tag, err := tx.Exec(ctx, `UPDATE claims SET status = 'transmitted', batch_id = $2 WHERE id = ANY($1) AND status = 'queued' AND tenant_id = passd_tenant()`, ids, batchID)
		if err != nil {
			return fmt.Errorf("claims: transmit: %w", err)
		}
		if tag.RowsAffected() != int64(count) {
			return fmt.Errorf("claims: transmit: %d of %d claims changed", tag.RowsAffected(), count)
		}
		tag, err = tx.Exec(ctx, `UPDATE claims SET cancel_batch_id = $2 WHERE id = ANY($1) AND status = 'cancelled' AND cancel_batch_id IS NULL
			  AND tenant_id = passd_tenant()`,
			cancelIDs, batchID)
		if err != nil {
			return fmt.Errorf("claims: send cancellations: %w", err)
		}
		if tag.RowsAffected() != int64(len(cancelIDs)) {
			return fmt.Errorf("claims: send cancellations: %d of %d claims changed", tag.RowsAffected(), len(cancelIDs))
		}
		if err := audit.Append(ctx, tx, audit.Entry{Actor: actor, Action: "claim_batch.create", Entity: "claim_batch", EntityID: ident.FormatID(batchID),
			After: map[string]any{"claim_count": count, "cancellation_count": len(cancelIDs), "total": money.Format(total.Decimal)}}); err != nil {
			return err
		}
		if err := audit.AppendSame(ctx, tx, actor, "claim.transmit", "claim", ids,
			map[string]any{"status": settlement.ClaimQueued}, map[string]any{"status": settlement.ClaimTransmitted, "batch_id": ident.FormatID(batchID)}); err != nil {
			return err
		}
		if err := audit.AppendSame(ctx, tx, actor, "claim.cancellation_sent", "claim", cancelIDs,
			map[string]any{"cancel_batch_id": nil}, map[string]any{"cancel_batch_id": ident.FormatID(batchID)}); err != nil {
			return err
		}
		b = ClaimBatch{ID: batchID, ClaimCount: count, CancellationCount: len(cancelIDs), Total: total.Decimal, CreatedAt: now,
			Creator: actor.Name, Transmitted: count}
		ok = true
		return nil
	})
	return b, ok, err
}

// ClaimBatchJob is the claim-batch job: it batches every queued claim and
// every cancellation to send, and returns how many of both it sent.
func (s *Store) ClaimBatchJob(ctx context.Context) (int64, error) {
	b, _, err := s.CreateClaimBatch(ctx, audit.Job("claim-batch"))
	return int64(b.ClaimCount + b.CancellationCount), err
}

// ClaimBatch returns one batch with the tally of its claims.
func (s *Store) ClaimBatch(ctx context.Context, id int64) (ClaimBatch, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+claimBatchColumns+`
		FROM claim_batches b LEFT JOIN claims c ON c.batch_id = b.id AND c.tenant_id = passd_tenant()
		WHERE b.id = $1 AND b.tenant_id = passd_tenant() GROUP BY b.id`, id)
	if err != nil {
		return ClaimBatch{}, db.Translate(fmt.Errorf("claims: batch %d: %w", id, err))
	}
	b, err := pgx.CollectExactlyOneRow(rows, pgx.RowToStructByName[ClaimBatch])
	if err != nil {
		return ClaimBatch{}, db.Translate(fmt.Errorf("claims: batch %d: %w", id, err))
	}
	return b, nil
}

// claimBatchFilterSQL is the WHERE of BatchFilter on claim_batches b, its
// values $1 to $4 (BatchFilter.args): a batch is open while one of its
// claims is transmitted, and has rejections once one is rejected.
const claimBatchFilterSQL = `($1::boolean IS NULL OR $1 = EXISTS (SELECT 1 FROM claims w
		  WHERE w.batch_id = b.id AND w.status = 'transmitted' AND w.tenant_id = passd_tenant()))
		AND ($2::boolean IS NULL OR $2 = EXISTS (SELECT 1 FROM claims r
		  WHERE r.batch_id = b.id AND r.status = 'rejected' AND r.tenant_id = passd_tenant()))
		AND ($3::date IS NULL OR (b.created_at AT TIME ZONE 'Europe/Paris')::date >= $3)
		AND ($4::date IS NULL OR (b.created_at AT TIME ZONE 'Europe/Paris')::date <= $4)`

// args are claimBatchFilterSQL's values: whether the batch is open, and
// has rejections (nil: either), and the days it was created between (nil:
// unbounded). A status or a choice of rejections that is none is refused
// rather than read as every batch.
func (f BatchFilter) args() ([]any, error) {
	var open, rejected *bool
	switch f.Status {
	case "":
	case settlement.ClaimBatchOpen, settlement.ClaimBatchSettled:
		isOpen := f.Status == settlement.ClaimBatchOpen
		open = &isOpen
	default:
		return nil, fault.Field("status", "no claim batch status %q", f.Status)
	}
	switch f.Rejections {
	case "":
	case WithRejections, WithoutRejections:
		hasRejections := f.Rejections == WithRejections
		rejected = &hasRejections
	default:
		return nil, fault.Field("rejections", "no choice of rejections %q", f.Rejections)
	}
	var from, to *calendar.Date
	if !f.CreatedFrom.IsZero() {
		from = &f.CreatedFrom
	}
	if !f.CreatedTo.IsZero() {
		to = &f.CreatedTo
	}
	return []any{open, rejected, from, to}, nil
}

// ClaimBatches lists the batches f matches, newest first (or oldest first,
// as page says). The page is cut from the batches before their claims are
// tallied, so a page reads its own batches' claims only.
func (s *Store) ClaimBatches(ctx context.Context, f BatchFilter, page db.PageRequest) ([]ClaimBatch, error) {
	args, err := f.args()
	if err != nil {
		return nil, err
	}
	keyset, order := page.IDKeyset("b.id", 5)
	rows, err := s.pool.Query(ctx, `SELECT `+claimBatchColumns+`
		FROM (SELECT * FROM claim_batches b WHERE b.tenant_id = passd_tenant() AND `+claimBatchFilterSQL+`
		      AND `+keyset+` ORDER BY `+order+` LIMIT $6) b
		LEFT JOIN claims c ON c.batch_id = b.id AND c.tenant_id = passd_tenant()
		GROUP BY b.id, b.claim_count, b.cancellation_count, b.total, b.created_at, b.creator ORDER BY `+order,
		append(args, page.IDKeysetArg(), page.Limit+1)...)
	if err != nil {
		return nil, db.Translate(fmt.Errorf("claims: list batches: %w", err))
	}
	out, err := pgx.CollectRows(rows, pgx.RowToStructByName[ClaimBatch])
	return out, db.Translate(err)
}

// CountClaimBatches is how many batches f matches, for the list's count.
func (s *Store) CountClaimBatches(ctx context.Context, f BatchFilter) (int64, error) {
	args, err := f.args()
	if err != nil {
		return 0, err
	}
	var n int64
	err = s.pool.QueryRow(ctx, `SELECT count(*) FROM claim_batches b WHERE b.tenant_id = passd_tenant() AND `+claimBatchFilterSQL, args...).Scan(&n)
	if err != nil {
		return 0, db.Translate(fmt.Errorf("claims: count batches: %w", err))
	}
	return n, nil
}

// ExportClaimBatch writes batch id with w for actor, streaming its claims,
// then its cancellations, from one repeatable-read snapshot. The file
// names its patients: every file in the batch (by a claim or a
// cancellation) is logged as read by actor first, in one statement
// committed before the first byte is written.
func (s *Store) ExportClaimBatch(ctx context.Context, actor audit.Actor, id int64, out io.Writer, w cpamfile.Writer) error {
	userID, name := accessActor(actor)
	if _, err := s.pool.Exec(ctx, `
		INSERT INTO patient_access_log (at, user_id, user_name, patient_id, purpose)
		SELECT $2, $3, $4, patient_id, '`+AccessClaimExport+`'
		FROM (SELECT i.patient_id FROM claims c JOIN invoices i ON i.id = c.invoice_id AND i.tenant_id = passd_tenant()
		      WHERE c.batch_id = $1 AND c.tenant_id = passd_tenant()
		      UNION
		      SELECT i.patient_id FROM claims c JOIN invoices i ON i.id = c.invoice_id AND i.tenant_id = passd_tenant()
		      WHERE c.cancel_batch_id = $1 AND c.tenant_id = passd_tenant()
		      ORDER BY 1) AS p`,
		id, s.now(), userID, name); err != nil {
		return db.Translate(fmt.Errorf("claims: export batch %d: access log: %w", id, err))
	}
	return db.InTxOptions(ctx, s.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		var h cpamfile.Header
		var batchID int64
		err := tx.QueryRow(ctx, `SELECT id, created_at, claim_count, cancellation_count, total FROM claim_batches WHERE id = $1 AND tenant_id = passd_tenant()`, id).
			Scan(&batchID, &h.CreatedAt, &h.ClaimCount, &h.CancellationCount, &h.Total)
		if err != nil {
			return db.Translate(fmt.Errorf("claims: batch %d: %w", id, err))
		}
		h.BatchID = ident.FormatID(batchID)
		rows, err := tx.Query(ctx, `
			SELECT c.id, c.kind, c.invoice_id, i.external_ref, c.amount, coalesce(c.line_rates[l.position], c.rate), i.care_date,
			       pr.kind, pr.name, coalesce(pr.rpps, ''), coalesce(pr.finess, ''),
			       pt.id, pt.file_number, pt.identity_pending, coalesce(pt.last_name_enc, ''), coalesce(pt.first_name_enc, ''),
			       coalesce(pt.birth_date_enc, ''), coalesce(pt.nir_enc, ''),
			       coalesce(c.regime, ''), coalesce(c.reference, ''),
			       l.code, l.quantity, l.unit_price
			FROM claims c
			JOIN invoices i ON i.id = c.invoice_id AND i.tenant_id = passd_tenant()
			JOIN providers pr ON pr.id = i.provider_id AND pr.tenant_id = passd_tenant()
			JOIN patients pt ON pt.id = i.patient_id AND pt.tenant_id = passd_tenant()
			JOIN invoice_lines l ON l.invoice_id = i.id AND l.tenant_id = passd_tenant()
			WHERE c.batch_id = $1 AND c.tenant_id = passd_tenant()
			ORDER BY c.id, l.position`, id)
		if err != nil {
			return fmt.Errorf("claims: export batch %d: %w", id, err)
		}
		defer rows.Close()
		if err := w.Write(out, h, s.claimsFromRows(rows), s.cancellations(ctx, tx, id)); err != nil {
			return fmt.Errorf("claims: export batch %d: %w", id, err)
		}
		return nil
	})
}

// cancellations yields the cancellations batch id carries, each as its
// claim was sent: the claim's kind, amount, regime and reference, with the
// patient's identity opened. Its query runs when the writer first pulls,
// which is after the claims' rows are all read: one transaction reads one
// result at a time.
func (s *Store) cancellations(ctx context.Context, tx pgx.Tx, id int64) iter.Seq2[cpamfile.Cancellation, error] {
	return func(yield func(cpamfile.Cancellation, error) bool) {
		rows, err := tx.Query(ctx, `
			SELECT c.id, c.kind, c.batch_id, c.invoice_id, c.amount, c.cancelled_at,
			       coalesce(c.regime, ''), coalesce(c.reference, ''),
			       pt.id, pt.file_number, pt.identity_pending, coalesce(pt.last_name_enc, ''), coalesce(pt.first_name_enc, ''),
			       coalesce(pt.birth_date_enc, ''), coalesce(pt.nir_enc, '')
			FROM claims c
			JOIN invoices i ON i.id = c.invoice_id AND i.tenant_id = passd_tenant()
			JOIN patients pt ON pt.id = i.patient_id AND pt.tenant_id = passd_tenant()
			WHERE c.cancel_batch_id = $1 AND c.tenant_id = passd_tenant()
			ORDER BY c.id`, id)
		if err != nil {
			yield(cpamfile.Cancellation{}, fmt.Errorf("cancellations: %w", err))
			return
		}
		defer rows.Close()
		for rows.Next() {
			var claimID, sentBatchID, invoiceID int64
			var cancelledAt time.Time
			var c cpamfile.Cancellation
			var pt Patient
			var si sealedIdentity
			if err := rows.Scan(&claimID, &c.Kind, &sentBatchID, &invoiceID, &c.Amount, &cancelledAt, &c.Regime, &c.DecisionReference,
				&pt.ID, &c.Patient.FileNumber, &si.pending, &si.lastName, &si.firstName, &si.birthDate, &si.nirEnc); err != nil {
				yield(cpamfile.Cancellation{}, fmt.Errorf("cancellations: %w", err))
				return
			}
			if err := s.openIdentity(&pt, si); err != nil {
				yield(cpamfile.Cancellation{}, fmt.Errorf("cancellation of claim %d: %w", claimID, err))
				return
			}
			c.Patient.LastName, c.Patient.FirstName, c.Patient.BirthDate, c.Patient.NIR = pt.LastName, pt.FirstName, pt.BirthDate, pt.NIR
			c.ClaimID, c.SentBatchID, c.InvoiceID = ident.FormatID(claimID), ident.FormatID(sentBatchID), ident.FormatID(invoiceID)
			c.CancelledOn = calendar.Today(cancelledAt)
			if !yield(c, nil) {
				return
			}
		}
		if err := rows.Err(); err != nil {
			yield(cpamfile.Cancellation{}, fmt.Errorf("cancellations: %w", err))
		}
	}
}

// claimsFromRows groups the rows of one claim (one per invoice line) into
// a cpamfile.Claim, yielding each claim as soon as its last line is read.
// The patient's identity is opened once per claim.
func (s *Store) claimsFromRows(rows pgx.Rows) iter.Seq2[cpamfile.Claim, error] {
	return func(yield func(cpamfile.Claim, error) bool) {
		var cur cpamfile.Claim
		var curID int64
		for rows.Next() {
			var id, invoiceID int64
			var c cpamfile.Claim
			var rate decimal.Decimal
			var l cpamfile.Line
			var pt Patient
			var si sealedIdentity
			if err := rows.Scan(&id, &c.Kind, &invoiceID, &c.ExternalRef, &c.Amount, &rate, &c.CareDate,
				&c.Provider.Kind, &c.Provider.Name, &c.Provider.RPPS, &c.Provider.FINESS,
				&pt.ID, &c.Patient.FileNumber, &si.pending, &si.lastName, &si.firstName, &si.birthDate, &si.nirEnc,
				&c.Regime, &c.DecisionReference, &l.Code, &l.Quantity, &l.UnitPrice); err != nil {
				yield(cpamfile.Claim{}, err)
				return
			}
			share, _, err := money.Share(money.LineTotal(l.Quantity, l.UnitPrice), rate)
			if err != nil {
				yield(cpamfile.Claim{}, fmt.Errorf("claim %d: %w", id, err))
				return
			}
			l.CPAMShare = share
			if id != curID {
				if curID != 0 && !yield(cur, nil) {
					return
				}
				if err := s.openIdentity(&pt, si); err != nil {
					yield(cpamfile.Claim{}, fmt.Errorf("claim %d: %w", id, err))
					return
				}
				c.Patient.LastName, c.Patient.FirstName, c.Patient.BirthDate, c.Patient.NIR = pt.LastName, pt.FirstName, pt.BirthDate, pt.NIR
				c.ID, c.InvoiceID = ident.FormatID(id), ident.FormatID(invoiceID)
				cur, curID = c, id
			}
			cur.Lines = append(cur.Lines, l)
		}
		if err := rows.Err(); err != nil {
			yield(cpamfile.Claim{}, err)
			return
		}
		if curID != 0 {
			yield(cur, nil)
		}
	}
}

// Results of one line of a CPAM return.
const (
	ReturnPaid       = "paid"         // paid in full
	ReturnPartial    = "partial"      // paid in part; the city owes the rest
	ReturnRejected   = "rejected"     // rejected; the city owes the claim
	ReturnUnchanged  = "unchanged"    // this outcome was already recorded
	ReturnConflict   = "conflict"     // contradicts the outcome already recorded; nothing changed
	ReturnNotInBatch = "not_in_batch" // no claim of this batch has this id; nothing changed
	ReturnInvalid    = "invalid"      // e.g. paid more than claimed; nothing changed
	ReturnCancelled  = "cancelled"    // the claim was cancelled after a rights correction; nothing changed
)

// ReturnResult is what one line of a return did.
type ReturnResult struct {
	Line    int
	ClaimID int64
	Result  string
	Message string
	Owed    decimal.Decimal // what the city now owes for this claim (partial, rejected)
}

// ImportReturn records the CPAM's answer for claims of batch id. Each line
// settles its claim once: importing the same return again changes nothing,
// and a line contradicting an earlier outcome is reported and changes
// nothing. The lines that settle a claim, their journal postings, the
// payouts for what the CPAM did not pay and the audit rows are written in
// one transaction; what they are is worked out by classifyReturn.
func (s *Store) ImportReturn(ctx context.Context, actor audit.Actor, id int64, lines []cpamfile.ReturnLine) ([]ReturnResult, error) {
	today := calendar.Today(s.now())
	for i, l := range lines {
		if l.Outcome == settlement.ClaimPaid && l.PaidOn.After(today) {
			return nil, fault.Field(fmt.Sprintf("lines[%d].paid_on", i), "paid_on %s is in the future", l.PaidOn)
		}
	}
	var results []ReturnResult
	err := db.InTx(ctx, s.pool, func(tx pgx.Tx) error {
		// Two imports for one batch take turns.
		var batchID int64
		if err := tx.QueryRow(ctx, `SELECT id FROM claim_batches WHERE id = $1 AND tenant_id = passd_tenant() FOR UPDATE`, id).Scan(&batchID); err != nil {
			return db.Translate(fmt.Errorf("claims: batch %d: %w", id, err))
		}
		current, err := lockReturnClaims(ctx, tx, id, lines)
		if err != nil {
			return err
		}
		var set returnWrites
		results, set = classifyReturn(id, lines, current, actor)
		return s.settle(ctx, tx, id, actor, set)
	})
	if err != nil {
		return nil, err
	}
	return results, nil
}

// returnClaim is a claim of a batch as a return finds it.
type returnClaim struct {
	invoiceID     int64
	amount        decimal.Decimal
	status        settlement.ClaimStatus
	paidAmount    *decimal.Decimal
	paidOn        calendar.Date
	reason        string
	cancelBatchID int64 // the batch that carried its cancellation, if cancelled and sent
}

// lockReturnClaims reads and locks the claims of batch id that the lines
// name, by claim id. A line naming another claim finds nothing. The lock
// holds until the return's transaction ends, so a claim read transmitted
// here is still transmitted when settle writes it: a correction cancelling
// it (settlement.CancelClaims) waits, and one that committed first is read
// here as cancelled.
func lockReturnClaims(ctx context.Context, tx pgx.Tx, id int64, lines []cpamfile.ReturnLine) (map[int64]returnClaim, error) {
	ids := make([]int64, len(lines))
	for i, l := range lines {
		ids[i] = l.ClaimID
	}
	current := map[int64]returnClaim{}
	rows, err := tx.Query(ctx, `SELECT id, invoice_id, amount, status, paid_amount, paid_on, coalesce(rejection_reason, ''),
		coalesce(cancel_batch_id, 0)
		FROM claims WHERE batch_id = $1 AND id = ANY($2) AND tenant_id = passd_tenant() ORDER BY id FOR UPDATE`, id, ids)
	if err != nil {
		return nil, fmt.Errorf("claims: return's claims: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var cid int64
		var c returnClaim
		if err := rows.Scan(&cid, &c.invoiceID, &c.amount, &c.status, &c.paidAmount, &c.paidOn, &c.reason, &c.cancelBatchID); err != nil {
			return nil, fmt.Errorf("claims: return's claims: %w", err)
		}
		current[cid] = c
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("claims: return's claims: %w", err)
	}
	return current, nil
}

// returnWrites is what a return writes: the claims it settles (the
// columns of the guarded update), their journal postings, the payouts of
// what the CPAM did not pay and the audit rows.
type returnWrites struct {
	ids      []int64
	statuses []settlement.ClaimStatus
	reasons  []string
	paid     []*decimal.Decimal
	paidOn   []*calendar.Date
	postings []journal.Posting
	owed     []settlement.ShortClaim
	entries  []audit.Entry
}

// classifyReturn works out what each line of a return for batch batchID
// does to its claim, as read (claims, by id): the result of every line,
// in order, and the settlement to write. A line settles a transmitted
// claim (paid, partial, rejected); it repeats or contradicts an outcome
// already recorded, including one an earlier line of the same return
// recorded (unchanged, conflict); or it changes nothing (not_in_batch,
// invalid, cancelled). It is pure: claims is left as it is.
func classifyReturn(batchID int64, lines []cpamfile.ReturnLine, claims map[int64]returnClaim, actor audit.Actor) ([]ReturnResult, returnWrites) {
	results := make([]ReturnResult, len(lines))
	current := maps.Clone(claims)
	var set returnWrites
	for i, l := range lines {
		r := ReturnResult{Line: l.Line, ClaimID: l.ClaimID}
		c, found := current[l.ClaimID]
		switch {
		case !found:
			r.Result, r.Message = ReturnNotInBatch, fmt.Sprintf("claim %d is not in batch %d", l.ClaimID, batchID)
		case c.status == settlement.ClaimCancelled:
			r.Result, r.Message = ReturnCancelled, cancelledMessage(l.ClaimID, c.cancelBatchID)
		case c.status == settlement.ClaimPaid || c.status == settlement.ClaimRejected:
			r.Result, r.Message = compareOutcome(l, c.status, c.paidAmount, c.paidOn, c.reason)
		case l.Outcome == settlement.ClaimPaid && l.PaidAmount.GreaterThan(c.amount):
			r.Result, r.Message = ReturnInvalid, fmt.Sprintf("paid_amount %s is more than the %s claimed", money.Format(l.PaidAmount), money.Format(c.amount))
		case l.Outcome == settlement.ClaimPaid:
			set.pay(&r, l, c, actor)
			paid := l.PaidAmount
			c.status, c.paidAmount, c.paidOn = settlement.ClaimPaid, &paid, l.PaidOn
		default:
			set.reject(&r, l, c, actor)
			c.status, c.reason = settlement.ClaimRejected, l.Reason
		}
		if found {
			current[l.ClaimID] = c
		}
		results[i] = r
	}
	return results, set
}

// pay settles claim c as paid by line l, in full or in part: the city
// owes the shortfall.
func (set *returnWrites) pay(r *ReturnResult, l cpamfile.ReturnLine, c returnClaim, actor audit.Actor) {
	paid, paidOn := l.PaidAmount, l.PaidOn
	set.ids, set.statuses, set.reasons = append(set.ids, l.ClaimID), append(set.statuses, settlement.ClaimPaid), append(set.reasons, "")
	set.paid, set.paidOn = append(set.paid, &paid), append(set.paidOn, &paidOn)
	set.postings = append(set.postings, journal.Posting{Movement: journal.ClaimPaid, Amount: paid, InvoiceID: c.invoiceID, ClaimID: l.ClaimID})
	r.Result = ReturnPaid
	if short := c.amount.Sub(paid); short.IsPositive() {
		r.Result, r.Owed = ReturnPartial, short
		set.postings = append(set.postings, journal.Posting{Movement: journal.ClaimShortfall, Amount: short, InvoiceID: c.invoiceID, ClaimID: l.ClaimID})
		set.owe(l.ClaimID, short, settlement.CPAMPartial, "")
	}
	set.entries = append(set.entries, audit.Entry{Actor: actor, Action: "claim.paid", Entity: "claim", EntityID: ident.FormatID(l.ClaimID),
		Before: map[string]any{"status": settlement.ClaimTransmitted},
		After:  map[string]any{"status": settlement.ClaimPaid, "paid_amount": money.Format(paid), "paid_on": paidOn.String()}})
}

// reject settles claim c as rejected by line l: the city owes all of it.
func (set *returnWrites) reject(r *ReturnResult, l cpamfile.ReturnLine, c returnClaim, actor audit.Actor) {
	set.ids, set.statuses, set.reasons = append(set.ids, l.ClaimID), append(set.statuses, settlement.ClaimRejected), append(set.reasons, l.Reason)
	set.paid, set.paidOn = append(set.paid, nil), append(set.paidOn, nil)
	set.postings = append(set.postings, journal.Posting{Movement: journal.ClaimRejected, Amount: c.amount, InvoiceID: c.invoiceID, ClaimID: l.ClaimID})
	set.owe(l.ClaimID, c.amount, settlement.CPAMRejected, l.Reason)
	r.Result, r.Owed = ReturnRejected, c.amount
	set.entries = append(set.entries, audit.Entry{Actor: actor, Action: "claim.rejected", Entity: "claim", EntityID: ident.FormatID(l.ClaimID),
		Before: map[string]any{"status": settlement.ClaimTransmitted}, After: map[string]any{"status": settlement.ClaimRejected, "reason": l.Reason}})
}

func (set *returnWrites) owe(claimID int64, amount decimal.Decimal, reason settlement.Reason, note string) {
	set.owed = append(set.owed, settlement.ShortClaim{ClaimID: claimID, Amount: amount, Reason: reason, Note: note})
}

// settle writes a return's settlement on batch id: the claims (guarded:
// only a transmitted claim of this batch is settled), the journal, the
// payouts of what the CPAM did not pay and the audit rows. The claims are
// those lockReturnClaims locked and read transmitted, so none can have
// been paid or cancelled since; a guard that misses anyway is a bug, and
// the whole return rolls back rather than post money for a claim it did
// not settle.
func (s *Store) settle(ctx context.Context, tx pgx.Tx, id int64, actor audit.Actor, set returnWrites) error {
	if len(set.ids) == 0 {
		return nil
	}
	now := s.now()
	tag, err := tx.Exec(ctx, `
		UPDATE claims c SET status = u.status, paid_amount = u.paid, paid_on = u.paid_on,
		       rejection_reason = nullif(u.reason, ''), settled_at = $7
		FROM unnest($1::bigint[], $2::text[], $3::numeric[], $4::date[], $5::text[]) AS u (id, status, paid, paid_on, reason)
		WHERE c.id = u.id AND c.batch_id = $6 AND c.status = 'transmitted' AND c.tenant_id = passd_tenant()`,
		set.ids, set.statuses, set.paid, set.paidOn, set.reasons, id, now)
	if err != nil {
		return fmt.Errorf("claims: settle: %w", err)
	}
	if tag.RowsAffected() != int64(len(set.ids)) {
		return fmt.Errorf("claims: settle: %d of %d claims changed", tag.RowsAffected(), len(set.ids))
	}
	if err := journal.Post(ctx, tx, now, set.postings...); err != nil {
		return err
	}
	if err := settlement.OweForClaims(ctx, tx, actor, now, set.owed); err != nil {
		return err
	}
	return audit.Append(ctx, tx, set.entries...)
}

// compareOutcome tells whether a return line repeats or contradicts the
// outcome already recorded for its claim.
func compareOutcome(l cpamfile.ReturnLine, status settlement.ClaimStatus, paidAmount *decimal.Decimal, paidOn calendar.Date, reason string) (string, string) {
	if status == settlement.ClaimPaid {
		if l.Outcome == settlement.ClaimPaid && paidAmount != nil && l.PaidAmount.Equal(*paidAmount) && l.PaidOn == paidOn {
			return ReturnUnchanged, ""
		}
		return ReturnConflict, fmt.Sprintf("claim %d was already recorded as paid %s on %s", l.ClaimID, money.Format(*paidAmount), paidOn)
	}
	if l.Outcome == settlement.ClaimRejected {
		return ReturnUnchanged, ""
	}
	return ReturnConflict, fmt.Sprintf("claim %d was already recorded as rejected (%s)", l.ClaimID, reason)
}

// cancelledMessage says why a return line on a cancelled claim changes
// nothing, and where the CPAM finds the claim's cancellation.
func cancelledMessage(claimID, cancelBatchID int64) string {
	if cancelBatchID == 0 {
		return fmt.Sprintf("claim %d was cancelled after a rights correction; its cancellation goes to the CPAM in the next claim batch", claimID)
	}
	return fmt.Sprintf("claim %d was cancelled after a rights correction; its cancellation went to the CPAM in batch %d", claimID, cancelBatchID)
}

// NothingToBatch is the answer when CreateClaimBatch finds no queued claim
// and no cancellation to send.
func NothingToBatch() error {
	return fault.New(fault.Conflict, "there are no queued claims nor cancellations to put in a batch").WithKind(fault.KindNothingToBatch)
}
