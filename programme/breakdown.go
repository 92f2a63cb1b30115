package programme

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"

	"passd/calendar"
)

// MonthFigures is one month of the period: the files opened, the people
// followed (a file with care or a rights event in the month) and the
// invoices for care in it.
type MonthFigures struct {
	Month                    string // "2026-03"
	FilesOpened, FilesActive People
	Invoices                 Amounts
}

// ProviderAmounts is one provider's invoices for care in the period. A
// provider is a practice or a centre, not a patient: its figures are not
// suppressed.
type ProviderAmounts struct {
	Name, Kind string
	Amounts
}

// BudgetMonth is one month of the burn-down of the year's budget: what was
// used in the month, and what is left of the envelope at its end.
type BudgetMonth struct {
	Month      string
	Used, Left decimal.Decimal
}

// UnknownCommune keys the people whose file names no commune.
const UnknownCommune = "unknown"

func byMonth(ctx context.Context, tx pgx.Tx, p Period, f *Figures) error {
	rows, err := tx.Query(ctx, `
		WITH months AS (
		    SELECT m::date AS m FROM generate_series(date_trunc('month', $1::date), $2::date, interval '1 month') AS m),
		opened AS (
		    SELECT date_trunc('month', (created_at AT TIME ZONE 'Europe/Paris'))::date AS m, count(*) AS n
		    FROM patients WHERE (created_at AT TIME ZONE 'Europe/Paris')::date BETWEEN $1 AND $2 GROUP BY 1),
		active AS (
		    SELECT m, count(DISTINCT patient_id) AS n FROM (
		        SELECT date_trunc('month', care_date)::date AS m, patient_id FROM invoices WHERE care_date BETWEEN $1 AND $2
		        UNION ALL
		        SELECT date_trunc('month', (created_at AT TIME ZONE 'Europe/Paris'))::date, patient_id FROM rights_events
		        WHERE (created_at AT TIME ZONE 'Europe/Paris')::date BETWEEN $1 AND $2) a
		    GROUP BY m),
		care AS (
		    SELECT date_trunc('month', care_date)::date AS m, count(*) AS n, sum(total) AS amount
		    FROM invoices WHERE care_date BETWEEN $1 AND $2 GROUP BY 1)
		SELECT to_char(months.m, 'YYYY-MM'), coalesce(opened.n, 0), coalesce(active.n, 0), coalesce(care.n, 0), coalesce(care.amount, 0)
		FROM months LEFT JOIN opened USING (m) LEFT JOIN active USING (m) LEFT JOIN care USING (m)
		ORDER BY months.m`, p.From, p.To)
	if err != nil {
		return fmt.Errorf("programme: by month: %w", err)
	}
	f.ByMonth, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (MonthFigures, error) {
		var m MonthFigures
		err := r.Scan(&m.Month, &m.FilesOpened, &m.FilesActive, &m.Invoices.Count, &m.Invoices.Amount)
		return m, err
	})
	if err != nil {
		return fmt.Errorf("programme: by month: %w", err)
	}
	return nil
}

func byProvider(ctx context.Context, tx pgx.Tx, p Period, f *Figures) error {
	rows, err := tx.Query(ctx, `
		SELECT pr.name, pr.kind, count(*), sum(i.total)
		FROM invoices i JOIN providers pr ON pr.id = i.provider_id
		WHERE i.care_date BETWEEN $1 AND $2
		GROUP BY pr.id ORDER BY sum(i.total) DESC, pr.name, pr.id`, p.From, p.To)
	if err != nil {
		return fmt.Errorf("programme: by provider: %w", err)
	}
	f.Care.ByProvider, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (ProviderAmounts, error) {
		var a ProviderAmounts
		err := r.Scan(&a.Name, &a.Kind, &a.Count, &a.Amount)
		return a, err
	})
	if err != nil {
		return fmt.Errorf("programme: by provider: %w", err)
	}
	return nil
}

// places counts the people followed in the period (FilesActive's files)
// by the commune on their file.
func places(ctx context.Context, tx pgx.Tx, p Period, f *Figures) error {
	rows, err := tx.Query(ctx, `
		SELECT coalesce(pt.commune_code, ''), count(*)
		FROM patients pt
		WHERE pt.id IN (SELECT patient_id FROM invoices WHERE care_date BETWEEN $1 AND $2
		                UNION SELECT patient_id FROM rights_events WHERE (created_at AT TIME ZONE 'Europe/Paris')::date BETWEEN $1 AND $2)
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
		    SELECT date_trunc('month', CASE WHEN p.status = 'paid' THEN p.paid_on
		                                    ELSE (b.approved_at AT TIME ZONE 'Europe/Paris')::date END)::date AS m,
		           sum(p.amount) AS amount
		    FROM payouts p JOIN payout_batches b ON b.id = p.batch_id
		    WHERE (p.status = 'approved' AND extract(year FROM b.approved_at AT TIME ZONE 'Europe/Paris') = $1)
		       OR (p.status = 'paid' AND extract(year FROM p.paid_on) = $1)
		    GROUP BY 1)
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
