package billing_test

import (
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/shopspring/decimal"

	"passd/billing"
	"passd/calendar"
	"passd/rights"
	"passd/settlement"
)

func d(s string) calendar.Date {
	v, err := calendar.Parse(s)
	if err != nil {
		panic(err)
	}
	return v
}

func amt(s string) decimal.Decimal { return decimal.RequireFromString(s) }

func TestSplitLinesAddsUpToTheCent(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		lines      []billing.Line
		rate       string
		cpam, city string
	}{
		{"GP consultation at 70%", []billing.Line{{Quantity: 1, UnitPrice: amt("30.00")}}, "0.70", "21.00", "9.00"},
		// 3.15 × 0.60 = 1.89 exactly; 2.75 × 0.60 = 1.65.
		{"nurse act and travel fee at 60%", []billing.Line{{Quantity: 3, UnitPrice: amt("3.15")}, {Quantity: 1, UnitPrice: amt("2.75")}}, "0.60", "7.32", "4.88"},
		// 21.28 × 2 × 0.70 = 29.792 → 29.79; the city pays the exact rest.
		{"rounding per line, half-up", []billing.Line{{Quantity: 1, UnitPrice: amt("30.00")}, {Quantity: 2, UnitPrice: amt("21.28")}}, "0.70", "50.79", "21.77"},
		// 0.35 × 0.65 = 0.2275 → 0.23 per line (not 0.69 on the sum 1.05 × 0.65 = 0.6825 → 0.68).
		{"shares are per line, not per total", []billing.Line{{Quantity: 1, UnitPrice: amt("0.35")}, {Quantity: 1, UnitPrice: amt("0.35")}, {Quantity: 1, UnitPrice: amt("0.35")}}, "0.65", "0.69", "0.36"},
		// 0.15 × 0.70 = 0.105 → 0.11 half-up; banker's rounding would give 0.10.
		{"exact half rounds up", []billing.Line{{Quantity: 1, UnitPrice: amt("0.15")}}, "0.70", "0.11", "0.04"},
		{"full coverage", []billing.Line{{Quantity: 2, UnitPrice: amt("12.34")}}, "1.00", "24.68", "0.00"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rates := make([]decimal.Decimal, len(tt.lines))
			for i := range rates {
				rates[i] = amt(tt.rate)
			}
			s, err := billing.SplitLines(tt.lines, rates)
			if err != nil {
				t.Fatal(err)
			}
			if !s.CPAM.Equal(amt(tt.cpam)) || !s.City.Equal(amt(tt.city)) {
				t.Fatalf("split = %s / %s, want %s / %s", s.CPAM, s.City, tt.cpam, tt.city)
			}
			if !s.CPAM.Add(s.City).Equal(billing.TotalOf(tt.lines)) {
				t.Fatalf("split %s + %s does not add up to %s", s.CPAM, s.City, billing.TotalOf(tt.lines))
			}
		})
	}
}

func TestPrescribedCountsFromTheQuarterAfterTheCare(t *testing.T) {
	t.Parallel()
	// Care on 2024-02-10: the quarter after starts 2024-04-01, so the CPAM
	// may be billed up to 2026-03-31 and the city pays from 2026-04-01.
	care := d("2024-02-10")
	if billing.Prescribed(care, d("2026-03-31")) {
		t.Fatal("prescribed on the last day of the two years")
	}
	if !billing.Prescribed(care, d("2026-04-01")) {
		t.Fatal("not prescribed the day after the two years")
	}
}

// period is an opened decision: id, regime, from, to ("" none), decided on.
func period(id int64, regime rights.Regime, from, to, decided string) rights.Period {
	p := rights.Period{DecisionID: id, Regime: regime, From: d(from), Reference: fmt.Sprintf("REF-%d", id), DecidedOn: d(decided)}
	if to != "" {
		p.To = d(to)
	}
	return p
}

// gpRates are a GP's rates by regime, as seeded.
func gpRates(r rights.Regime) decimal.Decimal {
	if r == rights.PUMa {
		return amt("0.70")
	}
	return amt("1.00")
}

func TestDecide(t *testing.T) {
	t.Parallel()
	care, deadline := d("2026-06-10"), d("2026-09-08")
	opened := func(from, to, decided string) billing.Rights {
		return billing.Rights{Status: "opened", DecidedOn: d(decided), Periods: []rights.Period{period(1, rights.PUMa, from, to, decided)}}
	}
	released := func(r billing.Rights) billing.Outcome {
		return billing.Outcome{Status: "released", Reason: "rights_opened", Period: r.Periods[0]}
	}
	refused := billing.Rights{Status: "refused", DecidedOn: d("2026-07-01")}
	tests := []struct {
		name   string
		rights billing.Rights
		today  string
		want   billing.Outcome
	}{
		{"no rights, before deadline", billing.Rights{Status: "none"}, "2026-07-01", billing.Outcome{}},
		{"requested, on the deadline day", billing.Rights{Status: "requested"}, "2026-09-08", billing.Outcome{}},
		{"requested, the day after the deadline", billing.Rights{Status: "requested"}, "2026-09-09", billing.Outcome{Status: "city_due", Reason: "deadline_passed"}},
		{"opened, covering, open-ended", opened("2026-06-01", "", "2026-07-01"), "2026-07-01", released(opened("2026-06-01", "", "2026-07-01"))},
		{"opened, period starts on the care date", opened("2026-06-10", "2027-06-09", "2026-07-01"), "2026-07-01", released(opened("2026-06-10", "2027-06-09", "2026-07-01"))},
		{"opened, period ends on the care date", opened("2025-06-10", "2026-06-10", "2026-07-01"), "2026-07-01", released(opened("2025-06-10", "2026-06-10", "2026-07-01"))},
		{"opened, starts after the care", opened("2026-06-11", "", "2026-07-01"), "2026-07-01", billing.Outcome{Status: "city_due", Reason: "not_covered"}},
		{"opened, ended before the care", opened("2025-01-01", "2026-06-09", "2026-07-01"), "2026-07-01", billing.Outcome{Status: "city_due", Reason: "not_covered"}},
		{"refused", refused, "2026-07-01", billing.Outcome{Status: "city_due", Reason: "rights_refused"}},
		{"opened on the deadline day, swept later", opened("2026-06-01", "", "2026-09-08"), "2026-09-20", released(opened("2026-06-01", "", "2026-09-08"))},
		{"opened the day after the deadline", opened("2026-06-01", "", "2026-09-09"), "2026-09-09", billing.Outcome{Status: "city_due", Reason: "deadline_passed"}},
		{"refused after the deadline", billing.Rights{Status: "refused", DecidedOn: d("2026-09-10")}, "2026-09-10", billing.Outcome{Status: "city_due", Reason: "deadline_passed"}},
		{"covering, but swept after the two-year limit", opened("2026-06-01", "", "2026-07-01"), "2028-07-01", billing.Outcome{Status: "city_due", Reason: "prescribed"}},
		{"covering, swept on the last day before the limit", opened("2026-06-01", "", "2026-07-01"), "2028-06-30", released(opened("2026-06-01", "", "2026-07-01"))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := billing.Decide(care, deadline, tt.rights, d(tt.today), gpRates); !cmp.Equal(got, tt.want) {
				t.Fatalf("Decide = %+v, want %+v", got, tt.want)
			}
		})
	}
}

// TestDecideAgainstThePeriodInForce: with several periods, the invoice is
// decided against the one in force on its care date, whatever the file's
// latest decision says.
func TestDecideAgainstThePeriodInForce(t *testing.T) {
	t.Parallel()
	ame1 := period(1, rights.AME, "2025-03-01", "2026-02-28", "2025-03-20")
	ame2 := period(2, rights.AME, "2026-03-01", "2027-02-28", "2026-03-25")
	puma := period(3, rights.PUMa, "2026-01-01", "", "2026-01-20")
	css := period(4, rights.PUMaCSS, "2026-04-01", "2027-03-31", "2026-03-28")
	late := period(5, rights.PUMaCSS, "2026-01-01", "2026-12-31", "2026-11-20")
	tests := []struct {
		name    string
		care    string
		status  rights.Status // the file's latest state
		latest  string        // the day of its latest decision
		periods []rights.Period
		today   string
		want    billing.Outcome
	}{
		{"renewal: care in the first AME period", "2026-01-15", "opened", "2026-03-25", []rights.Period{ame1, ame2}, "2026-04-01",
			billing.Outcome{Status: "released", Reason: "rights_opened", Period: ame1}},
		{"renewal: care in the second", "2026-03-01", "opened", "2026-03-25", []rights.Period{ame1, ame2}, "2026-04-01",
			billing.Outcome{Status: "released", Reason: "rights_opened", Period: ame2}},
		{"on the last day of a period", "2026-02-28", "opened", "2026-03-25", []rights.Period{ame1, ame2}, "2026-04-01",
			billing.Outcome{Status: "released", Reason: "rights_opened", Period: ame1}},
		{"gap between two periods", "2026-02-15", "opened", "2026-03-25", []rights.Period{period(1, rights.AME, "2025-03-01", "2026-01-31", "2025-03-20"), ame2}, "2026-04-01",
			billing.Outcome{Status: "city_due", Reason: "not_covered"}},
		{"PUMa then CSS: before the CSS, PUMa", "2026-03-15", "opened", "2026-03-28", []rights.Period{puma, css}, "2026-04-10",
			billing.Outcome{Status: "released", Reason: "rights_opened", Period: puma}},
		{"PUMa then CSS overlap: the larger CPAM share", "2026-04-01", "opened", "2026-03-28", []rights.Period{puma, css}, "2026-04-10",
			billing.Outcome{Status: "released", Reason: "rights_opened", Period: css}},
		{"a later refusal does not undo an earlier period", "2026-01-15", "refused", "2026-03-25", []rights.Period{ame1}, "2026-04-01",
			billing.Outcome{Status: "released", Reason: "rights_opened", Period: ame1}},
		{"a renewal applied for: care after the period waits", "2026-03-10", "requested", "", []rights.Period{ame1}, "2026-04-01",
			billing.Outcome{}},
		{"a period decided after the deadline does not count", "2026-01-15", "opened", "2026-11-20", []rights.Period{late}, "2026-11-20",
			billing.Outcome{Status: "city_due", Reason: "deadline_passed"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			care := d(tt.care)
			r := billing.Rights{Status: tt.status, Periods: tt.periods}
			if tt.latest != "" {
				r.DecidedOn = d(tt.latest)
			}
			if got := billing.Decide(care, care.AddDays(90), r, d(tt.today), gpRates); !cmp.Equal(got, tt.want) {
				t.Fatalf("Decide = %+v, want %+v", got, tt.want)
			}
		})
	}
}

// TestRedecide is the rule for an invoice already decided once its
// patient's rights changed: a period in force on the care date, whenever
// decided, releases it within the CPAM's two years; no period makes a
// released invoice the city's; a claim the CPAM paid stands.
func TestRedecide(t *testing.T) {
	t.Parallel()
	puma := period(3, rights.PUMa, "2026-01-01", "", "2026-01-20")
	corrected := period(7, rights.PUMa, "2026-02-01", "", "2026-05-02")
	late := period(5, rights.PUMaCSS, "2026-01-01", "2026-12-31", "2026-11-20")
	released := func(id int64, claim string) billing.Current {
		return billing.Current{Status: "released", Reason: "rights_opened", DecisionID: id, ClaimStatus: settlement.ClaimStatus(claim)}
	}
	cityDue := func(reason string) billing.Current {
		return billing.Current{Status: "city_due", Reason: settlement.Reason(reason)}
	}
	tests := []struct {
		name    string
		cur     billing.Current
		care    string
		status  rights.Status
		periods []rights.Period
		today   string
		want    billing.Outcome
		changed bool
	}{
		{"late CSS: deadline_passed claimed back", cityDue("deadline_passed"), "2026-02-10", "opened", []rights.Period{late}, "2026-12-10",
			billing.Outcome{Status: "released", Reason: "rights_opened", Period: late}, true},
		{"refusal corrected into an opening", cityDue("rights_refused"), "2026-03-10", "opened", []rights.Period{puma}, "2026-05-02",
			billing.Outcome{Status: "released", Reason: "rights_opened", Period: puma}, true},
		{"not covered, still not covered", cityDue("not_covered"), "2025-12-31", "opened", []rights.Period{puma}, "2026-05-02",
			billing.Outcome{}, false},
		{"opening corrected into a refusal", released(3, "queued"), "2026-03-10", "refused", nil, "2026-05-02",
			billing.Outcome{Status: "city_due", Reason: "rights_refused"}, true},
		{"period corrected: the care left outside", released(3, "transmitted"), "2026-01-15", "opened", []rights.Period{corrected}, "2026-05-02",
			billing.Outcome{Status: "city_due", Reason: "not_covered"}, true},
		{"period corrected: the care still inside, under the new one", released(3, "transmitted"), "2026-03-10", "opened",
			[]rights.Period{corrected}, "2026-05-02", billing.Outcome{Status: "released", Reason: "rights_opened", Period: corrected}, true},
		{"the same period: nothing changes", released(3, "queued"), "2026-03-10", "opened", []rights.Period{puma}, "2026-05-02",
			billing.Outcome{}, false},
		{"a claim the CPAM paid stands under another period", released(3, "paid"), "2026-03-10", "opened", []rights.Period{corrected},
			"2026-05-02", billing.Outcome{}, false},
		{"past the CPAM's two years: nothing to claim back", cityDue("deadline_passed"), "2024-01-10", "opened",
			[]rights.Period{period(9, rights.PUMa, "2024-01-01", "", "2026-05-01")}, "2026-05-02", billing.Outcome{}, false},
		{"prescribed stays prescribed", cityDue("prescribed"), "2026-03-10", "opened", []rights.Period{puma}, "2026-05-02",
			billing.Outcome{}, false},
		{"care on the corrected period's first day", cityDue("not_covered"), "2026-02-01", "opened", []rights.Period{corrected}, "2026-05-02",
			billing.Outcome{Status: "released", Reason: "rights_opened", Period: corrected}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := billing.Rights{Status: tt.status, Periods: tt.periods}
			got, changed := billing.Redecide(tt.cur, d(tt.care), r, d(tt.today), gpRates)
			if changed != tt.changed || !cmp.Equal(got, tt.want) {
				t.Fatalf("Redecide = %+v, %v; want %+v, %v", got, changed, tt.want, tt.changed)
			}
		})
	}
}
