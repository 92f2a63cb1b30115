package web

import (
	"maps"
	"net/http"
	"slices"
	"strconv"

	"github.com/labstack/echo/v4"
	"github.com/shopspring/decimal"

	"passd/calendar"
	"passd/programme"
	"passd/referrals"
)

// /bilan: the programme's figures for the steering committee, as tiles,
// charts drawn on the server (SVG, readable without JavaScript) and each
// chart's numbers in a table beside it. Counts of people under 5 show as
// "< 5", and draw no bar: a bar's height would tell the count.

// tile is one figure with the year before's and the change between them
// ("" where either is hidden).
type tile struct {
	Label, Value, Previous, Change string
}

// bar is one bar of a chart: its label, the number shown, and its length
// in the chart's units (0 to chartSpan).
type bar struct {
	Label, Value string
	Length, Pos  int
}

// chart is a bar chart and the table that carries the same numbers, under
// the table's two column heads.
type chart struct {
	ID, Title            string
	LabelHead, ValueHead string
	Bars                 []bar
	Height               int
}

const (
	chartSpan = 300 // the longest bar, in SVG units
	barStep   = 26  // a bar and its gap
)

type programmePage struct {
	Year, PrevYear int
	YearErr        string
	Tiles          []tile
	Charts         []chart
	BurnDown       burnDown
	Regimes        []tile // opened by regime, with the year before
	Waiting        []tile
	Statuses       []tile
	Communes       []tile // people followed by commune (no year before)
	Providers      []tile // care by provider (no year before)
	// Convention: the CCAS–SOS Médecins cases of the year, each way.
	Convention []conventionRow
}

// conventionRow is one direction of the convention's cases: the columns
// of the table, and its outcomes.
type conventionRow struct {
	Label, Sent, Answered, Delay, Feedback string
	Outcomes                               []tile
}

var statusFR = map[string]string{"pending": "en attente", "released": "transmises à la CPAM", "city_due": "payées par la ville",
	"cancelled": "annulées"}

var regimeOrder = []string{"puma", "puma_css", "ame"}

func (s *Server) programmePage(c echo.Context) error {
	year := calendar.Today(s.now()).Year()
	if raw := c.QueryParam("annee"); raw != "" {
		y, err := strconv.Atoi(raw)
		if err != nil || y < 2000 || y > 2100 {
			page := programmePage{YearErr: "Indiquez une année entre 2000 et 2100."}
			return s.render(c, http.StatusUnprocessableEntity, "programme.html", "Bilan du programme", page)
		}
		year = y
	}
	ctx := c.Request().Context()
	r, err := s.programme.Report(ctx, programme.Year(year))
	if err != nil {
		return err
	}
	page := newProgrammePage(r, year, calendar.Today(s.now()))
	if s.referrals != nil {
		ind, err := s.referrals.Indicators(ctx, programme.Year(year))
		if err != nil {
			return err
		}
		page.Convention = conventionRows(ind)
	}
	return s.render(c, http.StatusOK, "programme.html", "Bilan du programme", page)
}

// newProgrammePage lays out the report of year; months after today's
// are left off the burn-down (nothing has happened in them yet).
func newProgrammePage(r programme.Report, year int, today calendar.Date) programmePage {
	page := programmePage{Year: year, PrevYear: year - 1, Tiles: programmeTiles(r.Current, r.Previous), Charts: programmeCharts(r.Current, today),
		BurnDown: newBurnDown(r.Current.Money, today)}
	page.Regimes, page.Waiting, page.Statuses = programmeTables(r.Current, r.Previous)
	page.Communes, page.Providers = placesAndProviders(r.Current)
	return page
}

// orDash shows a figure, or "—" for one not shown (nothing to divide, or
// drawn from fewer than five people).
func orDash(s, suffix string) string {
	if s == "" {
		return "—"
	}
	return s + suffix
}

// programmeTiles are the page's headline figures beside the year before's.
func programmeTiles(cur, prev programme.Figures) []tile {
	days := func(d *int) string {
		if d == nil {
			return "—"
		}
		return strconv.Itoa(*d) + " j"
	}
	perPerson := func(s string) string {
		if s == "" {
			return "—"
		}
		d, _ := decimal.NewFromString(s)
		return FormatAmount(d)
	}
	people := func(label string, c, p programme.People) tile {
		return tile{label, c.String(), p.String(), programme.PeopleChange(c, p)}
	}
	pct := func(label, c, p string) tile {
		t := tile{label, orDash(c, " %"), orDash(p, " %"), ""}
		if d := programme.PointsChange(c, p); d != "" {
			t.Change = d + " pt"
		}
		return t
	}
	amount := func(label string, c, p decimal.Decimal) tile {
		d, _ := decimal.NewFromString(programme.AmountChange(c, p))
		return tile{label, FormatAmount(c), FormatAmount(p), signedAmount(d)}
	}
	delay := func(c, p *int) tile {
		t := tile{"Délai médian jusqu'à la décision", days(c), days(p), ""}
		if c != nil && p != nil {
			t.Change = programme.CountChange(int64(*c), int64(*p)) + " j"
		}
		return t
	}
	net := tile{"Coût net par personne suivie", perPerson(cur.Money.CityNetCostPerPerson), perPerson(prev.Money.CityNetCostPerPerson), ""}
	if c, p := cur.Money.CityNetCostPerPerson, prev.Money.CityNetCostPerPerson; c != "" && p != "" {
		net.Change = signedAmount(decimal.RequireFromString(c).Sub(decimal.RequireFromString(p)))
	}
	return []tile{
		people("Dossiers ouverts", cur.People.FilesOpened, prev.People.FilesOpened),
		people("Personnes suivies", cur.People.FilesActive, prev.People.FilesActive),
		people("Demandes de droits déposées", cur.Rights.Applications, prev.Rights.Applications),
		pct("Taux d'acceptation", cur.Rights.AcceptanceRate, prev.Rights.AcceptanceRate),
		delay(cur.Rights.DelayMedian, prev.Rights.DelayMedian),
		pct("Décidés sous 35 jours", cur.Rights.WithinDays35Pct, prev.Rights.WithinDays35Pct),
		amount("Payé par la CPAM", cur.Money.PaidByCPAM, prev.Money.PaidByCPAM),
		amount("Payé par la ville", cur.Money.PaidByCity, prev.Money.PaidByCity),
		net,
		{"Budget utilisé / enveloppe", FormatAmount(cur.Money.BudgetUsed) + " / " + FormatAmount(cur.Money.Budget), FormatAmount(prev.Money.BudgetUsed),
			signedAmount(cur.Money.BudgetUsed.Sub(prev.Money.BudgetUsed))},
	}
}

// signedAmount is a change in euros, in the French form, with its sign.
func signedAmount(d decimal.Decimal) string {
	if d.IsPositive() {
		return "+" + FormatAmount(d)
	}
	return FormatAmount(d)
}

// programmeCharts are the period's charts: files and invoices by month (up
// to this month), the delay to rights, care by provider kind.
func programmeCharts(cur programme.Figures, today calendar.Date) []chart {
	people := func(label string, n programme.People) chartValue {
		return chartValue{Label: label, Value: n.String(), Size: decimal.NewFromInt(int64(n)), Hidden: n.Suppressed()}
	}
	var opened, invoices []chartValue
	for _, m := range cur.ByMonth {
		if m.Month > today.String()[:7] {
			break // a month to come has nothing to show yet
		}
		label := monthLabel(m.Month)
		opened = append(opened, people(label, m.FilesOpened))
		invoices = append(invoices, chartValue{Label: label, Value: strconv.FormatInt(m.Invoices.Count, 10) + " — " + FormatAmount(m.Invoices.Amount),
			Size: decimal.NewFromInt(m.Invoices.Count)})
	}
	var delays []chartValue
	for _, k := range []string{"0-35", "36-90", "91+"} {
		delays = append(delays, people(k+" jours", cur.Rights.DelayDistribution[k]))
	}
	var kinds []chartValue
	for _, k := range slices.Sorted(maps.Keys(cur.Care.ByKind)) {
		a := cur.Care.ByKind[k]
		kinds = append(kinds, chartValue{Label: providerKindFR[k], Value: FormatAmount(a.Amount), Size: a.Amount})
	}
	return []chart{
		makeChart("dossiers-par-mois", "Dossiers ouverts par mois", "Mois", "Dossiers ouverts", opened),
		makeChart("factures-par-mois", "Factures par mois de soins", "Mois", "Factures — montant", invoices),
		makeChart("delai-droits", "Délai entre la demande de droits et la décision", "Délai", "Décisions", delays),
		makeChart("depense-par-type", "Montant des soins par type d'effecteur", "Type d'effecteur", "Montant", kinds),
	}
}

// monthLabel is "2026-03" as "mars 2026".
func monthLabel(month string) string {
	t, err := calendar.Parse(month + "-01")
	if err != nil {
		return month
	}
	return monthFR[t.Month()-1] + " " + strconv.Itoa(t.Year())
}

// placesAndProviders are the people followed by commune and the care by
// provider, the period's alone.
func placesAndProviders(cur programme.Figures) (communes, providers []tile) {
	for _, code := range slices.Sorted(maps.Keys(cur.Places.ByCommune)) {
		label := code
		if code == programme.UnknownCommune {
			label = "Commune non renseignée"
		}
		communes = append(communes, tile{Label: label, Value: cur.Places.ByCommune[code].String()})
	}
	for _, p := range cur.Care.ByProvider {
		providers = append(providers, tile{Label: p.Name + " (" + providerKindFR[p.Kind] + ")",
			Value: strconv.FormatInt(p.Count, 10) + " — " + FormatAmount(p.Amount)})
	}
	return communes, providers
}

// programmeTables are the decisions by regime, the files waiting by age and
// the invoices by outcome, each beside the year before.
func programmeTables(cur, prev programme.Figures) (regimes, waiting, statuses []tile) {
	for _, reg := range regimeOrder {
		c, p := cur.Rights.Opened[reg], prev.Rights.Opened[reg]
		regimes = append(regimes, tile{RegimeLabel(reg), c.String(), p.String(), programme.PeopleChange(c, p)})
	}
	regimes = append(regimes, tile{"Refus", cur.Rights.Refused.String(), prev.Rights.Refused.String(),
		programme.PeopleChange(cur.Rights.Refused, prev.Rights.Refused)})
	for _, age := range []string{"0-34", "35-89", "90+"} {
		c, p := cur.Rights.Waiting[age], prev.Rights.Waiting[age]
		waiting = append(waiting, tile{age + " jours", c.String(), p.String(), programme.PeopleChange(c, p)})
	}
	invoices := func(a programme.Amounts) string {
		return strconv.FormatInt(a.Count, 10) + " — " + FormatAmount(a.Amount)
	}
	for _, st := range []string{"pending", "released", "city_due", "cancelled"} {
		c, p := cur.Care.ByStatus[st], prev.Care.ByStatus[st]
		statuses = append(statuses, tile{statusFR[st], invoices(c), invoices(p), programme.CountChange(c.Count, p.Count)})
	}
	return regimes, waiting, statuses
}

var monthFR = []string{"janv.", "févr.", "mars", "avr.", "mai", "juin", "juil.", "août", "sept.", "oct.", "nov.", "déc."}

// chartValue is one value to draw; Hidden: a suppressed count, which gets
// no bar.
type chartValue struct {
	Label, Value string
	Size         decimal.Decimal
	Hidden       bool
}

// makeChart scales values to bars: the largest is chartSpan long.
func makeChart(id, title, labelHead, valueHead string, values []chartValue) chart {
	c := chart{ID: id, Title: title, LabelHead: labelHead, ValueHead: valueHead, Height: len(values)*barStep + 4}
	most := decimal.Zero
	for _, v := range values {
		if !v.Hidden {
			most = decimal.Max(most, v.Size)
		}
	}
	for i, v := range values {
		length := 0
		if !v.Hidden && most.IsPositive() {
			length = int(v.Size.Mul(decimal.NewFromInt(chartSpan)).DivRound(most, 0).IntPart())
		}
		c.Bars = append(c.Bars, bar{Label: v.Label, Value: v.Value, Length: length, Pos: i*barStep + 2})
	}
	return c
}

// conventionRows lays out the convention's indicators, suppressed as the
// report's: a count under five is "< 5", a share or a delay of so few "—".
func conventionRows(ind referrals.Indicators) []conventionRow {
	row := func(label string, f referrals.Flow, outcome func(string) string) conventionRow {
		r := conventionRow{Label: label, Sent: f.Sent.String(), Answered: f.Answered.String(), Delay: "—", Feedback: orDash(f.FeedbackPct, " %")}
		if f.DelayMedianHours != nil {
			r.Delay = strconv.Itoa(*f.DelayMedianHours) + " h"
		}
		for _, k := range slices.Sorted(maps.Keys(f.Outcomes)) {
			r.Outcomes = append(r.Outcomes, tile{Label: outcome(k), Value: f.Outcomes[k].String()})
		}
		return r
	}
	referral := func(k string) string {
		if l, ok := outcomeFR[referrals.Outcome(k)]; ok {
			return l
		}
		return caseStatusFR[referrals.Status(k)]
	}
	alert := func(k string) string { return followUpFR[referrals.FollowUp(k)] }
	return []conventionRow{
		row("Demandes d'intervention du CCAS à SOS Médecins", ind.Referrals, referral),
		row("Alertes de SOS Médecins au CCAS", ind.Alerts, alert),
	}
}
