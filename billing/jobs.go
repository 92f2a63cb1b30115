package billing

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"

	"passd/audit"
	"passd/calendar"
	"passd/db"
	"passd/ident"
	"passd/rights"
	"passd/settlement"
	"passd/shutdown"
)

// A selector says which pending invoices a job looks at and in which
// order it walks them. where is a condition on the invoice (i) and its
// patient (pt), where $2 is today's Paris date and $3 (and $4) the key, in
// that order, of the last invoice of the previous batch, NULL before the
// first; args follow the key.
// Both jobs apply the same rule (Decide); they differ only in what brings
// an invoice up.
//
// Each batch starts after the last one's key, so a sweep reads each
// candidate once: starting every batch from the beginning would re-read the
// rows decided by earlier batches (or, for a partial index, step over their
// dead entries), which made a sweep of 500,000 invoices quadratic. The
// order is one an index gives, so that LIMIT stops the scan early.
type selector struct {
	where, order string
	key          func(c *candidate) []any // $3, $4… of the next batch
	args         []any                    // after the key
}

var (
	// The pending invoices of the patients whose rights changed ($4),
	// walked in invoice id order (invoices_pending_patient_idx finds each
	// patient's), which keeps the invoices a batch locks and updates
	// together on disk.
	releaseSelector = selector{
		where: `i.patient_id = ANY($4::bigint[]) AND $2::date IS NOT NULL AND i.id > coalesce($3::bigint, 0)`,
		order: `i.id`,
		key:   func(c *candidate) []any { return []any{c.id} },
	}
	// Invoices whose deadline day is over, walked in deadline order
	// (invoices_pending_deadline_idx).
	deadlineSelector = selector{
		where: `i.deadline < $2::date AND (i.deadline, i.id) > (coalesce($3::date, '-infinity'), coalesce($4::bigint, 0))`,
		order: `i.deadline, i.id`,
		key:   func(c *candidate) []any { return []any{c.deadline, c.id} },
	}
)

// maxChangesPerRun bounds the patients one release run takes from
// rights_changes; the next run takes the rest.
const maxChangesPerRun = 50000

// redecideChunk is how many patients' decided invoices one transaction
// decides again.
const redecideChunk = 200

// ReleaseCause is kept with an outcome the release job changed: rights
// recorded or corrected after the invoice was decided.
const ReleaseCause = "droits enregistrés ou corrigés après la décision de la facture"

// ReleaseJob decides the invoices of the patients whose rights changed
// since its last run (rights_changes, written in the transaction of each
// decision, correction, or new invoice on a decided file): their pending
// invoices (Decide), then their decided ones (Redecide: a late opening
// claims the CPAM's share back). Work is proportional to what changed, not
// to the pending invoices. A change is forgotten only once handled, and
// only as it was read: a change made meanwhile stays for the next run, as
// do patients with an invoice blocked by a payout in a batch. It returns
// how many invoices it decided or decided again.
func (s *Store) ReleaseJob(ctx context.Context) (int64, error) {
	patients, seqs, err := s.readChanges(ctx)
	if err != nil || len(patients) == 0 {
		return 0, err
	}
	sel := releaseSelector
	sel.args = []any{patients}
	n, err := s.sweep(ctx, "release", sel)
	if err != nil || shutdown.Requested(ctx) {
		return n, err
	}
	// A pending invoice another process holds (a deadline batch deciding
	// it on rights read before this change) is not decided yet, so it is
	// not among the decided ones decided again below: its patient's change
	// stays for the next run. Looked at before, so that a batch committing
	// meanwhile is seen by what follows.
	busy, err := s.lockedPending(ctx, patients)
	if err != nil {
		return n, err
	}
	m, blocked, err := s.redecideChanged(ctx, patients)
	n += m
	if err != nil || shutdown.Requested(ctx) {
		return n, err
	}
	blocked = append(blocked, busy...)
	if _, err := s.pool.Exec(ctx, `
		DELETE FROM rights_changes r USING unnest($1::bigint[], $2::bigint[]) AS u (patient_id, seq)
		WHERE r.patient_id = u.patient_id AND r.seq = u.seq AND NOT r.patient_id = ANY($3::bigint[]) AND r.tenant_id = passd_tenant()`,
		patients, seqs, blocked); err != nil {
		return n, fmt.Errorf("billing: release: forget changes: %w", err)
	}
	return n, nil
}

// lockedPending returns the patients with a pending invoice that another
// transaction holds now.
func (s *Store) lockedPending(ctx context.Context, patients []int64) ([]int64, error) {
	var busy []int64
	err := db.InTx(ctx, s.pool, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `
			WITH pending AS (SELECT id, patient_id FROM invoices
			                 WHERE patient_id = ANY($1) AND status = 'pending' AND invoices.tenant_id = passd_tenant()),
			     free AS (SELECT i.id FROM invoices i JOIN pending p ON p.id = i.id WHERE i.tenant_id = passd_tenant() FOR UPDATE OF i SKIP LOCKED)
			SELECT DISTINCT patient_id FROM pending WHERE id NOT IN (SELECT id FROM free)`, patients)
		if err != nil {
			return err
		}
		busy, err = pgx.CollectRows(rows, pgx.RowTo[int64])
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("billing: release: invoices held elsewhere: %w", err)
	}
	return busy, nil
}

// readChanges reads the patients whose rights changed, oldest change
// first, with the change's sequence number.
func (s *Store) readChanges(ctx context.Context) (patients, seqs []int64, err error) {
	rows, err := s.pool.Query(ctx, `SELECT patient_id, seq FROM rights_changes WHERE tenant_id = passd_tenant() ORDER BY seq LIMIT $1`, maxChangesPerRun)
	if err != nil {
		return nil, nil, fmt.Errorf("billing: release: changes: %w", err)
	}
	var patient, seq int64
	_, err = pgx.ForEachRow(rows, []any{&patient, &seq}, func() error {
		patients, seqs = append(patients, patient), append(seqs, seq)
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("billing: release: changes: %w", err)
	}
	return patients, seqs, nil
}

// redecideChanged decides again the decided invoices of patients, a chunk
// of patients per transaction. An invoice held by a payout in a batch is
// left as it is: its patient is returned, to be tried again next run.
func (s *Store) redecideChanged(ctx context.Context, patients []int64) (int64, []int64, error) {
	var n int64
	blocked := []int64{}
	actor := audit.Job("release")
	for start := 0; start < len(patients); start += redecideChunk {
		if shutdown.Requested(ctx) {
			return n, blocked, nil
		}
		chunk := patients[start:min(start+redecideChunk, len(patients))]
		err := db.InTx(ctx, s.pool, func(tx pgx.Tx) error {
			res, err := s.RedecidePatients(ctx, tx, actor, chunk, ReleaseCause, false)
			if err != nil {
				return err
			}
			n += int64(res.Changed)
			for _, b := range res.Blocked {
				blocked = append(blocked, b.patientID)
			}
			return nil
		})
		if err != nil {
			return n, blocked, fmt.Errorf("billing: release: decide again: %w", err)
		}
	}
	return n, blocked, nil
}

// DeadlineJob decides the pending invoices whose deadline has passed.
func (s *Store) DeadlineJob(ctx context.Context) (int64, error) {
	return s.sweep(ctx, "deadline", deadlineSelector)
}

// sweep decides invoices in bounded batches, one transaction each, until
// a batch finds nothing left. Rows locked by another process running the
// same or the other sweep are skipped, not waited for: that process is
// deciding them. When passd shuts down, the batch at hand commits and the
// sweep stops there; the next run decides the rest.
func (s *Store) sweep(ctx context.Context, job string, sel selector) (int64, error) {
	var total int64
	var after []any // the key of the last invoice seen, nil before the first batch
	for {
		if err := ctx.Err(); err != nil {
			return total, err
		}
		if shutdown.Requested(ctx) {
			return total, nil
		}
		var n, seen int
		var last []any
		err := db.InTx(ctx, s.pool, func(tx pgx.Tx) error {
			var err error
			n, seen, last, err = s.decideBatch(ctx, tx, job, sel, after)
			return err
		})
		if err != nil {
			return total, fmt.Errorf("billing: %s sweep: %w", job, err)
		}
		total += int64(n)
		// A short batch is the last; a full one moves the key on, even when
		// none of its invoices could be decided, so the walk always ends.
		if seen < s.batchSize {
			return total, nil
		}
		after = last
	}
}

type candidate struct {
	id, providerID int64
	kind           string
	care, deadline calendar.Date
	total          decimal.Decimal
	patientID      int64
	rights         Rights
	outcome        Outcome
	cpam, city     decimal.Decimal
	lineRates      []decimal.Decimal // the CPAM's rate of each line of a released invoice
}

// decideBatch locks up to batchSize pending invoices, decides each with
// Decide, and writes in this transaction: the guarded status change, the
// claims (through ClaimQueue), the payouts and the audit rows — each with
// one set-based statement for the whole batch. Between the reads and the
// writes, pure steps (decideCandidates, shareReleased, planDecisions) work
// out what to write, so that the rule can be tested without a database.
func (s *Store) decideBatch(ctx context.Context, tx pgx.Tx, job string, sel selector, after []any) (decided, seen int, last []any, err error) {
	now := s.now()
	today := calendar.Today(now)
	cands, err := s.lockCandidates(ctx, tx, sel, today, after)
	if err != nil {
		return 0, 0, last, err
	}
	if len(cands) == 0 {
		return 0, 0, last, nil
	}
	last = sel.key(&cands[len(cands)-1])
	book, err := readRateBook(ctx, tx)
	if err != nil {
		return 0, 0, last, err
	}
	if err := readPeriods(ctx, tx, cands); err != nil {
		return 0, 0, last, err
	}
	decidedList, released := decideCandidates(cands, today, book)
	if len(released) > 0 {
		if err := s.splitReleased(ctx, tx, cands, book, released); err != nil {
			return 0, 0, last, err
		}
	}
	if len(decidedList) == 0 {
		return 0, len(cands), last, nil
	}
	done, err := markDecided(ctx, tx, now, decidedList)
	if err != nil {
		return 0, 0, last, err
	}
	actor := audit.Job(job)
	w := planDecisions(decidedList, done, actor)
	if err := s.claims.Queue(ctx, tx, actor, w.claims); err != nil {
		return 0, 0, last, err
	}
	if err := settlement.Owe(ctx, tx, actor, now, w.owed); err != nil {
		return 0, 0, last, err
	}
	if err := audit.Append(ctx, tx, w.entries...); err != nil {
		return 0, 0, last, err
	}
	return len(done), len(cands), last, nil
}

// lockCandidates reads and locks the next batch of pending invoices that
// sel brings up, with their patient's rights: those after the key of the
// previous batch (nil before the first). Rows another process holds are
// skipped.
func (s *Store) lockCandidates(ctx context.Context, tx pgx.Tx, sel selector, today calendar.Date, after []any) ([]candidate, error) {
	if after == nil {
		after = make([]any, len(sel.key(&candidate{}))) // as many NULLs as the key has parts
	}
	rows, err := tx.Query(ctx, `
		SELECT i.id, i.provider_id, pr.kind, i.care_date, i.deadline, i.total, i.patient_id,
		       pt.rights_status, pt.rights_decided_at
		FROM invoices i
		JOIN patients pt ON pt.id = i.patient_id AND pt.tenant_id = passd_tenant()
		JOIN providers pr ON pr.id = i.provider_id AND pr.tenant_id = passd_tenant()
		WHERE i.status = 'pending' AND coalesce(i.review_status, '') <> 'flagged' AND i.tenant_id = passd_tenant() AND `+sel.where+`
		ORDER BY `+sel.order+`
		LIMIT $1
		FOR UPDATE OF i SKIP LOCKED`, append(append([]any{s.batchSize, today}, after...), sel.args...)...)
	if err != nil {
		return nil, fmt.Errorf("select: %w", err)
	}
	cands, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (candidate, error) {
		var c candidate
		var decidedAt *time.Time
		err := r.Scan(&c.id, &c.providerID, &c.kind, &c.care, &c.deadline, &c.total, &c.patientID,
			&c.rights.Status, &decidedAt)
		if decidedAt != nil {
			c.rights.DecidedOn = calendar.Today(*decidedAt)
		}
		return c, err
	})
	if err != nil {
		return nil, fmt.Errorf("select: %w", err)
	}
	return cands, nil
}

// decideCandidates applies Decide to each candidate on day today. It
// returns the candidates it decided, each with its outcome and, unless it
// is released, its shares (the city's is the whole total), and the ids of
// the released ones, whose shares depend on their lines (shareReleased).
// Undecided candidates stay pending. It is pure: no database, no clock.
func decideCandidates(cands []candidate, today calendar.Date, book RateBook) (decided []*candidate, released []int64) {
	for i := range cands {
		c := &cands[i]
		c.outcome = Decide(c.care, c.deadline, c.rights, today, book.KindRate(c.kind, c.care))
		switch c.outcome.Status {
		case "":
			continue
		case StatusReleased:
			released = append(released, c.id)
		default:
			c.cpam, c.city = decimal.Zero, c.total
		}
		decided = append(decided, c)
	}
	return decided, released
}

// readPeriods reads the opened, not superseded periods of the candidates'
// patients into their rights.
func readPeriods(ctx context.Context, tx pgx.Tx, cands []candidate) error {
	patients := make([]int64, 0, len(cands))
	for i := range cands {
		patients = append(patients, cands[i].patientID)
	}
	var patientID int64
	var p rights.Period
	var decidedAt time.Time
	byPatient := map[int64][]rights.Period{}
	rows, err := tx.Query(ctx, `
		SELECT patient_id, id, regime, effective_from, effective_to, reference, decided_at
		FROM rights_decisions
		WHERE patient_id = ANY($1) AND decision = 'opened' AND superseded_at IS NULL AND tenant_id = passd_tenant()
		ORDER BY patient_id, id`, patients)
	if err == nil {
		_, err = pgx.ForEachRow(rows, []any{&patientID, &p.DecisionID, &p.Regime, &p.From, &p.To, &p.Reference, &decidedAt}, func() error {
			p.DecidedOn = calendar.Today(decidedAt)
			byPatient[patientID] = append(byPatient[patientID], p)
			p.To = calendar.Date{} // a NULL end leaves the variable as it was
			return nil
		})
	}
	if err != nil {
		return fmt.Errorf("rights periods: %w", err)
	}
	for i := range cands {
		cands[i].rights.Periods = byPatient[cands[i].patientID]
	}
	return nil
}

// shareReleased sets the CPAM and city shares of the released candidates:
// their lines (by invoice id) split by SplitLines at their rates
// (RateBook.LineRates: the period's regime, each line's class, the care
// date, and whether the patient is an adult then, from births). A released
// invoice with a class without a rate, or whose lines do not add up to its
// total, is an error, and the batch writes nothing. It is pure.
func shareReleased(cands []candidate, book RateBook, lines map[int64][]Line, births map[int64]calendar.Date) error {
	for i := range cands {
		c := &cands[i]
		if c.outcome.Status != StatusReleased {
			continue
		}
		ls := lines[c.id]
		classes := make([]RateClass, len(ls))
		for j, l := range ls {
			classes[j] = l.RateClass
		}
		rates, err := book.LineRates(c.outcome.Period.Regime, c.care, classes, Adult(births[c.patientID], c.care))
		if err != nil {
			return fmt.Errorf("invoice %d: %w", c.id, err)
		}
		split, err := SplitLines(ls, rates)
		if err != nil {
			return err
		}
		if !split.CPAM.Add(split.City).Equal(c.total) {
			return fmt.Errorf("invoice %d: lines add up to %s, total is %s", c.id, split.CPAM.Add(split.City), c.total)
		}
		c.cpam, c.city, c.lineRates = split.CPAM, split.City, rates
	}
	return nil
}

// markDecided writes the outcome and shares of the decided invoices and
// returns the ids it changed. The guard (status = 'pending') is what makes
// a decision exactly-once even if a lock were bypassed; only the rows it
// returns get money rows.
func markDecided(ctx context.Context, tx pgx.Tx, now time.Time, decided []*candidate) (map[int64]bool, error) {
	n := len(decided)
	ids, statuses, reasons := make([]int64, n), make([]InvoiceStatus, n), make([]settlement.Reason, n)
	cpams, cities := make([]decimal.Decimal, n), make([]decimal.Decimal, n)
	for i, c := range decided {
		ids[i], statuses[i], reasons[i], cpams[i], cities[i] = c.id, c.outcome.Status, c.outcome.Reason, c.cpam, c.city
	}
	urows, err := tx.Query(ctx, `
		UPDATE invoices i SET status = u.status, decision_reason = u.reason, cpam_amount = u.cpam, city_amount = u.city, decided_at = $6
		FROM unnest($1::bigint[], $2::text[], $3::text[], $4::numeric[], $5::numeric[]) AS u (id, status, reason, cpam, city)
		WHERE i.id = u.id AND i.status = 'pending' AND i.tenant_id = passd_tenant()
		RETURNING i.id`, ids, statuses, reasons, cpams, cities, now)
	if err != nil {
		return nil, fmt.Errorf("decide: %w", err)
	}
	updated, err := pgx.CollectRows(urows, pgx.RowTo[int64])
	if err != nil {
		return nil, fmt.Errorf("decide: %w", err)
	}
	done := make(map[int64]bool, len(updated))
	for _, id := range updated {
		done[id] = true
	}
	return done, nil
}

// decisionWrites is what a batch writes for the invoices it decided,
// besides their status: the claims of their CPAM shares (invoice ids,
// amounts and rates, as ClaimQueue takes them), the payouts of their city
// shares and the audit rows.
type decisionWrites struct {
	claims  []settlement.NewClaim
	owed    []settlement.Owed
	entries []audit.Entry
}

// planDecisions works out the decisionWrites of the decided candidates
// whose status change went through (done): a claim for a positive CPAM
// share, a payout for a positive city share (the ticket modérateur of a
// released invoice, or the outcome's reason when the city pays it all) and
// one audit row each. It is pure.
func planDecisions(decided []*candidate, done map[int64]bool, actor audit.Actor) decisionWrites {
	w := decisionWrites{entries: make([]audit.Entry, 0, len(done))}
	for _, c := range decided {
		if !done[c.id] {
			continue
		}
		if c.cpam.IsPositive() {
			w.claims = append(w.claims, settlement.NewClaim{InvoiceID: c.id, Amount: c.cpam, LineRates: c.lineRates, Period: c.outcome.Period})
		}
		if c.city.IsPositive() {
			reason := c.outcome.Reason
			if c.outcome.Status == StatusReleased {
				reason = settlement.TicketModerateur
			}
			w.owed = append(w.owed, settlement.Owed{InvoiceID: c.id, ProviderID: c.providerID, Amount: c.city, Reason: reason})
		}
		after := map[string]any{"status": c.outcome.Status, "decision_reason": c.outcome.Reason,
			"cpam_amount": c.cpam.StringFixed(2), "city_amount": c.city.StringFixed(2)}
		if c.outcome.Status == StatusReleased {
			after["regime"], after["rights_decision_id"] = c.outcome.Period.Regime, ident.FormatID(c.outcome.Period.DecisionID)
		}
		w.entries = append(w.entries, audit.Entry{Actor: actor, Action: "invoice.decide", Entity: "invoice", EntityID: ident.FormatID(c.id),
			Before: map[string]any{"status": StatusPending}, After: after})
	}
	return w
}
