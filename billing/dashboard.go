package billing

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"

	"passd/db"
	"passd/settlement"
)

// ProviderDue is what the city owes one provider and has not yet put in a
// batch.
type ProviderDue struct {
	ProviderID  int64
	Name        string
	PayoutCount int
	Amount      decimal.Decimal
}

// FinanceSummary is what the finance dashboard shows besides the budget:
// the due payouts by provider (largest first) and how many payout batches
// stand in each status.
type FinanceSummary struct {
	Due            []ProviderDue
	BatchesByState map[BatchStatus]int
	// Stages: the payouts not yet paid, and those paid in year, by where
	// they stand, in the order money moves; every stage is there, empty or
	// not, so that the dashboard's figures add up with the batches'.
	Stages []PayoutStage
}

// PayoutStage is the payouts at one step of their way out of the régie.
type PayoutStage struct {
	Stage  Stage
	Count  int
	Amount decimal.Decimal
}

// Stage is where a payout stands: its status, and for a batched one, its
// batch's.
type Stage string

const (
	StageDue       Stage = "due"               // owed, in no batch yet
	StageHeld      Stage = "held"              // put aside by finance
	StageDraft     Stage = "batched_draft"     // in a batch being prepared
	StageSubmitted Stage = "batched_submitted" // in a batch awaiting approval
	StageApproved  Stage = "approved"          // approved, to be transferred
	StagePaid      Stage = "paid"              // paid in the year asked for
)

// Stages is the order money moves through them.
var Stages = []Stage{StageDue, StageHeld, StageDraft, StageSubmitted, StageApproved, StagePaid}

// FinanceSummary reads them in one snapshot; the paid stage counts the
// payouts paid in year.
func (s *Store) FinanceSummary(ctx context.Context, year int) (FinanceSummary, error) {
	out := FinanceSummary{BatchesByState: map[BatchStatus]int{}}
	err := db.InTxOptions(ctx, s.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT pr.id, pr.name, count(*), sum(p.amount) FROM payouts p JOIN providers pr ON pr.id = p.provider_id AND pr.tenant_id = passd_tenant()
			WHERE p.status = $1 AND p.tenant_id = passd_tenant() GROUP BY pr.id, pr.name ORDER BY sum(p.amount) DESC, pr.id`, settlement.PayoutDue)
		if err != nil {
			return fmt.Errorf("billing: due by provider: %w", err)
		}
		out.Due, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (ProviderDue, error) {
			var d ProviderDue
			return d, row.Scan(&d.ProviderID, &d.Name, &d.PayoutCount, &d.Amount)
		})
		if err != nil {
			return fmt.Errorf("billing: due by provider: %w", err)
		}
		if out.Stages, err = payoutStages(ctx, tx, year); err != nil {
			return err
		}
		rows, err = tx.Query(ctx, `SELECT status, count(*) FROM payout_batches WHERE tenant_id = passd_tenant() GROUP BY status`)
		if err != nil {
			return fmt.Errorf("billing: batches by status: %w", err)
		}
		var status BatchStatus
		var n int
		_, err = pgx.ForEachRow(rows, []any{&status, &n}, func() error {
			out.BatchesByState[status] = n
			return nil
		})
		if err != nil {
			return fmt.Errorf("billing: batches by status: %w", err)
		}
		return nil
	})
	return out, err
}

func payoutStages(ctx context.Context, tx pgx.Tx, year int) ([]PayoutStage, error) {
	rows, err := tx.Query(ctx, `
		SELECT CASE WHEN p.status = 'batched' THEN 'batched_' || b.status ELSE p.status END, count(*), sum(p.amount)
		FROM payouts p LEFT JOIN payout_batches b ON b.id = p.batch_id AND b.tenant_id = passd_tenant()
		WHERE (p.status IN ('due', 'held', 'batched', 'approved') OR (p.status = 'paid' AND extract(year FROM p.paid_on) = $1))
			AND p.tenant_id = passd_tenant()
		GROUP BY 1`, year)
	if err != nil {
		return nil, fmt.Errorf("billing: payout stages: %w", err)
	}
	found := map[Stage]PayoutStage{}
	var st PayoutStage
	_, err = pgx.ForEachRow(rows, []any{&st.Stage, &st.Count, &st.Amount}, func() error {
		found[st.Stage] = st
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("billing: payout stages: %w", err)
	}
	out := make([]PayoutStage, len(Stages))
	for i, stage := range Stages {
		out[i] = PayoutStage{Stage: stage, Amount: decimal.Zero}
		if f, ok := found[stage]; ok {
			out[i] = f
		}
	}
	return out, nil
}
