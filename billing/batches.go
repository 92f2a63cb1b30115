package billing

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"

	"passd/audit"
	"passd/calendar"
	"passd/db"
	"passd/fault"
	"passd/ident"
	"passd/journal"
	"passd/lifecycle"
	"passd/money"
	"passd/settlement"
	"passd/text"
)

// BatchStatus is where a payout batch stands.
type BatchStatus string

// Payout batch statuses.
const (
	BatchDraft     BatchStatus = "draft"
	BatchSubmitted BatchStatus = "submitted"
	BatchApproved  BatchStatus = "approved"
	BatchPaid      BatchStatus = "paid"
	BatchCancelled BatchStatus = "cancelled"
)

// BatchAction moves a payout batch.
type BatchAction string

// Payout batch actions.
const (
	BatchSubmit   BatchAction = "submit"    // its preparer hands it over
	BatchApprove  BatchAction = "approve"   // another user approves it: it is frozen
	BatchCancel   BatchAction = "cancel"    // its payouts are due again
	BatchMarkPaid BatchAction = "mark_paid" // the bank has paid it
)

// BatchMachine is the life of a payout batch; the trigger
// payout_batches_forward_only holds the same table. An approved batch can
// no longer be cancelled: its SEPA file may be at the bank.
var BatchMachine = lifecycle.New([]BatchStatus{BatchDraft, BatchSubmitted, BatchApproved, BatchPaid, BatchCancelled},
	lifecycle.Edge[BatchStatus, BatchAction]{Action: BatchSubmit, From: []BatchStatus{BatchDraft}, To: BatchSubmitted},
	lifecycle.Edge[BatchStatus, BatchAction]{Action: BatchApprove, From: []BatchStatus{BatchSubmitted}, To: BatchApproved},
	lifecycle.Edge[BatchStatus, BatchAction]{Action: BatchCancel, From: []BatchStatus{BatchDraft, BatchSubmitted}, To: BatchCancelled},
	lifecycle.Edge[BatchStatus, BatchAction]{Action: BatchMarkPaid, From: []BatchStatus{BatchApproved}, To: BatchPaid},
)

// BatchStatuses lists every batch status, for filters.
var BatchStatuses = BatchMachine.States()

// Allowed reports whether a batch in s may take action a.
func (s BatchStatus) Allowed(a BatchAction) bool { return BatchMachine.Allowed(s, a) }

// Next is where action a takes a batch in s.
func (s BatchStatus) Next(a BatchAction) (BatchStatus, bool) { return BatchMachine.Next(s, a) }

// HasSEPA reports whether a batch in s has a SEPA file: once approved.
func (s BatchStatus) HasSEPA() bool { return s == BatchApproved || s == BatchPaid }

// PayoutBatch is a set of due payouts the régie pays in one SEPA file,
// less the recoveries from the same providers deducted from it.
type PayoutBatch struct {
	ID             int64           `db:"id"`
	Status         BatchStatus     `db:"status"`
	ProviderID     int64           `db:"provider_id"` // the filter it was drafted with; 0: every provider
	PayoutCount    int             `db:"payout_count"`
	Total          decimal.Decimal `db:"total"`        // the gross of its payouts: what the ceiling and the budget weigh
	OffsetTotal    decimal.Decimal `db:"offset_total"` // the recoveries deducted from it
	Ceiling        decimal.Decimal `db:"ceiling"`
	CreatedAt      time.Time       `db:"created_at"`
	Creator        string          `db:"creator"`
	SubmittedAt    *time.Time      `db:"submitted_at"`
	PreparedBy     string          `db:"prepared_by"`
	PreparedByID   int64           `db:"prepared_by_id"`
	ApprovedAt     *time.Time      `db:"approved_at"`
	ApprovedBy     string          `db:"approved_by"`
	BudgetOverride bool            `db:"budget_override"`
	// The admin's leave to go over the annual budget, given before the
	// approval: who, when and why ("" and nil when none).
	OverrideBy     string          `db:"budget_override_by"`
	OverrideAt     *time.Time      `db:"budget_override_at"`
	OverrideReason string          `db:"budget_override_reason"`
	PaidOn         calendar.Date   `db:"paid_on"`
	CancelledAt    *time.Time      `db:"cancelled_at"`
	SEPASHA256     []byte          `db:"sepa_sha256"` // the SEPA file's, frozen at approval; nil for a batch approved before
	Providers      []BatchProvider `db:"-"`           // filled by PayoutBatch, not by lists
}

// Net is what the régie's bank pays out for the batch.
func (b PayoutBatch) Net() decimal.Decimal { return b.Total.Sub(b.OffsetTotal) }

// BatchProvider is what one provider receives from a batch: the sum of its
// payouts (Amount), less its recoveries deducted (Offset), is Net.
type BatchProvider struct {
	ProviderID  int64
	Name        string
	PayoutCount int
	Amount      decimal.Decimal
	Offset      decimal.Decimal
	Net         decimal.Decimal
}

// batchColumns (with batchFrom) are read into a PayoutBatch by name (its
// db tags). batchFrom ends in its WHERE, the convention's: a caller adds
// its own conditions with AND.
const batchColumns = `b.id, b.status, coalesce(b.provider_id, 0) AS provider_id, b.payout_count, b.total, b.offset_total, b.ceiling, b.created_at,
	b.creator, b.submitted_at, coalesce(up.name, '') AS prepared_by, coalesce(b.prepared_by, 0) AS prepared_by_id, b.approved_at,
	coalesce(ua.name, '') AS approved_by, b.budget_override, b.paid_on, b.cancelled_at, b.sepa_sha256,
	coalesce(uo.name, '') AS budget_override_by, b.budget_override_at, coalesce(b.budget_override_reason, '') AS budget_override_reason`

const batchFrom = ` FROM payout_batches b
	LEFT JOIN users up ON up.id = b.prepared_by AND up.tenant_id = passd_tenant()
	LEFT JOIN users ua ON ua.id = b.approved_by AND ua.tenant_id = passd_tenant()
	LEFT JOIN users uo ON uo.id = b.budget_override_by AND uo.tenant_id = passd_tenant()
	WHERE b.tenant_id = passd_tenant()`

// draftChunk is how many due payouts a draft locks at a time.
const draftChunk = 1000

// DraftPayoutBatch puts due payouts, oldest first, into a new draft batch
// until the next one would take it over the régie's ceiling. A payout
// larger than the ceiling on its own can never be batched and is passed
// over. providerID 0 takes every provider. ok is false when nothing was
// due. Payouts another process is drafting at the same moment are skipped.
// The open recoveries of the batch's providers, no older than the
// settings' RecoveryOffset, are deducted from what each receives
// (pickOffsets); recoveries another draft holds are skipped too.
func (s *Store) DraftPayoutBatch(ctx context.Context, actor audit.Actor, providerID int64) (b PayoutBatch, ok bool, err error) {
	err = db.InTx(ctx, s.pool, func(tx pgx.Tx) error {
		ok = false
		st, err := readSettings(ctx, tx, false)
		if err != nil {
			return err
		}
		if providerID != 0 {
			if _, err := db.One[Provider](ctx, tx, `SELECT `+providerColumns+` FROM providers WHERE id = $1 AND tenant_id = passd_tenant()`,
				providerID); err != nil {
				if errors.Is(err, pgx.ErrNoRows) {
					return fault.Field("provider_id", "no provider has this id")
				}
				return fmt.Errorf("billing: provider %d: %w", providerID, err)
			}
		}
		ids, total, err := lockDuePayouts(ctx, tx, providerID, st.RegieCeiling)
		if err != nil || len(ids) == 0 {
			return err
		}
		offsets, err := lockOffsets(ctx, tx, ids, s.Today().AddDays(-st.RecoveryOffset()))
		if err != nil {
			return err
		}
		id, err := s.insertDraft(ctx, tx, actor, providerID, ids, total, st.RegieCeiling, offsets)
		if err != nil {
			return err
		}
		// readBatch, not a list's read: the draft is what finance reviews before
		// submitting it, so it lists what each provider receives, as every
		// other answer about one batch does.
		b, err = readBatch(ctx, tx, id)
		if err != nil {
			return err
		}
		ok = true
		return nil
	})
	return b, ok, err
}

// duePayout is a due payout as a draft reads it.
type duePayout struct {
	id     int64
	amount decimal.Decimal
}

// lockDuePayouts locks the due payouts of providerID (0: every provider)
// that a new draft takes, a chunk at a time in id order, oldest first,
// until one does not fit under ceiling (fitUnderCeiling) or none is left.
// A held payout is not due, and a provider whose bank details nobody has
// confirmed is passed over (the database refuses to batch it too).
// The query already leaves out the payouts larger than the ceiling alone,
// so that they fill no chunk. It returns their ids and their total.
func lockDuePayouts(ctx context.Context, tx pgx.Tx, providerID int64, ceiling decimal.Decimal) ([]int64, decimal.Decimal, error) {
	var ids []int64
	total := decimal.Zero
	var after int64
	for {
		rows, err := tx.Query(ctx, `
			SELECT id, amount FROM payouts
			WHERE status = 'due' AND id > $1 AND amount <= $2 AND ($3::bigint = 0 OR provider_id = $3) AND payouts.tenant_id = passd_tenant()
			  AND provider_id IN (SELECT id FROM providers WHERE bank_change_id IS NOT NULL AND providers.tenant_id = passd_tenant())
			ORDER BY id LIMIT $4 FOR UPDATE SKIP LOCKED`, after, ceiling, providerID, draftChunk)
		if err != nil {
			return nil, total, fmt.Errorf("billing: due payouts: %w", err)
		}
		chunk, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (duePayout, error) {
			var d duePayout
			err := r.Scan(&d.id, &d.amount)
			return d, err
		})
		if err != nil {
			return nil, total, fmt.Errorf("billing: due payouts: %w", err)
		}
		taken, sum, full := fitUnderCeiling(chunk, total, ceiling)
		ids, total = append(ids, taken...), sum
		if full || len(chunk) < draftChunk {
			return ids, total, nil
		}
		after = chunk[len(chunk)-1].id
	}
}

// fitUnderCeiling takes due payouts, in the order given (oldest first),
// into a batch that already holds total, as long as the batch stays within
// ceiling; reaching the ceiling exactly is within. It stops at the first
// payout that would take the batch over (full), even when a later, smaller
// one would fit: payouts are paid in the order they fell due. A payout
// larger than the ceiling on its own, which no batch could ever hold, is
// passed over. It returns the ids it took and the batch's new total. It is
// pure.
func fitUnderCeiling(due []duePayout, total, ceiling decimal.Decimal) (ids []int64, newTotal decimal.Decimal, full bool) {
	for _, d := range due {
		if d.amount.GreaterThan(ceiling) {
			continue
		}
		if total.Add(d.amount).GreaterThan(ceiling) {
			return ids, total, true
		}
		ids, total = append(ids, d.id), total.Add(d.amount)
	}
	return ids, total, false
}

// openRecovery is a recovery not yet deducted, as a draft reads it.
type openRecovery struct {
	id, providerID int64
	amount         decimal.Decimal
}

// offsets are the recoveries a draft deducts and their total.
type offsets struct {
	ids   []int64
	total decimal.Decimal
}

// lockOffsets locks the open recoveries, created on or after since (Paris
// days), of the providers of the due payouts ids that a draft takes, and
// returns those pickOffsets deducts. SKIP LOCKED: a recovery another draft
// is deducting at this moment is its, and it waits for the next batch.
func lockOffsets(ctx context.Context, tx pgx.Tx, payoutIDs []int64, since calendar.Date) (offsets, error) {
	out := offsets{total: decimal.Zero}
	rows, err := tx.Query(ctx, `SELECT provider_id, sum(amount) FROM payouts WHERE id = ANY($1) AND tenant_id = passd_tenant() GROUP BY provider_id`, payoutIDs)
	if err != nil {
		return out, fmt.Errorf("billing: batch providers: %w", err)
	}
	gross := map[int64]decimal.Decimal{}
	var providers []int64
	var providerID int64
	var sum decimal.Decimal
	if _, err := pgx.ForEachRow(rows, []any{&providerID, &sum}, func() error {
		gross[providerID] = sum
		providers = append(providers, providerID)
		return nil
	}); err != nil {
		return out, fmt.Errorf("billing: batch providers: %w", err)
	}
	rows, err = tx.Query(ctx, `
		SELECT id, provider_id, amount FROM provider_recoveries
		WHERE offset_batch_id IS NULL AND provider_id = ANY($1) AND (created_at AT TIME ZONE 'Europe/Paris')::date >= $2
		  AND tenant_id = passd_tenant()
		ORDER BY created_at, id FOR UPDATE SKIP LOCKED`, providers, since)
	if err != nil {
		return out, fmt.Errorf("billing: open recoveries: %w", err)
	}
	open, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (openRecovery, error) {
		var o openRecovery
		err := r.Scan(&o.id, &o.providerID, &o.amount)
		return o, err
	})
	if err != nil {
		return out, fmt.Errorf("billing: open recoveries: %w", err)
	}
	out.ids, out.total = pickOffsets(gross, open)
	return out, nil
}

// minNet is the least a provider may receive from a batch once its
// recoveries are deducted: a SEPA transfer is of a positive amount.
var minNet = decimal.New(1, -2)

// pickOffsets chooses, among open recoveries in the order given (oldest
// first), those a batch deducts from what each provider receives (gross,
// by provider id): each whole, as long as the provider still receives at
// least minNet. A recovery that would take its provider below that is
// passed over (it waits for a larger batch, or a titre de recettes), and a
// later, smaller one may still be deducted: what is recovered by offset
// is not owed on a titre. A recovery of a provider the batch does not pay
// is left. It returns the ids taken and their total. It is pure.
func pickOffsets(gross map[int64]decimal.Decimal, open []openRecovery) (ids []int64, total decimal.Decimal) {
	total = decimal.Zero
	net := make(map[int64]decimal.Decimal, len(gross))
	for id, g := range gross {
		net[id] = g
	}
	for _, r := range open {
		left, ok := net[r.providerID]
		if !ok || left.Sub(r.amount).LessThan(minNet) {
			continue
		}
		net[r.providerID] = left.Sub(r.amount)
		ids, total = append(ids, r.id), total.Add(r.amount)
	}
	return ids, total
}

// insertDraft writes a draft batch of the payouts ids, which add up to
// total, less the recoveries off; moves them into it and audits all three.
// It returns the batch's id.
func (s *Store) insertDraft(ctx context.Context, tx pgx.Tx, actor audit.Actor, providerID int64, ids []int64, total, ceiling decimal.Decimal,
	off offsets) (int64, error) {
	var id int64
	if err := tx.QueryRow(ctx, `INSERT INTO payout_batches (provider_id, payout_count, total, offset_total, ceiling, created_at, created_by, creator)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id`, nullID(providerID), len(ids), total, off.total, ceiling, s.now(),
		nullID(actor.UserID), actor.Name).Scan(&id); err != nil {
		return 0, fmt.Errorf("billing: insert batch: %w", err)
	}
	tag, err := tx.Exec(ctx, `UPDATE payouts SET status = 'batched', batch_id = $2
		WHERE id = ANY($1) AND status = 'due' AND tenant_id = passd_tenant()`, ids, id)
	if err != nil {
		return 0, fmt.Errorf("billing: batch payouts: %w", err)
	}
	if tag.RowsAffected() != int64(len(ids)) {
		return 0, fmt.Errorf("billing: batch payouts: %d of %d changed", tag.RowsAffected(), len(ids))
	}
	if len(off.ids) > 0 {
		tag, err := tx.Exec(ctx, `UPDATE provider_recoveries SET offset_batch_id = $2
			WHERE id = ANY($1) AND offset_batch_id IS NULL AND tenant_id = passd_tenant()`, off.ids, id)
		if err != nil {
			return 0, fmt.Errorf("billing: deduct recoveries: %w", err)
		}
		if tag.RowsAffected() != int64(len(off.ids)) {
			return 0, fmt.Errorf("billing: deduct recoveries: %d of %d changed", tag.RowsAffected(), len(off.ids))
		}
	}
	batch := ident.FormatID(id)
	if err := audit.Append(ctx, tx, audit.Entry{Actor: actor, Action: "payout_batch.draft", Entity: "payout_batch", EntityID: batch,
		After: map[string]any{"status": BatchDraft, "payout_count": len(ids), "total": money.Format(total), "ceiling": money.Format(ceiling),
			"offset_total": money.Format(off.total), "net_total": money.Format(total.Sub(off.total))}}); err != nil {
		return 0, err
	}
	if err := auditPayouts(ctx, tx, actor, "payout.batch", ids, settlement.PayoutDue, map[string]any{"status": settlement.PayoutBatched, "batch_id": batch}); err != nil {
		return 0, err
	}
	return id, auditRecoveries(ctx, tx, actor, "recovery.deduct", off.ids, nil, map[string]any{"offset_batch_id": batch})
}

// auditRecoveries writes the audit rows of recoveries that all made the
// same move.
func auditRecoveries(ctx context.Context, tx pgx.Tx, actor audit.Actor, action string, ids []int64, before, after any) error {
	if len(ids) == 0 {
		return nil
	}
	return audit.AppendSame(ctx, tx, actor, action, "provider_recovery", ids, before, after)
}

// auditPayouts writes the audit rows of payouts that all made the same move.
func auditPayouts(ctx context.Context, tx pgx.Tx, actor audit.Actor, action string, ids []int64, before settlement.PayoutStatus, after map[string]any) error {
	return audit.AppendSame(ctx, tx, actor, action, "payout", ids, map[string]any{"status": before}, after)
}

// PayoutBatchJob is the payout-batch job: it drafts one batch of due
// payouts for finance to review, and returns how many payouts it took.
func (s *Store) PayoutBatchJob(ctx context.Context) (int64, error) {
	b, _, err := s.DraftPayoutBatch(ctx, audit.Job("payout-batch"), 0)
	return int64(b.PayoutCount), err
}

// lockBatch reads a batch FOR UPDATE: every change to a batch takes this
// lock first, so two finance users acting on one batch take turns and the
// second sees what the first did.
func lockBatch(ctx context.Context, tx pgx.Tx, id int64) (PayoutBatch, error) {
	b, err := db.One[PayoutBatch](ctx, tx, `SELECT `+batchColumns+batchFrom+` AND b.id = $1 FOR UPDATE OF b`, id)
	if err != nil {
		return b, db.Translate(fmt.Errorf("billing: payout batch %d: %w", id, err))
	}
	return b, nil
}

// batchVerbs are the past participles of the batch actions, for messages.
var batchVerbs = map[BatchAction]string{BatchSubmit: "submitted", BatchApprove: "approved", BatchCancel: "cancelled",
	BatchMarkPaid: "marked paid"}

// checkBatchAction refuses an action the batch's status does not allow,
// naming the statuses that would, as BatchMachine lists them.
func checkBatchAction(b PayoutBatch, a BatchAction) error {
	if b.Status.Allowed(a) {
		return nil
	}
	return fault.New(fault.Conflict, "payout batch %d is %s; only a %s batch can be %s", b.ID, b.Status,
		joinOr(BatchMachine.From(a)), batchVerbs[a]).WithKind(fault.KindBatchStatus).WithDetail("status", string(b.Status))
}

func joinOr[S ~string](words []S) string {
	out := ""
	for i, w := range words {
		switch {
		case i == 0:
		case i == len(words)-1:
			out += " or "
		default:
			out += ", "
		}
		out += string(w)
	}
	return out
}

// SubmitPayoutBatch makes the caller the batch's preparer (ordonnateur).
func (s *Store) SubmitPayoutBatch(ctx context.Context, actor audit.Actor, id int64) (PayoutBatch, error) {
	return s.changeBatch(ctx, id, func(tx pgx.Tx, b PayoutBatch, now time.Time) error {
		if err := checkBatchAction(b, BatchSubmit); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE payout_batches SET status = 'submitted', submitted_at = $2, prepared_by = $3
			WHERE id = $1 AND status = 'draft' AND tenant_id = passd_tenant()`,
			id, now, actor.UserID); err != nil {
			return fmt.Errorf("billing: submit batch: %w", err)
		}
		return audit.Append(ctx, tx, audit.Entry{Actor: actor, Action: "payout_batch.submit", Entity: "payout_batch", EntityID: ident.FormatID(id),
			Before: map[string]any{"status": BatchDraft}, After: map[string]any{"status": BatchSubmitted, "prepared_by": actor.Name}})
	})
}

// ApprovePayoutBatch approves a submitted batch. The approver is a
// finance user who did not prepare it (four eyes; the database holds both
// rules), and the year's approved and paid payouts plus this batch must
// stay within the annual budget unless an admin gave leave to go over it
// (OverrideBudget). Approval freezes the batch.
func (s *Store) ApprovePayoutBatch(ctx context.Context, actor audit.Actor, id int64) (PayoutBatch, error) {
	var out PayoutBatch
	err := db.InTx(ctx, s.pool, func(tx pgx.Tx) error {
		// The settings row is the budget's lock: approvals check the budget
		// one at a time.
		st, err := readSettings(ctx, tx, true)
		if err != nil {
			return err
		}
		b, err := lockBatch(ctx, tx, id)
		if err != nil {
			return err
		}
		if err := checkBatchAction(b, BatchApprove); err != nil {
			return err
		}
		if b.PreparedByID == actor.UserID {
			return fault.New(fault.Forbidden, "the preparer of a batch cannot approve it: another finance user must").WithKind(fault.KindFourEyes)
		}
		now := s.now()
		year := calendar.Today(now).Year()
		used, err := budgetUsed(ctx, tx, year)
		if err != nil {
			return err
		}
		over := used.Add(b.Total).GreaterThan(st.AnnualBudget)
		if over && b.OverrideAt == nil {
			return fault.New(fault.Conflict, "approving %s would take %d's approved and paid payouts to %s, over the annual budget of %s: an admin must first give leave to go over it (budget-override)",
				money.Format(b.Total), year, money.Format(used.Add(b.Total)), money.Format(st.AnnualBudget)).WithKind(fault.KindBudgetExceeded).
				WithDetail("budget", money.Format(st.AnnualBudget)).WithDetail("used", money.Format(used))
		}
		frozen, err := freezeSEPA(ctx, tx, st, b, now)
		if err != nil {
			return err
		}
		m := frozen.m
		if _, err := tx.Exec(ctx, `UPDATE payout_batches SET status = 'approved', approved_at = $2, approved_by = $3, budget_override = $4,
			sepa_created_at = $5, sepa_execution_date = $6, debtor_name = $7, debtor_iban = $8, debtor_bic = $9, sepa_sha256 = $10
			WHERE id = $1 AND status = 'submitted' AND tenant_id = passd_tenant()`, id, now, actor.UserID, over,
			m.CreatedAt, m.ExecutionDate, m.Debtor.Name, m.Debtor.IBAN, m.Debtor.BIC, frozen.hash); err != nil {
			if db.IsConstraint(err, "payout_batches_four_eyes") || db.IsConstraint(err, "payout_batches_override_four_eyes") {
				return fault.New(fault.Forbidden, "the preparer of a batch, or the admin who let it go over the budget, cannot approve it").
					WithKind(fault.KindFourEyes)
			}
			if db.IsConstraint(err, "payout_batches_approval_roles") {
				return fault.New(fault.Forbidden, "only a finance user approves a payout batch").WithKind(fault.KindFourEyes)
			}
			return fmt.Errorf("billing: approve batch: %w", err)
		}
		ids, err := batchPayoutIDs(ctx, tx, id)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE payouts SET status = 'approved' WHERE batch_id = $1 AND status = 'batched' AND tenant_id = passd_tenant()`, id); err != nil {
			return fmt.Errorf("billing: approve payouts: %w", err)
		}
		after := map[string]any{"status": BatchApproved, "approved_by": actor.Name, "sepa_sha256": hex.EncodeToString(frozen.hash)}
		if over {
			after["budget_override"] = true
			after["budget"], after["used_before"] = money.Format(st.AnnualBudget), money.Format(used)
			after["budget_override_by"] = b.OverrideBy
		}
		if err := audit.Append(ctx, tx, audit.Entry{Actor: actor, Action: "payout_batch.approve", Entity: "payout_batch", EntityID: ident.FormatID(id),
			Before: map[string]any{"status": BatchSubmitted}, After: after}); err != nil {
			return err
		}
		if err := auditPayouts(ctx, tx, actor, "payout.approve", ids, settlement.PayoutBatched, map[string]any{"status": settlement.PayoutApproved}); err != nil {
			return err
		}
		out, err = readBatch(ctx, tx, id)
		return err
	})
	return out, err
}

// MaxOverrideReason bounds why an admin lets a batch go over the budget.
const MaxOverrideReason = 500

// OverrideBudget records an admin's leave for a submitted batch to go over
// the annual budget, with its reason: the second pair of eyes on an
// overspend, given before a finance user approves. The admin did not
// prepare the batch; the leave is given once.
func (s *Store) OverrideBudget(ctx context.Context, actor audit.Actor, id int64, reason string) (PayoutBatch, error) {
	reason, err := text.Required("reason", reason, MaxOverrideReason)
	if err != nil {
		return PayoutBatch{}, err
	}
	return s.changeBatch(ctx, id, func(tx pgx.Tx, b PayoutBatch, now time.Time) error {
		if b.Status != BatchSubmitted {
			return fault.New(fault.Conflict, "payout batch %d is %s; leave to go over the budget is given to a submitted batch", b.ID, b.Status).
				WithKind(fault.KindBatchStatus).WithDetail("status", string(b.Status))
		}
		if b.OverrideAt != nil {
			return fault.New(fault.Conflict, "%s already gave this batch leave to go over the budget", b.OverrideBy).WithKind(fault.KindAlreadyDecided)
		}
		if b.PreparedByID == actor.UserID {
			return fault.New(fault.Forbidden, "the preparer of a batch cannot let it go over the budget").WithKind(fault.KindFourEyes)
		}
		var admin bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM users WHERE id = $1 AND role = 'admin' AND tenant_id = passd_tenant())`, actor.UserID).Scan(&admin); err != nil {
			return fmt.Errorf("billing: override: %w", err)
		}
		if !admin {
			return fault.New(fault.Forbidden, "only an admin lets a batch go over the budget").WithKind(fault.KindFourEyes)
		}
		if _, err := tx.Exec(ctx, `UPDATE payout_batches SET budget_override_by = $2, budget_override_at = $3, budget_override_reason = $4
			WHERE id = $1 AND status = 'submitted' AND budget_override_by IS NULL AND tenant_id = passd_tenant()`, id, actor.UserID, now, reason); err != nil {
			return fmt.Errorf("billing: override: %w", err)
		}
		return audit.Append(ctx, tx, audit.Entry{Actor: actor, Action: "payout_batch.budget_override", Entity: "payout_batch",
			EntityID: ident.FormatID(id), After: map[string]any{"reason": reason, "total": money.Format(b.Total)}})
	})
}

// budgetUsed is what the year's budget already carries: payouts approved
// in the year and not yet paid, and payouts paid in the year.
func budgetUsed(ctx context.Context, q db.DBTX, year int) (decimal.Decimal, error) {
	var used decimal.Decimal
	err := q.QueryRow(ctx, `
		SELECT coalesce(sum(p.amount), 0) FROM payouts p JOIN payout_batches b ON b.id = p.batch_id AND b.tenant_id = passd_tenant()
		WHERE ((p.status = 'approved' AND extract(year FROM b.approved_at AT TIME ZONE 'Europe/Paris') = $1)
		   OR (p.status = 'paid' AND extract(year FROM p.paid_on) = $1))
		  AND p.tenant_id = passd_tenant()`, year).Scan(&used)
	if err != nil {
		return used, fmt.Errorf("billing: budget used: %w", err)
	}
	return used, nil
}

func batchPayoutIDs(ctx context.Context, tx pgx.Tx, id int64) ([]int64, error) {
	rows, err := tx.Query(ctx, `SELECT id FROM payouts WHERE batch_id = $1 AND tenant_id = passd_tenant() ORDER BY id`, id)
	if err != nil {
		return nil, fmt.Errorf("billing: batch %d payouts: %w", id, err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return nil, fmt.Errorf("billing: batch %d payouts: %w", id, err)
	}
	return ids, nil
}

// CancelPayoutBatch cancels a draft or submitted batch; its payouts are
// due again and may go into another batch.
func (s *Store) CancelPayoutBatch(ctx context.Context, actor audit.Actor, id int64) (PayoutBatch, error) {
	return s.changeBatch(ctx, id, func(tx pgx.Tx, b PayoutBatch, now time.Time) error {
		if err := checkBatchAction(b, BatchCancel); err != nil {
			return err
		}
		ids, err := batchPayoutIDs(ctx, tx, id)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE payouts SET status = 'due', batch_id = NULL
			WHERE batch_id = $1 AND status = 'batched' AND tenant_id = passd_tenant()`, id); err != nil {
			return fmt.Errorf("billing: release payouts: %w", err)
		}
		// Its recoveries are open again, for the next batch or a titre de
		// recettes; the batch keeps its offset_total, as it keeps its total,
		// for the record.
		rows, err := tx.Query(ctx, `UPDATE provider_recoveries SET offset_batch_id = NULL
			WHERE offset_batch_id = $1 AND tenant_id = passd_tenant() RETURNING id`, id)
		if err != nil {
			return fmt.Errorf("billing: release recoveries: %w", err)
		}
		recoveries, err := pgx.CollectRows(rows, pgx.RowTo[int64])
		if err != nil {
			return fmt.Errorf("billing: release recoveries: %w", err)
		}
		if _, err := tx.Exec(ctx, `UPDATE payout_batches SET status = 'cancelled', cancelled_at = $2, cancelled_by = $3
			WHERE id = $1 AND tenant_id = passd_tenant()`,
			id, now, nullID(actor.UserID)); err != nil {
			return fmt.Errorf("billing: cancel batch: %w", err)
		}
		if err := audit.Append(ctx, tx, audit.Entry{Actor: actor, Action: "payout_batch.cancel", Entity: "payout_batch", EntityID: ident.FormatID(id),
			Before: map[string]any{"status": b.Status}, After: map[string]any{"status": BatchCancelled}}); err != nil {
			return err
		}
		if err := auditPayouts(ctx, tx, actor, "payout.unbatch", ids, settlement.PayoutBatched, map[string]any{"status": settlement.PayoutDue, "from_batch_id": ident.FormatID(id)}); err != nil {
			return err
		}
		return auditRecoveries(ctx, tx, actor, "recovery.undeduct", recoveries, map[string]any{"offset_batch_id": ident.FormatID(id)},
			map[string]any{"offset_batch_id": nil})
	})
}

// CheckPaid says whether b may be marked paid on paidOn, today: approved,
// on a day neither in the future nor before its approval. A page asks for
// a confirmation only of what passes.
func (b PayoutBatch) CheckPaid(paidOn, today calendar.Date) error {
	if err := checkBatchAction(b, BatchMarkPaid); err != nil {
		return err
	}
	if paidOn.After(today) {
		return fault.Field("paid_on", "paid_on cannot be in the future").WithCause(calendar.ErrFuture)
	}
	if b.ApprovedAt != nil && paidOn.Before(calendar.Today(*b.ApprovedAt)) {
		return fault.Field("paid_on", "paid_on cannot be before the approval (%s)", calendar.Today(*b.ApprovedAt)).WithCause(ErrPaidBeforeApproval)
	}
	return nil
}

// MarkPayoutBatchPaid records that the régie paid an approved batch on
// paidOn: its payouts are paid and the journal moves them out of the bank;
// the recoveries deducted from it are settled (recovery_offset: what the
// bank did not pay out).
func (s *Store) MarkPayoutBatchPaid(ctx context.Context, actor audit.Actor, id int64, paidOn calendar.Date) (PayoutBatch, error) {
	return s.changeBatch(ctx, id, func(tx pgx.Tx, b PayoutBatch, now time.Time) error {
		if err := b.CheckPaid(paidOn, calendar.Today(now)); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `UPDATE payouts SET status = 'paid', paid_on = $2
			WHERE batch_id = $1 AND status = 'approved' AND tenant_id = passd_tenant()
			RETURNING id, invoice_id, amount`, id, paidOn)
		if err != nil {
			return fmt.Errorf("billing: pay payouts: %w", err)
		}
		var postings []journal.Posting
		var ids []int64
		for rows.Next() {
			var p journal.Posting
			if err := rows.Scan(&p.PayoutID, &p.InvoiceID, &p.Amount); err != nil {
				rows.Close()
				return fmt.Errorf("billing: pay payouts: %w", err)
			}
			p.Movement = journal.PayoutPaid
			postings, ids = append(postings, p), append(ids, p.PayoutID)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("billing: pay payouts: %w", err)
		}
		if len(ids) != b.PayoutCount {
			return fmt.Errorf("billing: batch %d: %d of %d payouts paid", id, len(ids), b.PayoutCount)
		}
		recoveries, offsetPostings, err := batchOffsets(ctx, tx, id, b.OffsetTotal)
		if err != nil {
			return err
		}
		postings = append(postings, offsetPostings...)
		if _, err := tx.Exec(ctx, `UPDATE payout_batches SET status = 'paid', paid_on = $2, paid_at = $3, paid_by = $4
			WHERE id = $1 AND tenant_id = passd_tenant()`,
			id, paidOn, now, nullID(actor.UserID)); err != nil {
			return fmt.Errorf("billing: pay batch: %w", err)
		}
		if err := journal.Post(ctx, tx, now, postings...); err != nil {
			return err
		}
		if err := audit.Append(ctx, tx, audit.Entry{Actor: actor, Action: "payout_batch.paid", Entity: "payout_batch", EntityID: ident.FormatID(id),
			Before: map[string]any{"status": BatchApproved}, After: map[string]any{"status": BatchPaid, "paid_on": paidOn.String()}}); err != nil {
			return err
		}
		if err := auditPayouts(ctx, tx, actor, "payout.paid", ids, settlement.PayoutApproved, map[string]any{"status": settlement.PayoutPaid, "paid_on": paidOn.String()}); err != nil {
			return err
		}
		return auditRecoveries(ctx, tx, actor, "recovery.offset", recoveries, nil,
			map[string]any{"offset_batch_id": ident.FormatID(id), "paid_on": paidOn.String()})
	})
}

// batchOffsets reads the recoveries deducted from batch id, which must add
// up to its offset total, and returns their ids and their recovery_offset
// postings.
func batchOffsets(ctx context.Context, tx pgx.Tx, id int64, want decimal.Decimal) ([]int64, []journal.Posting, error) {
	rows, err := tx.Query(ctx, `SELECT id, invoice_id, amount FROM provider_recoveries
		WHERE offset_batch_id = $1 AND tenant_id = passd_tenant() ORDER BY id`, id)
	if err != nil {
		return nil, nil, fmt.Errorf("billing: batch %d recoveries: %w", id, err)
	}
	var ids []int64
	var postings []journal.Posting
	sum := decimal.Zero
	var recoveryID int64
	p := journal.Posting{Movement: journal.RecoveryOffset}
	if _, err := pgx.ForEachRow(rows, []any{&recoveryID, &p.InvoiceID, &p.Amount}, func() error {
		ids, postings, sum = append(ids, recoveryID), append(postings, p), sum.Add(p.Amount)
		return nil
	}); err != nil {
		return nil, nil, fmt.Errorf("billing: batch %d recoveries: %w", id, err)
	}
	if !sum.Equal(want) {
		return nil, nil, fmt.Errorf("billing: batch %d: recoveries sum to %s, its offset total is %s", id, money.Format(sum), money.Format(want))
	}
	return ids, postings, nil
}

func nullID(id int64) *int64 {
	if id == 0 {
		return nil
	}
	return &id
}

// changeBatch runs change on the locked batch in a transaction and returns
// the batch as it is afterwards.
func (s *Store) changeBatch(ctx context.Context, id int64, change func(tx pgx.Tx, b PayoutBatch, now time.Time) error) (PayoutBatch, error) {
	var out PayoutBatch
	err := db.InTx(ctx, s.pool, func(tx pgx.Tx) error {
		b, err := lockBatch(ctx, tx, id)
		if err != nil {
			return err
		}
		if err := change(tx, b, s.now()); err != nil {
			return err
		}
		out, err = readBatch(ctx, tx, id)
		return err
	})
	return out, err
}

func readBatch(ctx context.Context, q db.DBTX, id int64) (PayoutBatch, error) {
	b, err := db.One[PayoutBatch](ctx, q, `SELECT `+batchColumns+batchFrom+` AND b.id = $1`, id)
	if err != nil {
		return b, db.Translate(fmt.Errorf("billing: payout batch %d: %w", id, err))
	}
	rows, err := q.Query(ctx, `
		WITH r AS (SELECT provider_id, sum(amount) AS offset FROM provider_recoveries
			WHERE offset_batch_id = $1 AND provider_recoveries.tenant_id = passd_tenant() GROUP BY provider_id)
		SELECT p.provider_id, pr.name, count(*), sum(p.amount), coalesce(min(r.offset), 0)
		FROM payouts p JOIN providers pr ON pr.id = p.provider_id AND pr.tenant_id = passd_tenant() LEFT JOIN r ON r.provider_id = p.provider_id
		WHERE p.batch_id = $1 AND p.tenant_id = passd_tenant() GROUP BY p.provider_id, pr.name ORDER BY pr.name, p.provider_id`, id)
	if err != nil {
		return b, fmt.Errorf("billing: batch %d providers: %w", id, err)
	}
	b.Providers, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (BatchProvider, error) {
		var bp BatchProvider
		err := r.Scan(&bp.ProviderID, &bp.Name, &bp.PayoutCount, &bp.Amount, &bp.Offset)
		bp.Net = bp.Amount.Sub(bp.Offset)
		return bp, err
	})
	if err != nil {
		return b, fmt.Errorf("billing: batch %d providers: %w", id, err)
	}
	return b, nil
}

// PayoutBatch returns one batch with what each provider receives.
func (s *Store) PayoutBatch(ctx context.Context, id int64) (PayoutBatch, error) {
	return readBatch(ctx, s.pool, id)
}

// CountPayoutBatches is how many batches have status ("" for all).
func (s *Store) CountPayoutBatches(ctx context.Context, status BatchStatus) (int64, error) {
	var n int64
	err := s.pool.QueryRow(ctx, `SELECT count(*) FROM payout_batches WHERE ($1 = '' OR status = $1) AND tenant_id = passd_tenant()`, status).Scan(&n)
	if err != nil {
		return 0, db.Translate(fmt.Errorf("billing: count payout batches: %w", err))
	}
	return n, nil
}

// PayoutBatches lists batches, newest first (or oldest first, as page
// says); status "" lists all.
func (s *Store) PayoutBatches(ctx context.Context, status BatchStatus, page db.PageRequest) ([]PayoutBatch, error) {
	keyset, order := page.IDKeyset("b.id", 2)
	rows, err := s.pool.Query(ctx, `SELECT `+batchColumns+batchFrom+`
		AND ($1 = '' OR b.status = $1) AND `+keyset+` ORDER BY `+order+` LIMIT $3`, status, page.IDKeysetArg(), page.Limit+1)
	if err != nil {
		return nil, db.Translate(fmt.Errorf("billing: list payout batches: %w", err))
	}
	out, err := pgx.CollectRows(rows, pgx.RowToStructByName[PayoutBatch])
	return out, db.Translate(err)
}
