package billing

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"passd/audit"
	"passd/calendar"
	"passd/ident"
	"passd/rights"
	"passd/settlement"
)

// These tests cover the pure steps of a sweep batch (decideCandidates,
// shareReleased, planDecisions) without a database: what the batch reads
// goes in, what it would write comes out.

var cents = decimal.RequireFromString

// june is a day of June 2026, when most of these tests take place.
func june(d int) calendar.Date { return calendar.NewDate(2026, time.June, d) }

// pendingInvoice is a candidate of a GP unless kind says otherwise, with
// the default deadline of 90 days after its care.
func pendingInvoice(id int64, kind string, care calendar.Date, total string, r Rights) candidate {
	return candidate{id: id, providerID: 100 + id, kind: kind, care: care, deadline: care.AddDays(90), total: cents(total), rights: r}
}

var (
	puma = Rights{Status: rights.Opened, DecidedOn: june(15),
		Periods: []rights.Period{{DecisionID: 1, Regime: rights.PUMa, From: calendar.NewDate(2026, time.January, 1), Reference: "R1", DecidedOn: june(15)}}}
	// pumaLater opens rights from after the care dates of the tests.
	pumaLater = Rights{Status: rights.Opened, DecidedOn: june(15),
		Periods: []rights.Period{{DecisionID: 2, Regime: rights.PUMa, From: june(20), Reference: "R2", DecidedOn: june(15)}}}
	refused   = Rights{Status: rights.Refused, DecidedOn: june(15)}
	noneYet   = Rights{Status: rights.None}
	testRates = NewRateBook([]Rate{
		{Regime: rights.PUMa, Class: KindGP, EffectiveFrom: calendar.NewDate(2000, time.January, 1), Rate: cents("0.7")},
		{Regime: rights.PUMa, Class: KindPharmacy, EffectiveFrom: calendar.NewDate(2000, time.January, 1), Rate: cents("1")},
	})
	nickelLine = Line{Quantity: 1, UnitPrice: cents("0.05")}
)

// classed gives the lines without a rate class the class of their
// candidate's kind, as Tariff.Price would for an act outside the
// catalogue.
func classed(cands []candidate, lines map[int64][]Line) map[int64][]Line {
	out := map[int64][]Line{}
	for _, c := range cands {
		for _, l := range lines[c.id] {
			if l.RateClass == "" {
				l.RateClass = RateClass(c.kind)
			}
			out[c.id] = append(out[c.id], l)
		}
	}
	return out
}

// decidedInvoice is what the batch writes on one invoice.
type decidedInvoice struct {
	status     InvoiceStatus
	reason     settlement.Reason
	cpam, city string
}

func TestDecideCandidates(t *testing.T) {
	t.Parallel()
	today := calendar.NewDate(2026, time.July, 1)
	tests := []struct {
		name    string
		cands   []candidate
		lines   map[int64][]Line
		want    map[int64]decidedInvoice // absent: stays pending
		claims  []string                 // "invoice amount rates", in candidate order
		payouts []string                 // "invoice provider amount reason"
	}{
		{name: "empty batch"},
		{
			name:  "no rights yet, before the deadline: stays pending",
			cands: []candidate{pendingInvoice(1, KindGP, june(10), "30.00", noneYet)},
		},
		{
			name:    "rights refused: the city pays all",
			cands:   []candidate{pendingInvoice(1, KindGP, june(10), "30.00", refused)},
			want:    map[int64]decidedInvoice{1: {StatusCityDue, settlement.RightsRefused, "0", "30"}},
			payouts: []string{"1 101 30 " + string(settlement.RightsRefused)},
		},
		{
			name:    "deadline passed without rights",
			cands:   []candidate{pendingInvoice(1, KindGP, calendar.NewDate(2026, time.March, 1), "30.00", noneYet)},
			want:    map[int64]decidedInvoice{1: {StatusCityDue, settlement.DeadlinePassed, "0", "30"}},
			payouts: []string{"1 101 30 " + string(settlement.DeadlinePassed)},
		},
		{
			name:    "rights opened after the care date",
			cands:   []candidate{pendingInvoice(1, KindGP, june(10), "30.00", pumaLater)},
			want:    map[int64]decidedInvoice{1: {StatusCityDue, settlement.NotCovered, "0", "30"}},
			payouts: []string{"1 101 30 " + string(settlement.NotCovered)},
		},
		{
			name:    "released: each line's share rounded half-up to the cent, the city the remainder",
			cands:   []candidate{pendingInvoice(1, KindGP, june(10), "0.15", puma)},
			lines:   map[int64][]Line{1: {nickelLine, nickelLine, nickelLine}}, // 0.035 → 0.04, three times
			want:    map[int64]decidedInvoice{1: {StatusReleased, settlement.RightsOpened, "0.12", "0.03"}},
			claims:  []string{"1 0.12 0.7,0.7,0.7 R1"},
			payouts: []string{"1 101 0.03 " + string(settlement.TicketModerateur)},
		},
		{
			name:    "released: one line of three acts is rounded once",
			cands:   []candidate{pendingInvoice(1, KindGP, june(10), "0.15", puma)},
			lines:   map[int64][]Line{1: {{Quantity: 3, UnitPrice: cents("0.05")}}}, // 0.105 → 0.11
			want:    map[int64]decidedInvoice{1: {StatusReleased, settlement.RightsOpened, "0.11", "0.04"}},
			claims:  []string{"1 0.11 0.7 R1"},
			payouts: []string{"1 101 0.04 " + string(settlement.TicketModerateur)},
		},
		{
			name:   "released at 100%: a claim and no payout",
			cands:  []candidate{pendingInvoice(1, KindPharmacy, june(10), "12.34", puma)},
			lines:  map[int64][]Line{1: {{Quantity: 2, UnitPrice: cents("6.17")}}},
			want:   map[int64]decidedInvoice{1: {StatusReleased, settlement.RightsOpened, "12.34", "0"}},
			claims: []string{"1 12.34 1 R1"},
		},
		{
			name:  "refused with a total of zero: decided, but nothing to pay",
			cands: []candidate{pendingInvoice(1, KindGP, june(10), "0.00", refused)},
			want:  map[int64]decidedInvoice{1: {StatusCityDue, settlement.RightsRefused, "0", "0"}},
		},
		{
			name: "a mixed batch keeps the candidates' order and leaves the undecided alone",
			cands: []candidate{
				pendingInvoice(1, KindGP, june(10), "30.00", puma),
				pendingInvoice(2, KindGP, june(10), "30.00", noneYet),
				pendingInvoice(3, KindGP, june(10), "25.00", refused),
				pendingInvoice(4, KindPharmacy, june(11), "8.00", puma),
			},
			lines: map[int64][]Line{1: {{Quantity: 1, UnitPrice: cents("30.00")}}, 4: {{Quantity: 1, UnitPrice: cents("8.00")}}},
			want: map[int64]decidedInvoice{
				1: {StatusReleased, settlement.RightsOpened, "21", "9"},
				3: {StatusCityDue, settlement.RightsRefused, "0", "25"},
				4: {StatusReleased, settlement.RightsOpened, "8", "0"},
			},
			claims:  []string{"1 21 0.7 R1", "4 8 1 R1"},
			payouts: []string{"1 101 9 " + string(settlement.TicketModerateur), "3 103 25 " + string(settlement.RightsRefused)},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			decided, released := decideCandidates(tt.cands, today, testRates)
			if err := shareReleased(tt.cands, testRates, classed(tt.cands, tt.lines), nil); err != nil {
				t.Fatalf("shareReleased: %v", err)
			}
			done := map[int64]bool{}
			for _, c := range decided {
				done[c.id] = true
			}
			w := planDecisions(decided, done, audit.Job("test"))

			got := map[int64]decidedInvoice{}
			var wantReleased []int64
			for _, c := range decided {
				got[c.id] = decidedInvoice{c.outcome.Status, c.outcome.Reason, c.cpam.String(), c.city.String()}
				if !c.cpam.Add(c.city).Equal(c.total) {
					t.Errorf("invoice %d: %s + %s is not its total %s", c.id, c.cpam, c.city, c.total)
				}
				if c.outcome.Status == StatusReleased {
					wantReleased = append(wantReleased, c.id)
				}
			}
			if len(got) != len(tt.want) {
				t.Errorf("decided %v, want %v", got, tt.want)
			}
			for id, want := range tt.want {
				if got[id] != want {
					t.Errorf("invoice %d: %+v, want %+v", id, got[id], want)
				}
			}
			if !slices.Equal(released, wantReleased) {
				t.Errorf("released ids %v, want %v", released, wantReleased)
			}
			var gotClaims, gotPayouts []string
			for _, c := range w.claims {
				gotClaims = append(gotClaims, strings.Join([]string{ident.FormatID(c.InvoiceID), c.Amount.String(), rateList(c.LineRates), c.Period.Reference}, " "))
			}
			for _, p := range w.owed {
				gotPayouts = append(gotPayouts, strings.Join([]string{ident.FormatID(p.InvoiceID), ident.FormatID(p.ProviderID), p.Amount.String(), string(p.Reason)}, " "))
			}
			if strings.Join(gotClaims, "|") != strings.Join(tt.claims, "|") {
				t.Errorf("claims %q, want %q", gotClaims, tt.claims)
			}
			if strings.Join(gotPayouts, "|") != strings.Join(tt.payouts, "|") {
				t.Errorf("payouts %q, want %q", gotPayouts, tt.payouts)
			}
			if len(w.entries) != len(decided) {
				t.Errorf("%d audit rows for %d decided invoices", len(w.entries), len(decided))
			}
		})
	}
}

func rateList(rates []decimal.Decimal) string {
	out := make([]string, len(rates))
	for i, r := range rates {
		out[i] = r.String()
	}
	return strings.Join(out, ",")
}

// TestShareReleasedRefusesWhatDoesNotAddUp: a released invoice the rates
// or its lines cannot share fails the batch rather than write a wrong
// split.
func TestShareReleasedRefusesWhatDoesNotAddUp(t *testing.T) {
	t.Parallel()
	today := calendar.NewDate(2026, time.July, 1)
	tests := []struct {
		name  string
		cand  candidate
		lines []Line
		want  string
	}{
		{"no rate for the regime and kind", pendingInvoice(1, KindNurse, june(10), "30.00", puma), []Line{{Quantity: 1, UnitPrice: cents("30.00")}}, "no rate"},
		{"lines short of the total", pendingInvoice(1, KindGP, june(10), "30.00", puma), []Line{{Quantity: 1, UnitPrice: cents("29.99")}}, "lines add up to 29.99"},
		{"no lines at all", pendingInvoice(1, KindGP, june(10), "30.00", puma), nil, "lines add up to 0"},
		{"a line with a fraction of a cent", pendingInvoice(1, KindGP, june(10), "0.005", puma), []Line{{Quantity: 1, UnitPrice: cents("0.005")}}, "line 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cands := []candidate{tt.cand}
			if _, released := decideCandidates(cands, today, testRates); len(released) != 1 {
				t.Fatalf("released %v, want the one candidate", released)
			}
			err := shareReleased(cands, testRates, classed(cands, map[int64][]Line{1: tt.lines}), nil)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("shareReleased: %v, want an error about %q", err, tt.want)
			}
		})
	}
}

// TestPlanDecisionsWritesOnlyWhatTheGuardChanged: an invoice the guarded
// update did not change (decided by someone else meanwhile) gets no claim,
// no payout and no audit row.
func TestPlanDecisionsWritesOnlyWhatTheGuardChanged(t *testing.T) {
	t.Parallel()
	cands := []candidate{
		pendingInvoice(1, KindGP, june(10), "30.00", refused),
		pendingInvoice(2, KindGP, june(10), "30.00", refused),
	}
	decided, _ := decideCandidates(cands, calendar.NewDate(2026, time.July, 1), testRates)
	w := planDecisions(decided, map[int64]bool{2: true}, audit.Job("test"))
	if len(w.owed) != 1 || w.owed[0].InvoiceID != 2 || len(w.claims) != 0 {
		t.Fatalf("payouts %+v, claims %v; want one payout, for invoice 2", w.owed, w.claims)
	}
	if len(w.entries) != 1 || w.entries[0].EntityID != "2" {
		t.Fatalf("audit rows %+v, want one, for invoice 2", w.entries)
	}
	if w := planDecisions(decided, map[int64]bool{}, audit.Job("test")); len(w.owed)+len(w.claims)+len(w.entries) != 0 {
		t.Fatalf("nothing changed, yet %+v", w)
	}
}
