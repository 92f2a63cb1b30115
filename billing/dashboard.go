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
}

// FinanceSummary reads both in one snapshot.
func (s *Store) FinanceSummary(ctx context.Context) (FinanceSummary, error) {
	out := FinanceSummary{BatchesByState: map[BatchStatus]int{}}
	err := db.InTxOptions(ctx, s.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT pr.id, pr.name, count(*), sum(p.amount) FROM payouts p JOIN providers pr ON pr.id = p.provider_id
			WHERE p.status = $1 GROUP BY pr.id, pr.name ORDER BY sum(p.amount) DESC, pr.id`, settlement.PayoutDue)
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
		rows, err = tx.Query(ctx, `SELECT status, count(*) FROM payout_batches GROUP BY status`)
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
