// Package programme computes the PASS programme's own figures, the yearly
// evaluation a steering committee and elected officials read: the people
// followed, their rights, the care, the money, over a period and beside
// the same period a year before. Aggregates only, never an identity; a
// count of people under SmallCell is suppressed wherever it is shown, so
// that nobody can be singled out.
package programme

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"

	"passd/calendar"
	"passd/db"
	"passd/fault"
)

// SmallCell is the smallest count of people a figure shows: fewer is
// shown as "< 5" (the suppression threshold statistical offices use for
// health data).
const SmallCell = 5

// People is a count of people, suppressed under SmallCell.
type People int64

// Suppressed reports whether the count is too small to be shown.
func (p People) Suppressed() bool { return p > 0 && p < SmallCell }

// String is the count as shown: "< 5" when suppressed.
func (p People) String() string {
	if p.Suppressed() {
		return fmt.Sprintf("< %d", SmallCell)
	}
	return strconv.FormatInt(int64(p), 10)
}

// MarshalJSON writes a suppressed count as the string "< 5", any other as
// a number: a reader can never recover a small count.
func (p People) MarshalJSON() ([]byte, error) {
	if p.Suppressed() {
		return json.Marshal(p.String())
	}
	return []byte(strconv.FormatInt(int64(p), 10)), nil
}

// Period is the days a report covers, both included.
type Period struct {
	From, To calendar.Date
}

// Year is a calendar year's period.
func Year(y int) Period {
	return Period{From: calendar.NewDate(y, time.January, 1), To: calendar.NewDate(y, time.December, 31)}
}

// MaxPeriodDays bounds a report's period.
const MaxPeriodDays = 3 * 366

// ParsePeriod reads ?year= or ?from=&to= (one of the two), for a report
// whose default is the year of today.
func ParsePeriod(today calendar.Date, year, from, to string) (Period, error) {
	if year != "" {
		if from != "" || to != "" {
			return Period{}, fault.Field("year", "give a year or a period (from, to), not both")
		}
		y, err := strconv.Atoi(year)
		if err != nil || y < 2000 || y > 2100 || strconv.Itoa(y) != year {
			return Period{}, fault.Field("year", "year must be a year between 2000 and 2100")
		}
		return Year(y), nil
	}
	if from == "" && to == "" {
		return Year(today.Year()), nil
	}
	f, err := calendar.Parse(from)
	if err != nil {
		return Period{}, fault.Field("from", "from must be a date (YYYY-MM-DD)")
	}
	t, err := calendar.Parse(to)
	if err != nil {
		return Period{}, fault.Field("to", "to must be a date (YYYY-MM-DD)")
	}
	if t.Before(f) {
		return Period{}, fault.Field("to", "to is before from")
	}
	if f.AddDays(MaxPeriodDays).Before(t) {
		return Period{}, fault.Field("to", "a report covers at most %d days", MaxPeriodDays)
	}
	return Period{From: f, To: t}, nil
}

// Before is the same period a year earlier.
func (p Period) Before() Period { return Period{From: p.From.AddYears(-1), To: p.To.AddYears(-1)} }

// Figures are one period's figures.
type Figures struct {
	Period Period
	People PeopleFigures
	Rights RightsFigures
	Care   CareFigures
	Money  MoneyFigures
	// ByMonth: people and care month by month.
	ByMonth []MonthFigures
	Places  PlacesFigures
}

// PlacesFigures: the people followed in the period by the commune on their
// file (UnknownCommune when none), for the territorial diagnosis.
type PlacesFigures struct {
	ByCommune map[string]People
}

// PeopleFigures: the files opened and the files active (an invoice for
// care in the period, or an application or decision in it).
type PeopleFigures struct {
	FilesOpened, FilesActive People
}

// RightsFigures: applications filed, the decisions of the period (as they
// stand after corrections), and how long they took.
type RightsFigures struct {
	Applications People
	Opened       map[string]People // by regime
	Refused      People
	// AcceptanceRate is opened / decided, in percent to one decimal ("" when
	// nothing was decided).
	AcceptanceRate string
	// Days from filing to decision of the decisions with a filing date.
	DelayMedian, DelayP90            *int
	WithinDays35Pct, WithinDays90Pct string
	// DelayDistribution: the decisions by days from filing, "0-35",
	// "36-90" and "91+" (the thresholds of the shares above).
	DelayDistribution map[string]People
	// Waiting: files whose application awaits its decision at the end of the
	// period, by how long: "0-34", "35-89", "90+" days.
	Waiting map[string]People
}

// Amounts is a count of invoices and what they add up to.
type Amounts struct {
	Count  int64
	Amount decimal.Decimal
}

// CareFigures: the invoices for care in the period, by provider kind, by
// status, and the decided ones by reason.
type CareFigures struct {
	Invoices Amounts
	ByKind   map[string]Amounts
	ByStatus map[string]Amounts
	ByReason map[string]Amounts
	// ByProvider: each provider's invoices, the largest amount first.
	ByProvider []ProviderAmounts
	// ReleasedPct and CityPct are the shares of the decided invoices'
	// amount the CPAM and the city bear, in percent to one decimal.
	ReleasedPct, CityPct string
}

// MoneyFigures: what moved in the period, and the year's budget.
type MoneyFigures struct {
	PaidByCPAM, PaidByCity, Recovered decimal.Decimal
	// CityNetCost is what the city paid less what it recovered; per
	// person followed (files active), to the cent ("" with nobody).
	CityNetCost          decimal.Decimal
	CityNetCostPerPerson string
	Budget, BudgetUsed   decimal.Decimal
	BudgetLeft           decimal.Decimal
	// BudgetByMonth: the burn-down of the period's last year, from
	// January to the period's last month.
	BudgetByMonth []BudgetMonth
}

// Report is a period's figures beside the same period a year before.
type Report struct {
	Current, Previous Figures
}

// Store reads the figures.
type Store struct{ pool *db.Pool }

// NewStore returns a store on pool.
func NewStore(pool *db.Pool) *Store { return &Store{pool: pool} }

// Report computes the figures of p and of the year before, in one
// read-only snapshot: the two stand on the same data. The year before is
// read at the same time on a second connection that imports the first's
// snapshot (pg_export_snapshot), so the report takes as long as its
// longer half.
func (s *Store) Report(ctx context.Context, p Period) (Report, error) {
	var out Report
	err := readOnly(ctx, s.pool, "", func(tx pgx.Tx) error {
		var snapshot string
		if err := tx.QueryRow(ctx, `SELECT pg_export_snapshot()`).Scan(&snapshot); err != nil {
			return fmt.Errorf("programme: export snapshot: %w", err)
		}
		previous := make(chan error, 1)
		go func() {
			previous <- readOnly(ctx, s.pool, snapshot, func(tx pgx.Tx) error {
				var err error
				out.Previous, err = figures(ctx, tx, p.Before(), false)
				return err
			})
		}()
		var err error
		out.Current, err = figures(ctx, tx, p, true)
		// The snapshot lives as long as this transaction: wait for the
		// other half before it ends.
		return errors.Join(err, <-previous)
	})
	return out, err
}

// readOnly runs fn in a repeatable-read, read-only transaction, on the
// snapshot named (when not "") exported by another one.
func readOnly(ctx context.Context, pool *db.Pool, snapshot string, fn func(pgx.Tx) error) error {
	// Begun on the raw pool: an imported snapshot must come first, and the
	// convention is set right after it.
	return db.InTxOptions(ctx, pool.Pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		if snapshot != "" {
			// SET TRANSACTION takes no parameter: the id, which
			// PostgreSQL made of hex digits and dashes, goes in as a
			// literal once it is checked to be that.
			if strings.Trim(snapshot, "0123456789ABCDEF-") != "" {
				return fmt.Errorf("programme: snapshot id %q", snapshot)
			}
			if _, err := tx.Exec(ctx, `SET TRANSACTION SNAPSHOT '`+snapshot+`'`); err != nil {
				return fmt.Errorf("programme: import snapshot: %w", err)
			}
		}
		if err := pool.SetConvention(ctx, tx); err != nil {
			return fmt.Errorf("programme: %w", err)
		}
		// A period's dates decide each query's plan (a year is half the
		// invoices): a plan cached for other dates may sort what it should
		// hash, so each is planned for its own.
		if _, err := tx.Exec(ctx, `SET LOCAL plan_cache_mode = force_custom_plan`); err != nil {
			return fmt.Errorf("programme: %w", err)
		}
		return fn(tx)
	})
}

// figures computes p's figures; with breakdowns, also month by month (the
// files, the budget's burn-down): the year before is read for its
// headline figures only, which is what the report sets beside the year's.
func figures(ctx context.Context, tx pgx.Tx, p Period, breakdowns bool) (Figures, error) {
	f := Figures{Period: p, ByMonth: []MonthFigures{}}
	f.Money.BudgetByMonth = []BudgetMonth{}
	steps := []func(context.Context, pgx.Tx, Period, *Figures) error{people, places, rightsFigures, care, money}
	if breakdowns {
		steps = append(steps, burnDown, byMonth)
	}
	for _, step := range steps {
		if err := step(ctx, tx, p, &f); err != nil {
			return f, err
		}
	}
	return f, nil
}

// parisDay is the SQL of an instant's Paris day.
const parisDay = `(%s AT TIME ZONE 'Europe/Paris')::date`

func people(ctx context.Context, tx pgx.Tx, p Period, f *Figures) error {
	err := tx.QueryRow(ctx, `
		SELECT count(*) FROM patients WHERE tenant_id = passd_tenant() AND `+fmt.Sprintf(parisDay, "created_at")+` BETWEEN $1 AND $2`,
		p.From, p.To).Scan(&f.People.FilesOpened)
	if err != nil {
		return fmt.Errorf("programme: people: %w", err)
	}
	return nil
}

func rightsFigures(ctx context.Context, tx pgx.Tx, p Period, f *Figures) error {
	r := &f.Rights
	r.Opened = map[string]People{"puma": 0, "puma_css": 0, "ame": 0}
	err := tx.QueryRow(ctx, `SELECT count(*) FROM rights_events WHERE kind = 'requested' AND tenant_id = passd_tenant() AND `+fmt.Sprintf(parisDay, "created_at")+` BETWEEN $1 AND $2`,
		p.From, p.To).Scan(&r.Applications)
	if err != nil {
		return fmt.Errorf("programme: applications: %w", err)
	}
	// The decisions of the period as they stand: a corrected one counts
	// as its correction.
	rows, err := tx.Query(ctx, `
		SELECT decision, coalesce(regime, ''), count(*) FROM rights_decisions
		WHERE superseded_at IS NULL AND tenant_id = passd_tenant() AND `+fmt.Sprintf(parisDay, "decided_at")+` BETWEEN $1 AND $2
		GROUP BY 1, 2`, p.From, p.To)
	if err != nil {
		return fmt.Errorf("programme: decisions: %w", err)
	}
	var opened, refused int64
	for rows.Next() {
		var decision, regime string
		var n int64
		if err := rows.Scan(&decision, &regime, &n); err != nil {
			rows.Close()
			return fmt.Errorf("programme: decisions: %w", err)
		}
		if decision == "opened" {
			r.Opened[regime] += People(n)
			opened += n
		} else {
			refused += n
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("programme: decisions: %w", err)
	}
	r.Refused = People(refused)
	r.AcceptanceRate = peoplePercent(opened, opened+refused)
	var within35, within90, timed int64
	err = tx.QueryRow(ctx, `
		WITH d AS (SELECT `+fmt.Sprintf(parisDay, "decided_at")+` - filed_on AS days FROM rights_decisions
		           WHERE superseded_at IS NULL AND filed_on IS NOT NULL AND tenant_id = passd_tenant() AND `+fmt.Sprintf(parisDay, "decided_at")+` BETWEEN $1 AND $2)
		SELECT count(*), count(*) FILTER (WHERE days <= 35), count(*) FILTER (WHERE days <= 90),
		       percentile_disc(0.5) WITHIN GROUP (ORDER BY days), percentile_disc(0.9) WITHIN GROUP (ORDER BY days)
		FROM d`, p.From, p.To).Scan(&timed, &within35, &within90, &r.DelayMedian, &r.DelayP90)
	if err != nil {
		return fmt.Errorf("programme: delays: %w", err)
	}
	r.WithinDays35Pct, r.WithinDays90Pct = peoplePercent(within35, timed), peoplePercent(within90, timed)
	r.DelayDistribution = map[string]People{"0-35": People(within35), "36-90": People(within90 - within35), "91+": People(timed - within90)}
	if timed < SmallCell {
		// Of one to four decisions, a median is someone's own delay.
		r.DelayMedian, r.DelayP90 = nil, nil
	}
	var young, middle, old int64
	err = tx.QueryRow(ctx, `
		SELECT count(*) FILTER (WHERE $1::date - rights_filed_on < 35),
		       count(*) FILTER (WHERE $1::date - rights_filed_on BETWEEN 35 AND 89),
		       count(*) FILTER (WHERE $1::date - rights_filed_on >= 90)
		FROM patients WHERE rights_status = 'requested' AND rights_filed_on <= $1 AND tenant_id = passd_tenant()`, p.To).Scan(&young, &middle, &old)
	if err != nil {
		return fmt.Errorf("programme: waiting: %w", err)
	}
	r.Waiting = map[string]People{"0-34": People(young), "35-89": People(middle), "90+": People(old)}
	return nil
}

func care(ctx context.Context, tx pgx.Tx, p Period, f *Figures) error {
	c := &f.Care
	c.ByKind, c.ByStatus, c.ByReason = map[string]Amounts{}, map[string]Amounts{}, map[string]Amounts{}
	rows, err := tx.Query(ctx, `
		SELECT pr.id, pr.kind, i.status, coalesce(i.decision_reason, ''), count(*), sum(i.total),
		       coalesce(sum(i.cpam_amount), 0), coalesce(sum(i.city_amount), 0)
		FROM invoices i JOIN providers pr ON pr.id = i.provider_id AND pr.tenant_id = passd_tenant()
		WHERE i.care_date BETWEEN $1 AND $2 AND i.tenant_id = passd_tenant()
		GROUP BY 1, 2, 3, 4`, p.From, p.To)
	if err != nil {
		return fmt.Errorf("programme: care: %w", err)
	}
	defer rows.Close()
	c.Invoices.Amount = decimal.Zero
	cpam, city := decimal.Zero, decimal.Zero
	providers := map[int64]Amounts{}
	for rows.Next() {
		var providerID int64
		var kind, status, reason string
		var a Amounts
		var cpamPart, cityPart decimal.Decimal
		if err := rows.Scan(&providerID, &kind, &status, &reason, &a.Count, &a.Amount, &cpamPart, &cityPart); err != nil {
			return fmt.Errorf("programme: care: %w", err)
		}
		providers[providerID] = add(providers[providerID], a)
		c.Invoices = add(c.Invoices, a)
		c.ByKind[kind] = add(c.ByKind[kind], a)
		c.ByStatus[status] = add(c.ByStatus[status], a)
		if reason != "" && status != "cancelled" {
			c.ByReason[reason] = add(c.ByReason[reason], a)
		}
		cpam, city = cpam.Add(cpamPart), city.Add(cityPart)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("programme: care: %w", err)
	}
	c.ReleasedPct, c.CityPct = share(cpam, cpam.Add(city)), share(city, cpam.Add(city))
	return byProvider(ctx, tx, providers, f)
}

func add(a, b Amounts) Amounts {
	if a.Amount.IsZero() && a.Count == 0 {
		a.Amount = decimal.Zero
	}
	return Amounts{Count: a.Count + b.Count, Amount: a.Amount.Add(b.Amount)}
}

func money(ctx context.Context, tx pgx.Tx, p Period, f *Figures) error {
	m := &f.Money
	err := tx.QueryRow(ctx, `
		SELECT (SELECT coalesce(sum(paid_amount), 0) FROM claims WHERE status = 'paid' AND paid_on BETWEEN $1 AND $2 AND claims.tenant_id = passd_tenant())
		         - (SELECT coalesce(sum(r.amount), 0) FROM cpam_refunds r WHERE r.tenant_id = passd_tenant() AND `+fmt.Sprintf(parisDay, "r.created_at")+` BETWEEN $1 AND $2),
		       (SELECT coalesce(sum(amount), 0) FROM payouts WHERE status = 'paid' AND paid_on BETWEEN $1 AND $2 AND payouts.tenant_id = passd_tenant()),
		       (SELECT coalesce(sum(amount), 0) FROM provider_recoveries WHERE provider_recoveries.tenant_id = passd_tenant() AND `+fmt.Sprintf(parisDay, "created_at")+` BETWEEN $1 AND $2),
		       (SELECT annual_budget FROM settings WHERE tenant_id = passd_tenant())`, p.From, p.To).Scan(&m.PaidByCPAM, &m.PaidByCity, &m.Recovered, &m.Budget)
	if err != nil {
		return fmt.Errorf("programme: money: %w", err)
	}
	// The budget of the period's last year, used as the budget report
	// counts it: approved in the year and not paid, or paid in the year
	// (two disjoint sets, each read by its index: an OR across the join
	// would read every payout).
	year := p.To.Year()
	err = tx.QueryRow(ctx, `
		SELECT coalesce(sum(amount), 0) FROM (
		    SELECT p.amount FROM payouts p JOIN payout_batches b ON b.id = p.batch_id AND b.tenant_id = passd_tenant()
		    WHERE p.status = 'approved' AND extract(year FROM b.approved_at AT TIME ZONE 'Europe/Paris') = $1::int AND p.tenant_id = passd_tenant()
		    UNION ALL
		    SELECT p.amount FROM payouts p JOIN payout_batches b ON b.id = p.batch_id AND b.tenant_id = passd_tenant()
		    WHERE p.status = 'paid' AND p.paid_on BETWEEN make_date($1::int, 1, 1) AND make_date($1::int, 12, 31) AND p.tenant_id = passd_tenant()) used`, year).Scan(&m.BudgetUsed)
	if err != nil {
		return fmt.Errorf("programme: budget: %w", err)
	}
	m.BudgetLeft = m.Budget.Sub(m.BudgetUsed)
	m.CityNetCost = m.PaidByCity.Sub(m.Recovered)
	// Shared among fewer than five people, the cost per person would tell
	// what one person's care cost.
	if n := int64(f.People.FilesActive); n >= SmallCell {
		m.CityNetCostPerPerson = m.CityNetCost.DivRound(decimal.NewFromInt(n), 2).StringFixed(2)
	}
	return nil
}

// peoplePercent is part / whole of people in percent to one decimal, ""
// when whole is under SmallCell: a share of one to four people would tell
// the suppressed counts it is made of (one of two is 50.0).
func peoplePercent(part, whole int64) string {
	if whole < SmallCell {
		return ""
	}
	return decimal.NewFromInt(part*100).DivRound(decimal.NewFromInt(whole), 1).StringFixed(1)
}

// share is part / whole of amounts in percent to one decimal.
func share(part, whole decimal.Decimal) string {
	if whole.IsZero() {
		return ""
	}
	return part.Mul(decimal.NewFromInt(100)).DivRound(whole, 1).StringFixed(1)
}
