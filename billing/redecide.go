package billing

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"

	"passd/audit"
	"passd/calendar"
	"passd/fault"
	"passd/ident"
	"passd/rights"
	"passd/settlement"
)

// Current is what Redecide needs of a decided invoice's current outcome:
// its status and reason and, when released, the period its claim was
// released under and where that claim stands.
type Current struct {
	Status      InvoiceStatus
	Reason      settlement.Reason
	DecisionID  int64
	ClaimStatus settlement.ClaimStatus
}

// Redecide is the rule for an invoice already decided, once its patient's
// rights have changed (a correction, or a decision recorded late). ok is
// false when the current outcome stands.
//
//   - An opened period in force on the care date, whenever it was decided,
//     releases the invoice to the CPAM while the care is inside its
//     two-year limit: a city_due invoice becomes a recovery from the CPAM,
//     a released one moves to that period. A claim the CPAM already paid
//     stands whatever period now covers the care: the money moved.
//   - With no period in force, a released invoice becomes the city's: the
//     file's latest decision says why (refused, or not covered).
//   - A city_due invoice with no period in force, a prescribed one and a
//     cancelled one do not change.
func Redecide(cur Current, care calendar.Date, r Rights, today calendar.Date, rate func(rights.Regime) decimal.Decimal) (Outcome, bool) {
	if (cur.Status != StatusReleased && cur.Status != StatusCityDue) || cur.Reason == settlement.Prescribed {
		return Outcome{}, false
	}
	if p, ok := rights.InForce(r.Periods, care, today, rate); ok {
		if cur.Status == StatusReleased && (cur.DecisionID == p.DecisionID || cur.ClaimStatus == settlement.ClaimPaid) {
			return Outcome{}, false
		}
		if Prescribed(care, today) {
			return Outcome{}, false
		}
		return Outcome{Status: StatusReleased, Reason: settlement.RightsOpened, Period: p}, true
	}
	if cur.Status == StatusCityDue {
		return Outcome{}, false
	}
	if r.Status == rights.Refused {
		return Outcome{Status: StatusCityDue, Reason: settlement.RightsRefused}, true
	}
	return Outcome{Status: StatusCityDue, Reason: settlement.NotCovered}, true
}

// Redecision is what RedecidePatients did.
type Redecision struct {
	Changed int
	Blocked []Blocked // invoices left as they were, in lenient mode
}

// Blocked is an invoice whose new outcome would undo a payout that sits in
// a payout batch not yet paid: finance must remove it from the draft, or
// the batch be paid, before the invoice can be decided again.
type Blocked struct {
	InvoiceID, PayoutID, BatchID int64
	BatchStatus                  string
	patientID                    int64
}

func (b Blocked) fault() *fault.Error {
	return fault.New(fault.Conflict,
		"invoice %d would be decided again, but its payout %d is in payout batch %d (%s): finance must take it out of the batch (cancel the draft) or the batch be paid first",
		b.InvoiceID, b.PayoutID, b.BatchID, b.BatchStatus).WithKind(fault.KindPayoutBatched).
		WithDetail("batch_id", ident.FormatID(b.BatchID)).WithDetail("invoice_id", ident.FormatID(b.InvoiceID))
}

// decided is a decided invoice as a re-decision reads it.
type decided struct {
	candidate
	cur       Current
	outcomeNo int
	claimID   int64
	claimPaid decimal.Decimal // what the CPAM paid on the current claim
}

// RedecidePatients decides again, in tx, the decided invoices of the given
// patients against their rights as they now stand (Redecide), and undoes
// what each changed outcome no longer owes: an open claim is cancelled, a
// paid one becomes a refund due to the CPAM; payouts still due are
// cancelled, and what the régie paid beyond the city's new share becomes
// a recovery from the provider; the new outcome's claim (a recovery claim
// if the city held the invoice) and payout follow. cause says why, kept
// with the new outcome. A payout in a batch not yet paid blocks its
// invoice: strict returns the first as a 409; otherwise the invoice is
// left as it is and reported.
func (s *Store) RedecidePatients(ctx context.Context, tx pgx.Tx, actor audit.Actor, patients []int64, cause string, strict bool) (Redecision, error) {
	var res Redecision
	now := s.now()
	today := calendar.Today(now)
	book, err := readRateBook(ctx, tx)
	if err != nil {
		return res, err
	}
	// A first look without locks: most files' invoices stand (the release
	// job asks about every file whose rights changed, and the invoices it
	// has just released are among them), and locking them would write to
	// each of their rows. Only those whose outcome would change are locked
	// and looked at again, as they now stand.
	invs, err := readDecided(ctx, tx, patients, nil)
	if err != nil {
		return res, err
	}
	changed, err := redecideAll(ctx, tx, invs, today, book)
	if err != nil || len(changed) == 0 {
		return res, err
	}
	ids := make([]int64, len(changed))
	for i, d := range changed {
		ids[i] = d.id
	}
	if invs, err = readDecided(ctx, tx, nil, ids); err != nil {
		return res, err
	}
	if changed, err = redecideAll(ctx, tx, invs, today, book); err != nil || len(changed) == 0 {
		return res, err
	}
	var released []int64
	for _, d := range changed {
		if d.outcome.Status == StatusReleased {
			released = append(released, d.id)
		}
	}
	money, err := lockMoney(ctx, tx, changed)
	if err != nil {
		return res, err
	}
	kept := changed[:0]
	for _, d := range changed {
		m := money[d.id]
		m.patientID = d.patientID
		if b, ok := m.blocked(d.id); ok {
			if strict {
				return res, b.fault()
			}
			res.Blocked = append(res.Blocked, b)
			continue
		}
		kept = append(kept, d)
	}
	changed = kept
	if err := s.shareRedecided(ctx, tx, changed, book, released); err != nil {
		return res, err
	}
	w := planRedecisions(changed, money, actor, cause)
	if err := s.writeRedecisions(ctx, tx, actor, now, cause, changed, w); err != nil {
		return res, err
	}
	res.Changed = len(changed)
	return res, nil
}

// redecideAll applies Redecide to the invoices, against their patients'
// periods as they now stand, and returns those whose outcome changes, each
// with its new outcome.
func redecideAll(ctx context.Context, tx pgx.Tx, invs []decided, today calendar.Date, book RateBook) ([]*decided, error) {
	if len(invs) == 0 {
		return nil, nil
	}
	cands := make([]candidate, len(invs))
	for i := range invs {
		cands[i] = invs[i].candidate
	}
	if err := readPeriods(ctx, tx, cands); err != nil {
		return nil, err
	}
	var changed []*decided
	for i := range invs {
		d := &invs[i]
		d.rights.Periods = cands[i].rights.Periods
		if out, ok := Redecide(d.cur, d.care, d.rights, today, book.KindRate(d.kind, d.care)); ok {
			d.outcome = out
			changed = append(changed, d)
		}
	}
	return changed, nil
}

// readDecided reads the released and city_due invoices (but the prescribed
// ones, which never change) of the given patients, or, given ids, those
// invoices locked in id order with their current outcome's claim locked
// too. Each comes with its current outcome's claim.
func readDecided(ctx context.Context, tx pgx.Tx, patients, ids []int64) ([]decided, error) {
	lock := ""
	if ids != nil {
		lock = "FOR UPDATE OF i"
	}
	rows, err := tx.Query(ctx, `
		SELECT i.id, i.provider_id, pr.kind, i.care_date, i.deadline, i.total, i.patient_id, pt.rights_status, pt.rights_decided_at,
		       i.status, i.decision_reason, i.outcome_no
		FROM invoices i
		JOIN patients pt ON pt.id = i.patient_id AND pt.tenant_id = passd_tenant()
		JOIN providers pr ON pr.id = i.provider_id AND pr.tenant_id = passd_tenant()
		WHERE (i.patient_id = ANY($1) OR i.id = ANY($2)) AND i.status IN ('released', 'city_due') AND i.decision_reason <> 'prescribed'
		  AND i.tenant_id = passd_tenant()
		ORDER BY i.id `+lock, patients, ids)
	if err != nil {
		return nil, fmt.Errorf("billing: lock decided invoices: %w", err)
	}
	invs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (decided, error) {
		var d decided
		var decidedAt *time.Time
		err := r.Scan(&d.id, &d.providerID, &d.kind, &d.care, &d.deadline, &d.total, &d.patientID, &d.rights.Status, &decidedAt,
			&d.cur.Status, &d.cur.Reason, &d.outcomeNo)
		if decidedAt != nil {
			d.rights.DecidedOn = calendar.Today(*decidedAt)
		}
		return d, err
	})
	if err != nil {
		return nil, fmt.Errorf("billing: lock decided invoices: %w", err)
	}
	if len(invs) == 0 {
		return nil, nil
	}
	invoiceIDs, outcomes := make([]int64, len(invs)), make([]int, len(invs))
	byID := make(map[int64]*decided, len(invs))
	for i := range invs {
		invoiceIDs[i], outcomes[i] = invs[i].id, invs[i].outcomeNo
		byID[invs[i].id] = &invs[i]
	}
	if lock != "" {
		lock = "FOR UPDATE OF c"
	}
	rows, err = tx.Query(ctx, `
		SELECT c.invoice_id, c.id, c.status, coalesce(c.rights_decision_id, 0), coalesce(c.paid_amount, 0)
		FROM claims c JOIN unnest($1::bigint[], $2::int[]) AS u (invoice_id, outcome_no)
		     ON c.invoice_id = u.invoice_id AND c.outcome_no = u.outcome_no
		WHERE c.tenant_id = passd_tenant()
		ORDER BY c.id `+lock, invoiceIDs, outcomes)
	if err != nil {
		return nil, fmt.Errorf("billing: lock current claims: %w", err)
	}
	var invoiceID, claimID, decisionID int64
	var status settlement.ClaimStatus
	var paid decimal.Decimal
	_, err = pgx.ForEachRow(rows, []any{&invoiceID, &claimID, &status, &decisionID, &paid}, func() error {
		d := byID[invoiceID]
		d.claimID, d.cur.ClaimStatus, d.cur.DecisionID, d.claimPaid = claimID, status, decisionID, paid
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("billing: lock current claims: %w", err)
	}
	return invs, nil
}

// invoiceMoney is what the city has paid or owes on one invoice.
type invoiceMoney struct {
	due       []int64         // payouts due, in no batch
	paid      decimal.Decimal // borne by the city: paid by the régie and refunded to the CPAM, less what is being recovered
	inBatch   int64           // a payout in a batch not yet paid, and its batch
	batchID   int64
	batchStat string
	patientID int64
}

func (m invoiceMoney) blocked(invoiceID int64) (Blocked, bool) {
	if m.inBatch == 0 {
		return Blocked{}, false
	}
	return Blocked{InvoiceID: invoiceID, PayoutID: m.inBatch, BatchID: m.batchID, BatchStatus: m.batchStat, patientID: m.patientID}, true
}

// lockMoney locks the payouts of the changed invoices and reads, for each,
// what is due, what the city has borne (paid, refunded to the CPAM, less
// recoveries already recorded) and the first payout sitting in an unpaid
// batch.
func lockMoney(ctx context.Context, tx pgx.Tx, changed []*decided) (map[int64]invoiceMoney, error) {
	ids := make([]int64, len(changed))
	for i, d := range changed {
		ids[i] = d.id
	}
	out := make(map[int64]invoiceMoney, len(changed))
	rows, err := tx.Query(ctx, `
		SELECT p.invoice_id, p.id, p.status, p.amount, coalesce(p.batch_id, 0), coalesce(b.status, '')
		FROM payouts p LEFT JOIN payout_batches b ON b.id = p.batch_id AND b.tenant_id = passd_tenant()
		WHERE p.invoice_id = ANY($1) AND p.status <> 'cancelled' AND p.tenant_id = passd_tenant()
		ORDER BY p.id
		FOR UPDATE OF p`, ids)
	if err != nil {
		return nil, fmt.Errorf("billing: lock payouts: %w", err)
	}
	var invoiceID, payoutID, batchID int64
	var status settlement.PayoutStatus
	var amount decimal.Decimal
	var batchStatus string
	_, err = pgx.ForEachRow(rows, []any{&invoiceID, &payoutID, &status, &amount, &batchID, &batchStatus}, func() error {
		m := out[invoiceID]
		switch status {
		case settlement.PayoutDue:
			m.due = append(m.due, payoutID)
		case settlement.PayoutPaid:
			m.paid = m.paid.Add(amount)
		default:
			if m.inBatch == 0 {
				m.inBatch, m.batchID, m.batchStat = payoutID, batchID, batchStatus
			}
		}
		out[invoiceID] = m
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("billing: lock payouts: %w", err)
	}
	// A refund due to the CPAM for an earlier outcome's paid claim is
	// money the city bears (the provider kept what the CPAM paid): an
	// outcome that moves back to the CPAM counts it, or the provider
	// would keep the CPAM's first payment and receive its second too.
	rows, err = tx.Query(ctx, `SELECT invoice_id, sum(amount) FROM cpam_refunds WHERE invoice_id = ANY($1) AND tenant_id = passd_tenant() GROUP BY invoice_id`, ids)
	if err != nil {
		return nil, fmt.Errorf("billing: refunds: %w", err)
	}
	_, err = pgx.ForEachRow(rows, []any{&invoiceID, &amount}, func() error {
		m := out[invoiceID]
		m.paid = m.paid.Add(amount)
		out[invoiceID] = m
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("billing: refunds: %w", err)
	}
	rows, err = tx.Query(ctx, `SELECT invoice_id, sum(amount) FROM provider_recoveries
		WHERE invoice_id = ANY($1) AND tenant_id = passd_tenant() GROUP BY invoice_id`, ids)
	if err != nil {
		return nil, fmt.Errorf("billing: recoveries: %w", err)
	}
	_, err = pgx.ForEachRow(rows, []any{&invoiceID, &amount}, func() error {
		m := out[invoiceID]
		m.paid = m.paid.Sub(amount)
		out[invoiceID] = m
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("billing: recoveries: %w", err)
	}
	return out, nil
}

// shareRedecided sets the shares of the changed invoices: released ones
// split by their lines at their rates under the new period, the others the
// city's.
func (s *Store) shareRedecided(ctx context.Context, tx pgx.Tx, changed []*decided, book RateBook, released []int64) error {
	cands := make([]candidate, 0, len(changed))
	for _, d := range changed {
		cands = append(cands, d.candidate)
	}
	if len(released) > 0 {
		if err := s.splitReleased(ctx, tx, cands, book, released); err != nil {
			return err
		}
	}
	for i, d := range changed {
		d.candidate = cands[i]
		if d.outcome.Status != StatusReleased {
			d.cpam, d.city = decimal.Zero, d.total
		}
	}
	return nil
}

// redecisionWrites is what the changed outcomes write besides the
// invoices' rows.
type redecisionWrites struct {
	cancelClaims  []int64
	refunds       []settlement.Refund
	cancelPayouts []int64
	recoveries    []settlement.Recovery
	claims        []settlement.NewClaim
	owed          []settlement.Owed
	entries       []audit.Entry
}

// planRedecisions works out, for each changed invoice, what its earlier
// outcome no longer owes and what the new one owes. The city's share is
// what the CPAM does not bear; what the city has borne already (paid by
// the régie, refunded to the CPAM) counts toward it: beyond it, the
// provider is asked back the excess (a recovery); short of it, a new
// payout owes the rest. Every due payout is cancelled and
// owed again as part of that rest, so that one payout carries the new
// outcome's reason. It is pure.
func planRedecisions(changed []*decided, money map[int64]invoiceMoney, actor audit.Actor, cause string) redecisionWrites {
	var w redecisionWrites
	for _, d := range changed {
		next := d.outcomeNo + 1
		// What the city has borne already: what the régie paid, and what it
		// refunds the CPAM for a claim the CPAM paid the provider (the
		// provider keeps that money: the city now pays it).
		borne := money[d.id].paid
		switch d.cur.ClaimStatus {
		case settlement.ClaimQueued, settlement.ClaimTransmitted:
			w.cancelClaims = append(w.cancelClaims, d.claimID)
		case settlement.ClaimPaid:
			w.refunds = append(w.refunds, settlement.Refund{ClaimID: d.claimID, InvoiceID: d.id, Amount: d.claimPaid})
			borne = borne.Add(d.claimPaid)
		}
		if d.cpam.IsPositive() {
			kind := settlement.ClaimOrdinary
			if d.cur.Status == StatusCityDue {
				kind = settlement.ClaimRecovery
			}
			w.claims = append(w.claims, settlement.NewClaim{InvoiceID: d.id, Amount: d.cpam, LineRates: d.lineRates, Period: d.outcome.Period,
				Kind: kind, OutcomeNo: next})
		}
		w.cancelPayouts = append(w.cancelPayouts, money[d.id].due...)
		switch diff := d.city.Sub(borne); {
		case diff.IsPositive():
			reason := d.outcome.Reason
			if d.outcome.Status == StatusReleased {
				reason = settlement.TicketModerateur
			}
			w.owed = append(w.owed, settlement.Owed{InvoiceID: d.id, ProviderID: d.providerID, Amount: diff, Reason: reason, OutcomeNo: next})
		case diff.IsNegative():
			w.recoveries = append(w.recoveries, settlement.Recovery{InvoiceID: d.id, ProviderID: d.providerID, OutcomeNo: next, Amount: diff.Neg()})
		}
		after := map[string]any{"status": d.outcome.Status, "decision_reason": d.outcome.Reason, "cpam_amount": d.cpam.StringFixed(2),
			"city_amount": d.city.StringFixed(2), "outcome_no": next, "cause": cause}
		if d.outcome.Status == StatusReleased {
			after["regime"], after["rights_decision_id"] = d.outcome.Period.Regime, ident.FormatID(d.outcome.Period.DecisionID)
		}
		w.entries = append(w.entries, audit.Entry{Actor: actor, Action: "invoice.redecide", Entity: "invoice", EntityID: ident.FormatID(d.id),
			Before: map[string]any{"status": d.cur.Status, "decision_reason": d.cur.Reason, "outcome_no": d.outcomeNo}, After: after})
	}
	return w
}

// writeRedecisions writes the new outcomes (the trigger keeps the ones
// they replace) and then what they undo and owe, in tx.
func (s *Store) writeRedecisions(ctx context.Context, tx pgx.Tx, actor audit.Actor, now time.Time, cause string, changed []*decided, w redecisionWrites) error {
	n := len(changed)
	ids, outcomes := make([]int64, n), make([]int, n)
	statuses, reasons := make([]InvoiceStatus, n), make([]settlement.Reason, n)
	cpams, cities := make([]decimal.Decimal, n), make([]decimal.Decimal, n)
	causes := make([]string, n)
	for i, d := range changed {
		ids[i], outcomes[i], statuses[i], reasons[i], cpams[i], cities[i] = d.id, d.outcomeNo, d.outcome.Status, d.outcome.Reason, d.cpam, d.city
		causes[i] = cause
	}
	tag, err := tx.Exec(ctx, `
		UPDATE invoices i SET status = u.status, decision_reason = u.reason, cpam_amount = u.cpam, city_amount = u.city,
		       decided_at = $8, outcome_no = i.outcome_no + 1, outcome_cause = u.cause
		FROM unnest($1::bigint[], $2::int[], $3::text[], $4::text[], $5::numeric[], $6::numeric[], $7::text[])
		     AS u (id, outcome_no, status, reason, cpam, city, cause)
		WHERE i.id = u.id AND i.outcome_no = u.outcome_no AND i.status IN ('released', 'city_due') AND i.tenant_id = passd_tenant()`,
		ids, outcomes, statuses, reasons, cpams, cities, causes, now)
	if err != nil {
		return fmt.Errorf("billing: redecide: %w", err)
	}
	if tag.RowsAffected() != int64(n) {
		return fmt.Errorf("billing: redecide: %d of %d invoices still held the outcome read", tag.RowsAffected(), n)
	}
	if err := settlement.CancelClaims(ctx, tx, actor, now, w.cancelClaims); err != nil {
		return err
	}
	if err := settlement.RefundClaims(ctx, tx, actor, now, w.refunds); err != nil {
		return err
	}
	if err := settlement.CancelPayouts(ctx, tx, actor, now, w.cancelPayouts); err != nil {
		return err
	}
	if err := settlement.Recover(ctx, tx, actor, now, w.recoveries); err != nil {
		return err
	}
	if err := s.claims.Queue(ctx, tx, actor, w.claims); err != nil {
		return err
	}
	if err := settlement.Owe(ctx, tx, actor, now, w.owed); err != nil {
		return err
	}
	return audit.Append(ctx, tx, w.entries...)
}
