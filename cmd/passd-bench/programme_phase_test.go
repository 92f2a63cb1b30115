package main

import (
	"context"
	"passd/db"
	"testing"
	"time"

	"passd/calendar"
	"passd/db/dbtest"
	"passd/keyring/keyringtest"
	"passd/programme"
)

func TestReportYearIsHalfAYearAgo(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		today calendar.Date
		want  int
	}{
		{calendar.NewDate(2026, time.December, 6), 2026},
		{calendar.NewDate(2026, time.July, 3), 2026},
		{calendar.NewDate(2026, time.July, 2), 2025},
		{calendar.NewDate(2027, time.January, 2), 2026},
	} {
		if got := reportYear(c.today); got != c.want {
			t.Errorf("reportYear(%s) = %d, want %d", c.today, got, c.want)
		}
	}
}

func TestProgrammeWorldSpreadsTheFilesOverItsDays(t *testing.T) {
	t.Parallel()
	w, err := newProgrammeWorld(calendar.NewDate(2026, time.December, 6), 100_000, 1_000_000)
	if err != nil {
		t.Fatal(err)
	}
	if w.year != 2026 || w.first != calendar.NewDate(2025, time.January, 1) || w.last != calendar.NewDate(2026, time.December, 5) ||
		w.days() != 365+339 || w.providers != 1000 {
		t.Fatalf("world = %+v, %d days", w, w.days())
	}
	if first, last := w.fileOpened(0), w.fileOpened(w.patients-1); first != w.first || last != w.last {
		t.Errorf("files opened from %s to %s, want %s to %s", first, last, w.first, w.last)
	}
	// About as many files a day every day: half of them by the middle day.
	if mid := w.fileOpened(w.patients / 2); mid != w.first.AddDays(w.days()/2) {
		t.Errorf("the middle file opened on %s, want %s", mid, w.first.AddDays(w.days()/2))
	}
	small, err := newProgrammeWorld(calendar.NewDate(2026, time.December, 6), 10, 10)
	if err != nil || small.providers != minProviders {
		t.Errorf("a small world: %+v, %v", small, err)
	}
	for _, bad := range [][2]int{{0, 10}, {10, 9}} {
		if _, err := newProgrammeWorld(calendar.NewDate(2026, time.December, 6), bad[0], bad[1]); err == nil {
			t.Errorf("%d files and %d invoices accepted", bad[0], bad[1])
		}
	}
}

func TestMedianMaxTakesTheLowerMiddle(t *testing.T) {
	t.Parallel()
	ms := func(n ...int) []time.Duration {
		out := make([]time.Duration, len(n))
		for i, v := range n {
			out[i] = time.Duration(v) * time.Millisecond
		}
		return out
	}
	d := ms(900, 300, 700, 500)
	if med, maxS := medianMax(d); med != 0.5 || maxS != 0.9 {
		t.Errorf("medianMax = %v, %v; want 0.5, 0.9", med, maxS)
	}
	if d[0] != 900*time.Millisecond {
		t.Error("medianMax sorted its argument")
	}
	if med, maxS := medianMax(ms(250)); med != 0.25 || maxS != 0.25 {
		t.Errorf("one answer: %v, %v", med, maxS)
	}
	if med, maxS := medianMax(nil); med != 0 || maxS != 0 {
		t.Errorf("none: %v, %v", med, maxS)
	}
}

func TestReportInvoicesReadsTheYearsCount(t *testing.T) {
	t.Parallel()
	n, err := reportInvoices([]byte(`{"current":{"care":{"invoices":{"count":608630,"amount":"1.00"}}},"previous":{}}`))
	if err != nil || n != 608630 {
		t.Errorf("reportInvoices = %d, %v", n, err)
	}
	for _, bad := range []string{`{"current":{"care":{"invoices":{"count":0}}}}`, `{"current":`, `[]`} {
		if _, err := reportInvoices([]byte(bad)); err == nil {
			t.Errorf("reportInvoices(%s) gave no error", bad)
		}
	}
}

// TestSeedProgrammeGivesEveryFigure seeds a small programme and reads its
// report as passd does: every figure the report shows has data in both
// years, and the rows the seed wrote past the skipped triggers hold
// together (every reference resolves, status_counts adds up).
func TestSeedProgrammeGivesEveryFigure(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	u := benchDBURL(t)
	w, err := newProgrammeWorld(calendar.Today(time.Now()), 2000, 20_000)
	if err != nil {
		t.Fatal(err)
	}
	if err := seedProgramme(ctx, u, w, keyringtest.New(t)); err != nil {
		t.Fatal(err)
	}
	if err := seedProgramme(ctx, u, w, keyringtest.New(t)); err == nil {
		t.Error("a second seed into the same database was accepted")
	}
	r, err := programme.NewStore(db.NewPool(openAs(t, u, dbtest.Role())).Bind(dbtest.Convention)).Report(ctx, programme.Year(w.year))
	if err != nil {
		t.Fatal(err)
	}
	// The breakdowns month by month are the year's; the year before has
	// its headline figures.
	if len(r.Current.ByMonth) != 12 || len(r.Current.Money.BudgetByMonth) != 12 || len(r.Previous.ByMonth) != 0 {
		t.Errorf("months: %d of the year, %d of its budget, %d of the year before", len(r.Current.ByMonth),
			len(r.Current.Money.BudgetByMonth), len(r.Previous.ByMonth))
	}
	for _, f := range []programme.Figures{r.Current, r.Previous} {
		c, m, rights := f.Care, f.Money, f.Rights
		if f.People.FilesOpened < 100 || f.People.FilesActive < 100 || len(f.Care.ByProvider) == 0 || rights.Applications < 100 || rights.Refused < 10 ||
			rights.Opened["puma"] < 10 || rights.Opened["puma_css"] < 10 || rights.Opened["ame"] < 10 || rights.DelayMedian == nil ||
			rights.DelayDistribution["91+"] < 5 {
			t.Errorf("%s: people %+v, rights %+v", f.Period.From, f.People, rights)
		}
		for _, s := range []string{"released", "city_due", "cancelled"} {
			if c.ByStatus[s].Count == 0 {
				t.Errorf("%s: no invoice %s: %+v", f.Period.From, s, c.ByStatus)
			}
		}
		for _, reason := range []string{"rights_opened", "rights_refused", "deadline_passed"} {
			if c.ByReason[reason].Count == 0 {
				t.Errorf("%s: no invoice decided %s: %+v", f.Period.From, reason, c.ByReason)
			}
		}
		if len(c.ByKind) != 6 || !m.PaidByCPAM.IsPositive() || !m.PaidByCity.IsPositive() || !m.Recovered.IsPositive() || m.CityNetCostPerPerson == "" {
			t.Errorf("%s: kinds %v, money %+v", f.Period.From, c.ByKind, m)
		}
	}
	if r.Current.Money.BudgetUsed.IsZero() || !r.Current.Money.BudgetLeft.IsPositive() {
		t.Errorf("budget %+v", r.Current.Money)
	}
	pool := openAs(t, u, "")
	var inYears, dangling, countsOff, pending int64
	err = pool.QueryRow(ctx, `
		SELECT (SELECT count(*) FROM invoices WHERE extract(year FROM care_date) IN ($1::int, $1::int - 1)),
		       (SELECT count(*) FROM invoices i WHERE NOT EXISTS (SELECT 1 FROM users u WHERE u.id = i.created_by AND u.provider_id = i.provider_id))
		     + (SELECT count(*) FROM claims c WHERE NOT EXISTS (SELECT 1 FROM rights_decisions d WHERE d.id = c.rights_decision_id AND d.superseded_at IS NULL)
		                                          OR (c.batch_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM claim_batches b WHERE b.id = c.batch_id)))
		     + (SELECT count(*) FROM payouts p WHERE p.batch_id IS NOT NULL AND NOT EXISTS (
		            SELECT 1 FROM payout_batches b WHERE b.id = p.batch_id AND b.status = CASE p.status WHEN 'paid' THEN 'paid' ELSE 'approved' END))
		     + (SELECT count(*) FROM rights_decisions d WHERE d.supersedes IS NOT NULL AND NOT EXISTS (
		            SELECT 1 FROM rights_decisions o WHERE o.id = d.supersedes AND o.patient_id = d.patient_id AND o.superseded_at IS NOT NULL)),
		       (SELECT count(*) FROM (SELECT kind, status, sum(n), sum(amount) FROM status_counts GROUP BY 1, 2 HAVING sum(n) <> 0
		                              EXCEPT ALL (SELECT 'invoice', status, count(*), sum(total) FROM invoices GROUP BY 2
		                                          UNION ALL SELECT 'payout', status, count(*), sum(amount) FROM payouts GROUP BY 2)) d),
		       (SELECT count(*) FROM invoices WHERE status = 'pending')`, w.year).Scan(&inYears, &dangling, &countsOff, &pending)
	if err != nil {
		t.Fatal(err)
	}
	if got := r.Current.Care.Invoices.Count + r.Previous.Care.Invoices.Count; got != inYears {
		t.Errorf("the report counts %d invoices in the two years, the table %d", got, inYears)
	}
	if dangling != 0 || countsOff != 0 {
		t.Errorf("%d rows refer to nothing, %d status counts off", dangling, countsOff)
	}
	// Invoices still held: care in the last 90 days, undecided.
	if pending == 0 {
		t.Error("no invoice is held")
	}
}
