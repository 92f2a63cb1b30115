package programme

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"

	"passd/calendar"
)

// MonthFigures is one month of the period: the files opened and the
// invoices for care in it. The people followed are counted over the
// period, not month by month: each month's would cost a pass over the
// invoices the report cannot afford on a million of them (make bench).
type MonthFigures struct {
	Month       string // "2026-03"
	FilesOpened People
	Invoices    Amounts
}

// ProviderAmounts is one provider's invoices for care in the period. A
// provider is a practice or a centre, not a patient: its figures are not
// suppressed.
type ProviderAmounts struct {
	Name, Kind string
	Amounts
	id int64 // orders two providers of one name
}

// BudgetMonth is one month of the burn-down of the year's budget: what was
// used in the month, and what is left of the envelope at its end.
type BudgetMonth struct {
	Month      string
	Used, Left decimal.Decimal
}

// UnknownCommune keys the people whose file names no commune.
const UnknownCommune = "unknown"

// byMonth lays the period out month by month: the files opened and the
// invoices for care in the month.
func byMonth(ctx context.Context, tx pgx.Tx, p Period, f *Figures) error {
	rows, err := tx.Query(ctx, `
		SELECT to_char(m, 'YYYY-MM'), coalesce(o.n, 0), coalesce(i.n, 0), coalesce(i.amount, 0)
		FROM generate_series(date_trunc('month', $1::date), $2::date, interval '1 month') AS m
		LEFT JOIN (SELECT date_trunc('month', (created_at AT TIME ZONE 'Europe/Paris')::date) AS month, count(*) AS n FROM patients
		           WHERE (created_at AT TIME ZONE 'Europe/Paris')::date BETWEEN $1 AND $2 AND patients.tenant_id = passd_tenant() GROUP BY 1) o ON o.month = m
		LEFT JOIN (SELECT date_trunc('month', care_date) AS month, count(*) AS n, sum(total) AS amount FROM invoices
		           WHERE care_date BETWEEN $1 AND $2 AND invoices.tenant_id = passd_tenant() GROUP BY 1) i ON i.month = m
		ORDER BY m`, p.From, p.To)
	if err != nil {
		return fmt.Errorf("programme: by month: %w", err)
	}
	f.ByMonth, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (MonthFigures, error) {
		var m MonthFigures
		err := r.Scan(&m.Month, &m.FilesOpened, &m.Invoices.Count, &m.Invoices.Amount)
		return m, err
	})
	if err != nil {
		return fmt.Errorf("programme: by month: %w", err)
	}
	return nil
}

// byProvider names the providers of amounts (care's figures by provider
// id) and orders them, the largest amount first.
func byProvider(ctx context.Context, tx pgx.Tx, amounts map[int64]Amounts, f *Figures) error {
	ids := make([]int64, 0, len(amounts))
	for id := range amounts {
		ids = append(ids, id)
	}
	rows, err := tx.Query(ctx, `SELECT id, name, kind FROM providers WHERE id = ANY($1) AND tenant_id = passd_tenant()`, ids)
	if err != nil {
		return fmt.Errorf("programme: by provider: %w", err)
	}
	f.Care.ByProvider, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (ProviderAmounts, error) {
		var a ProviderAmounts
		var id int64
		err := r.Scan(&id, &a.Name, &a.Kind)
		a.Amounts, a.id = amounts[id], id
		return a, err
	})
	if err != nil {
		return fmt.Errorf("programme: by provider: %w", err)
	}
	slices.SortFunc(f.Care.ByProvider, func(a, b ProviderAmounts) int {
		return cmp.Or(b.Amount.Cmp(a.Amount), strings.Compare(a.Name, b.Name), cmp.Compare(a.id, b.id))
	})
	return nil
}

// places counts the people followed in the period (the files active: an
// invoice for care in the period, or an application or decision in it) by
// the commune on their file; FilesActive is their sum.
func places(ctx context.Context, tx pgx.Tx, p Period, f *Figures) error {
	rows, err := tx.Query(ctx, `
		SELECT coalesce(pt.commune_code, ''), count(*)
		FROM (SELECT patient_id FROM invoices WHERE care_date BETWEEN $1 AND $2 AND invoices.tenant_id = passd_tenant() GROUP BY patient_id
		      UNION SELECT patient_id FROM rights_events WHERE (created_at AT TIME ZONE 'Europe/Paris')::date BETWEEN $1 AND $2 AND rights_events.tenant_id = passd_tenant()) a
		JOIN patients pt ON pt.id = a.patient_id AND pt.tenant_id = passd_tenant()
		GROUP BY 1`, p.From, p.To)
	if err != nil {
		return fmt.Errorf("programme: places: %w", err)
	}
	defer rows.Close()
	f.Places.ByCommune = map[string]People{}
	for rows.Next() {
		var code string
		var n People
		if err := rows.Scan(&code, &n); err != nil {
			return fmt.Errorf("programme: places: %w", err)
		}
		if code == "" {
			code = UnknownCommune
		}
		f.Places.ByCommune[code] = n
		f.People.FilesActive += n
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("programme: places: %w", err)
	}
	return nil
}

// burnDown is the budget of the period's last year month by month, up to
// the period's last month, counted as BudgetUsed is: a payout uses the
// budget in the month it was paid, or approved while not yet paid. Over a
// whole year, December's Left is the year's BudgetLeft.
func burnDown(ctx context.Context, tx pgx.Tx, p Period, f *Figures) error {
	year := p.To.Year()
	rows, err := tx.Query(ctx, `
		WITH months AS (
		    SELECT m::date AS m FROM generate_series(make_date($1, 1, 1), $2::date, interval '1 month') AS m),
		used AS (
		    SELECT m, sum(amount) AS amount FROM (
		        SELECT date_trunc('month', (b.approved_at AT TIME ZONE 'Europe/Paris'))::date AS m, p.amount
		        FROM payouts p JOIN payout_batches b ON b.id = p.batch_id AND b.tenant_id = passd_tenant()
		        WHERE p.status = 'approved' AND extract(year FROM b.approved_at AT TIME ZONE 'Europe/Paris') = $1::int AND p.tenant_id = passd_tenant()
		        UNION ALL
		        SELECT date_trunc('month', p.paid_on)::date, p.amount FROM payouts p
		        WHERE p.status = 'paid' AND p.paid_on BETWEEN make_date($1::int, 1, 1) AND $2::date AND p.tenant_id = passd_tenant()) u
		    GROUP BY m)
		SELECT to_char(months.m, 'YYYY-MM'), coalesce(used.amount, 0)
		FROM months LEFT JOIN used USING (m) ORDER BY months.m`, year, calendar.NewDate(year, time.December, 31))
	if err != nil {
		return fmt.Errorf("programme: burn-down: %w", err)
	}
	months, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (BudgetMonth, error) {
		var m BudgetMonth
		err := r.Scan(&m.Month, &m.Used)
		return m, err
	})
	if err != nil {
		return fmt.Errorf("programme: burn-down: %w", err)
	}
	last := p.To.String()[:7]
	left := f.Money.Budget
	for _, m := range months {
		if m.Month > last {
			break
		}
		left = left.Sub(m.Used)
		m.Left = left
		f.Money.BudgetByMonth = append(f.Money.BudgetByMonth, m)
	}
	return nil
}
