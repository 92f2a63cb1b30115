package referrals

import (
	"context"
	"fmt"
	"strconv"

	"github.com/jackc/pgx/v5"

	"passd/db"
	"passd/programme"
)

// Indicators are the convention's figures for its steering committee over
// a period: aggregates only, every count of cases under
// programme.SmallCell suppressed as in the programme's report.
type Indicators struct {
	Period    programme.Period
	Months    []MonthFigures
	Referrals Flow // CCAS → SOS Médecins
	Alerts    Flow // SOS Médecins → CCAS
}

// MonthFigures are the cases sent each way in one month ("2026-03").
type MonthFigures struct {
	Month     string
	Referrals programme.People
	Alerts    programme.People
}

// Flow is the figures of one direction, for the cases sent in the period.
type Flow struct {
	Sent     programme.People
	Answered programme.People // given a first answer (accepted or declined; acknowledged)
	// DelayMedianHours: the median of hours from sending to the first
	// answer; nil under SmallCell answers, so that a delay does not tell
	// one person's story.
	DelayMedianHours *int
	// WithFeedback: the cases the other side reported back on (a
	// referral's outcome, an alert's follow-up step); FeedbackPct is their
	// share of those sent, "" when either count is suppressed.
	WithFeedback programme.People
	FeedbackPct  string
	// Outcomes: a referral's outcome (and "declined"); the follow-up steps
	// alerts reached (each alert counted once per step).
	Outcomes map[string]programme.People
	// ByBasis: alerts by lawful basis (consent, or which exception).
	ByBasis map[string]programme.People
}

// periodCases selects the cases sent in the period, in Paris's calendar.
const periodCases = `SELECT * FROM referral_cases
	WHERE (created_at AT TIME ZONE 'Europe/Paris')::date BETWEEN $1 AND $2 AND tenant_id = passd_tenant()`

// Indicators computes the figures of the cases sent in p.
func (s *Store) Indicators(ctx context.Context, p programme.Period) (Indicators, error) {
	out := Indicators{Period: p}
	err := db.InTxOptions(ctx, s.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		var err error
		if out.Months, err = months(ctx, tx, p); err != nil {
			return err
		}
		if out.Referrals, err = flow(ctx, tx, p, KindReferral); err != nil {
			return err
		}
		out.Alerts, err = flow(ctx, tx, p, KindAlert)
		return err
	})
	return out, db.Translate(err)
}

func months(ctx context.Context, tx pgx.Tx, p programme.Period) ([]MonthFigures, error) {
	rows, err := tx.Query(ctx, `SELECT to_char(created_at AT TIME ZONE 'Europe/Paris', 'YYYY-MM') AS m,
			count(*) FILTER (WHERE kind = 'referral'), count(*) FILTER (WHERE kind = 'alert')
		FROM (`+periodCases+`) c GROUP BY m ORDER BY m`, p.From, p.To)
	if err != nil {
		return nil, fmt.Errorf("referrals: indicators by month: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (MonthFigures, error) {
		var m MonthFigures
		err := r.Scan(&m.Month, &m.Referrals, &m.Alerts)
		return m, err
	})
	if err != nil {
		return nil, fmt.Errorf("referrals: indicators by month: %w", err)
	}
	return out, nil
}

func flow(ctx context.Context, tx pgx.Tx, p programme.Period, kind Kind) (Flow, error) {
	var f Flow
	var median *float64
	err := tx.QueryRow(ctx, `SELECT count(*), count(first_answer_at),
			percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM first_answer_at - created_at) / 3600),
			count(*) FILTER (WHERE outcome IS NOT NULL OR EXISTS (SELECT 1 FROM referral_events e WHERE e.case_id = c.id AND e.kind = 'follow_up' AND e.tenant_id = passd_tenant()))
		FROM (`+periodCases+`) c WHERE kind = $3`, p.From, p.To, kind).Scan(&f.Sent, &f.Answered, &median, &f.WithFeedback)
	if err != nil {
		return f, fmt.Errorf("referrals: indicators of %s: %w", kind, err)
	}
	if median != nil && f.Answered >= programme.SmallCell {
		h := int(*median + 0.5)
		f.DelayMedianHours = &h
	}
	if !f.Sent.Suppressed() && !f.WithFeedback.Suppressed() && f.Sent > 0 {
		f.FeedbackPct = strconv.FormatFloat(float64(f.WithFeedback)*100/float64(f.Sent), 'f', 1, 64)
	}
	outcomes := `SELECT CASE WHEN status = 'declined' THEN 'declined' ELSE outcome END AS o, count(*)
		FROM (` + periodCases + `) c WHERE kind = 'referral' AND (outcome IS NOT NULL OR status = 'declined') GROUP BY o`
	if kind == KindAlert {
		outcomes = `SELECT e.detail, count(DISTINCT c.id) FROM (` + periodCases + `) c
			JOIN referral_events e ON e.case_id = c.id AND e.kind = 'follow_up' AND e.tenant_id = passd_tenant() WHERE c.kind = 'alert' GROUP BY e.detail`
	}
	if f.Outcomes, err = countBy(ctx, tx, outcomes, p); err != nil {
		return f, err
	}
	if kind == KindAlert {
		f.ByBasis, err = countBy(ctx, tx, `SELECT basis, count(*) FROM (`+periodCases+`) c WHERE kind = 'alert' GROUP BY basis`, p)
	}
	return f, err
}

func countBy(ctx context.Context, tx pgx.Tx, sql string, p programme.Period) (map[string]programme.People, error) {
	rows, err := tx.Query(ctx, sql, p.From, p.To)
	if err != nil {
		return nil, fmt.Errorf("referrals: indicators: %w", err)
	}
	out := map[string]programme.People{}
	var k string
	var n programme.People
	_, err = pgx.ForEachRow(rows, []any{&k, &n}, func() error { out[k] = n; return nil })
	if err != nil {
		return nil, fmt.Errorf("referrals: indicators: %w", err)
	}
	return out, nil
}
