package billing

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"

	"passd/calendar"
	"passd/db"
	"passd/settlement"
)

// BudgetLine is what the budget carries for one provider kind or month.
type BudgetLine struct {
	Key       string // a provider kind, or a month "2026-03"
	Committed decimal.Decimal
	Paid      decimal.Decimal
}

// Budget is a year of the PASS budget. A payout counts in the year (and
// month) it was paid; before that, an approved payout counts when its
// batch was approved and a due or batched one when it became due.
//
// What a re-decision undoes counts in the year it was recorded, as owed:
// a recovery from a provider lowers the year's spend when it is created,
// not when a batch deducts it (RecoveredOffset says how much of it is
// already deducted from a paid batch, the rest is still to get back, by
// offset or titre de recettes); a refund due to the CPAM is spend when
// created. The gross figures (Committed, Paid, Remaining, the lines) are
// payouts alone, as the approvals weigh them against the budget.
type Budget struct {
	Year            int
	Budget          decimal.Decimal
	Committed       decimal.Decimal // due + batched + approved
	Paid            decimal.Decimal
	Remaining       decimal.Decimal // budget − committed − paid; negative when overspent
	Recovered       decimal.Decimal // recoveries from providers recorded in the year
	RecoveredOffset decimal.Decimal // of which deducted from a paid payout batch
	CPAMRefunds     decimal.Decimal // refunds due to the CPAM recorded in the year
	Net             decimal.Decimal // committed + paid + CPAM refunds − recovered
	NetRemaining    decimal.Decimal // budget − net; negative when overspent
	ByKind          []BudgetLine
	ByMonth         []BudgetLine
}

// BudgetReport returns the budget of year.
func (s *Store) BudgetReport(ctx context.Context, year int) (Budget, error) {
	out := Budget{Year: year, Committed: decimal.Zero, Paid: decimal.Zero}
	err := db.InTxOptions(ctx, s.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		st, err := readSettings(ctx, tx, false)
		if err != nil {
			return err
		}
		out.Budget = st.AnnualBudget
		rows, err := tx.Query(ctx, `
			WITH x AS (
				SELECT p.amount, p.status, pr.kind,
				       CASE p.status WHEN 'paid' THEN p.paid_on
				                     WHEN 'approved' THEN (b.approved_at AT TIME ZONE 'Europe/Paris')::date
				                     ELSE (p.created_at AT TIME ZONE 'Europe/Paris')::date END AS on_date
				FROM payouts p JOIN providers pr ON pr.id = p.provider_id AND pr.tenant_id = passd_tenant()
				LEFT JOIN payout_batches b ON b.id = p.batch_id AND b.tenant_id = passd_tenant()
				WHERE p.tenant_id = passd_tenant())
			SELECT kind, extract(month FROM on_date)::int,
			       coalesce(sum(amount) FILTER (WHERE status <> 'paid'), 0), coalesce(sum(amount) FILTER (WHERE status = 'paid'), 0)
			FROM x WHERE on_date >= make_date($1, 1, 1) AND on_date < make_date($1 + 1, 1, 1)
			GROUP BY 1, 2`, year)
		if err != nil {
			return fmt.Errorf("billing: budget: %w", err)
		}
		byKind := map[string]*BudgetLine{}
		for _, k := range ProviderKinds {
			out.ByKind = append(out.ByKind, BudgetLine{Key: k, Committed: decimal.Zero, Paid: decimal.Zero})
		}
		for i := range out.ByKind {
			byKind[out.ByKind[i].Key] = &out.ByKind[i]
		}
		for m := 1; m <= 12; m++ {
			out.ByMonth = append(out.ByMonth, BudgetLine{Key: fmt.Sprintf("%04d-%02d", year, m), Committed: decimal.Zero, Paid: decimal.Zero})
		}
		for rows.Next() {
			var kind string
			var month int
			var committed, paid decimal.Decimal
			if err := rows.Scan(&kind, &month, &committed, &paid); err != nil {
				rows.Close()
				return fmt.Errorf("billing: budget: %w", err)
			}
			if k := byKind[kind]; k != nil {
				k.Committed, k.Paid = k.Committed.Add(committed), k.Paid.Add(paid)
			}
			m := &out.ByMonth[month-1]
			m.Committed, m.Paid = m.Committed.Add(committed), m.Paid.Add(paid)
			out.Committed, out.Paid = out.Committed.Add(committed), out.Paid.Add(paid)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("billing: budget: %w", err)
		}
		out.Remaining = out.Budget.Sub(out.Committed).Sub(out.Paid)
		if err := tx.QueryRow(ctx, `
			SELECT coalesce(sum(r.amount), 0), coalesce(sum(r.amount) FILTER (WHERE b.status = 'paid'), 0),
			       (SELECT coalesce(sum(amount), 0) FROM cpam_refunds
			        WHERE cpam_refunds.tenant_id = passd_tenant()
			          AND (created_at AT TIME ZONE 'Europe/Paris')::date >= make_date($1, 1, 1)
			          AND (created_at AT TIME ZONE 'Europe/Paris')::date < make_date($1 + 1, 1, 1))
			FROM provider_recoveries r LEFT JOIN payout_batches b ON b.id = r.offset_batch_id AND b.tenant_id = passd_tenant()
			WHERE r.tenant_id = passd_tenant()
			  AND (r.created_at AT TIME ZONE 'Europe/Paris')::date >= make_date($1, 1, 1)
			  AND (r.created_at AT TIME ZONE 'Europe/Paris')::date < make_date($1 + 1, 1, 1)`, year).
			Scan(&out.Recovered, &out.RecoveredOffset, &out.CPAMRefunds); err != nil {
			return fmt.Errorf("billing: budget corrections: %w", err)
		}
		out.Net = out.Committed.Add(out.Paid).Add(out.CPAMRefunds).Sub(out.Recovered)
		out.NetRemaining = out.Budget.Sub(out.Net)
		return nil
	})
	return out, err
}

// StatementPayout is one payout of an invoice on a statement.
type StatementPayout struct {
	ID      int64
	Amount  decimal.Decimal
	Reason  settlement.Reason
	Note    string
	Status  settlement.PayoutStatus
	BatchID int64
	PaidOn  calendar.Date
}

// StatementLine is one invoice of a provider's statement and where each of
// its euros stands.
type StatementLine struct {
	Invoice         Invoice
	ClaimID         int64
	ClaimAmount     *decimal.Decimal
	ClaimStatus     settlement.ClaimStatus
	ClaimPaidAmount *decimal.Decimal
	ClaimPaidOn     calendar.Date
	ClaimRejection  string
	Payouts         []StatementPayout
}

// maxStatementDays bounds a statement's period.
const maxStatementDays = 366

// Statement lists a provider's invoices with care dates from from to to
// (inclusive), oldest care first.
func (s *Store) Statement(ctx context.Context, providerID int64, from, to calendar.Date) ([]StatementLine, error) {
	var out []StatementLine
	err := db.InTxOptions(ctx, s.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		out = nil
		rows, err := tx.Query(ctx, `
			SELECT i.id, i.provider_id, pt.file_number, i.external_ref, i.care_date, i.deadline, i.status, i.total,
			       coalesce(i.decision_reason, ''), i.cpam_amount, i.city_amount, i.decided_at, i.created_at,
			       coalesce(c.id, 0), c.amount, coalesce(c.status, ''), c.paid_amount, c.paid_on, coalesce(c.rejection_reason, '')
			FROM invoices i JOIN patients pt ON pt.id = i.patient_id AND pt.tenant_id = passd_tenant()
			LEFT JOIN claims c ON c.invoice_id = i.id AND c.tenant_id = passd_tenant()
			WHERE i.provider_id = $1 AND i.care_date BETWEEN $2 AND $3 AND i.tenant_id = passd_tenant()
			ORDER BY i.care_date, i.id`, providerID, from, to)
		if err != nil {
			return fmt.Errorf("billing: statement: %w", err)
		}
		index := map[int64]int{}
		var ids []int64
		out, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (StatementLine, error) {
			var l StatementLine
			inv := &l.Invoice
			err := r.Scan(&inv.ID, &inv.ProviderID, &inv.PatientFileNumber, &inv.ExternalRef, &inv.CareDate, &inv.Deadline, &inv.Status,
				&inv.Total, &inv.DecisionReason, &inv.CPAMAmount, &inv.CityAmount, &inv.DecidedAt, &inv.CreatedAt,
				&l.ClaimID, &l.ClaimAmount, &l.ClaimStatus, &l.ClaimPaidAmount, &l.ClaimPaidOn, &l.ClaimRejection)
			return l, err
		})
		if err != nil {
			return fmt.Errorf("billing: statement: %w", err)
		}
		for i, l := range out {
			index[l.Invoice.ID] = i
			ids = append(ids, l.Invoice.ID)
		}
		prows, err := tx.Query(ctx, `SELECT invoice_id, id, amount, reason, coalesce(note, ''), status, coalesce(batch_id, 0), paid_on
			FROM payouts WHERE invoice_id = ANY($1) AND tenant_id = passd_tenant() ORDER BY id`, ids)
		if err != nil {
			return fmt.Errorf("billing: statement payouts: %w", err)
		}
		defer prows.Close()
		for prows.Next() {
			var invoiceID int64
			var p StatementPayout
			if err := prows.Scan(&invoiceID, &p.ID, &p.Amount, &p.Reason, &p.Note, &p.Status, &p.BatchID, &p.PaidOn); err != nil {
				return fmt.Errorf("billing: statement payouts: %w", err)
			}
			l := &out[index[invoiceID]]
			l.Payouts = append(l.Payouts, p)
		}
		return prows.Err()
	})
	return out, err
}

// Settlement is where the money of a decided invoice stands, as its
// provider sees it: its claim to the CPAM (if any) and its payouts.
type Settlement struct {
	ClaimStatus    settlement.ClaimStatus // "" when the invoice has no claim
	ClaimRejection string
	Payouts        int // payouts of the invoice
	PayoutsPaid    int // of which paid
}

// Settlements returns the settlement of each of ids that has a claim or a
// payout, keyed by invoice id, in one query (the web list's status badges).
func (s *Store) Settlements(ctx context.Context, ids []int64) (map[int64]Settlement, error) {
	rows, err := s.pool.Query(ctx, `
		SELECT i.id, coalesce(c.status, ''), coalesce(c.rejection_reason, ''),
		       count(p.id), count(p.id) FILTER (WHERE p.status = 'paid')
		FROM invoices i LEFT JOIN claims c ON c.invoice_id = i.id AND c.tenant_id = passd_tenant()
		LEFT JOIN payouts p ON p.invoice_id = i.id AND p.tenant_id = passd_tenant()
		WHERE i.id = ANY($1) AND i.tenant_id = passd_tenant()
		GROUP BY i.id, c.status, c.rejection_reason`, ids)
	if err != nil {
		return nil, db.Translate(fmt.Errorf("billing: settlements: %w", err))
	}
	out := map[int64]Settlement{}
	var id int64
	var st Settlement
	_, err = pgx.ForEachRow(rows, []any{&id, &st.ClaimStatus, &st.ClaimRejection, &st.Payouts, &st.PayoutsPaid}, func() error {
		out[id] = st
		return nil
	})
	if err != nil {
		return nil, db.Translate(fmt.Errorf("billing: settlements: %w", err))
	}
	return out, nil
}
