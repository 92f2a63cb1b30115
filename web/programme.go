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
)

// /bilan: the programme's figures for the steering committee, as tiles,
// charts drawn on the server (SVG, readable without JavaScript) and each
// chart's numbers in a table beside it. Counts of people under 5 show as
// "< 5", and draw no bar: a bar's height would tell the count.

// tile is one figure with the year before's.
type tile struct {
	Label, Value, Previous string
}

// bar is one bar of a chart: its label, the number shown, and its length
// in the chart's units (0 to chartSpan).
type bar struct {
	Label, Value string
	Length, Pos  int
}

// chart is a bar chart and the table that carries the same numbers.
type chart struct {
	ID, Title, Unit string
	Bars            []bar
	Height          int
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
	Regimes        []tile // opened by regime, with the year before
	Waiting        []tile
	Statuses       []tile
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
	r, err := s.programme.Report(c.Request().Context(), programme.Year(year))
	if err != nil {
		return err
	}
	page := programmePage{Year: year, PrevYear: year - 1, Tiles: programmeTiles(r.Current, r.Previous), Charts: programmeCharts(r.Current)}
	page.Regimes, page.Waiting, page.Statuses = programmeTables(r.Current, r.Previous)
	return s.render(c, http.StatusOK, "programme.html", "Bilan du programme", page)
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
	return []tile{
		{"Dossiers ouverts", cur.People.FilesOpened.String(), prev.People.FilesOpened.String()},
		{"Personnes suivies", cur.People.FilesActive.String(), prev.People.FilesActive.String()},
		{"Demandes de droits déposées", cur.Rights.Applications.String(), prev.Rights.Applications.String()},
		{"Taux d'acceptation", orDash(cur.Rights.AcceptanceRate, " %"), orDash(prev.Rights.AcceptanceRate, " %")},
		{"Délai médian jusqu'à la décision", days(cur.Rights.DelayMedian), days(prev.Rights.DelayMedian)},
		{"Décidés sous 35 jours", orDash(cur.Rights.WithinDays35Pct, " %"), orDash(prev.Rights.WithinDays35Pct, " %")},
		{"Payé par la CPAM", FormatAmount(cur.Money.PaidByCPAM), FormatAmount(prev.Money.PaidByCPAM)},
		{"Payé par la ville", FormatAmount(cur.Money.PaidByCity), FormatAmount(prev.Money.PaidByCity)},
		{"Coût net par personne suivie", perPerson(cur.Money.CityNetCostPerPerson), perPerson(prev.Money.CityNetCostPerPerson)},
		{"Budget utilisé / enveloppe", FormatAmount(cur.Money.BudgetUsed) + " / " + FormatAmount(cur.Money.Budget), FormatAmount(prev.Money.BudgetUsed)},
	}
}

// programmeCharts are the period's charts: files by month, the delay to
// rights, care by provider kind.
func programmeCharts(cur programme.Figures) []chart {
	people := func(label string, n programme.People) chartValue {
		return chartValue{Label: label, Value: n.String(), Size: decimal.NewFromInt(int64(n)), Hidden: n.Suppressed()}
	}
	months := make([]chartValue, len(cur.People.OpenedByMonth))
	for i, m := range cur.People.OpenedByMonth {
		t, _ := calendar.Parse(m.Month + "-01")
		months[i] = people(monthFR[t.Month()-1], m.Count)
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
		makeChart("dossiers-par-mois", "Dossiers ouverts par mois", "dossiers", months),
		makeChart("delai-droits", "Délai entre la demande de droits et la décision", "décisions", delays),
		makeChart("depense-par-type", "Montant des soins par type d'effecteur", "euros", kinds),
	}
}

// programmeTables are the decisions by regime, the files waiting by age and
// the invoices by outcome, each beside the year before.
func programmeTables(cur, prev programme.Figures) (regimes, waiting, statuses []tile) {
	for _, reg := range regimeOrder {
		regimes = append(regimes, tile{RegimeLabel(reg), cur.Rights.Opened[reg].String(), prev.Rights.Opened[reg].String()})
	}
	regimes = append(regimes, tile{"Refus", cur.Rights.Refused.String(), prev.Rights.Refused.String()})
	for _, age := range []string{"0-34", "35-89", "90+"} {
		waiting = append(waiting, tile{age + " jours", cur.Rights.Waiting[age].String(), prev.Rights.Waiting[age].String()})
	}
	invoices := func(a programme.Amounts) string {
		return strconv.FormatInt(a.Count, 10) + " — " + FormatAmount(a.Amount)
	}
	for _, st := range []string{"pending", "released", "city_due", "cancelled"} {
		statuses = append(statuses, tile{statusFR[st], invoices(cur.Care.ByStatus[st]), invoices(prev.Care.ByStatus[st])})
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
func makeChart(id, title, unit string, values []chartValue) chart {
	c := chart{ID: id, Title: title, Unit: unit, Height: len(values)*barStep + 4}
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
