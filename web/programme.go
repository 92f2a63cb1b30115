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
	today := calendar.Today(s.now())
	year := today.Year()
	page := programmePage{}
	if raw := c.QueryParam("annee"); raw != "" {
		y, err := strconv.Atoi(raw)
		if err != nil || y < 2000 || y > 2100 {
			page.YearErr = "Indiquez une année entre 2000 et 2100."
			return s.render(c, http.StatusUnprocessableEntity, "programme.html", "Bilan du programme", page)
		}
		year = y
	}
	r, err := s.programme.Report(c.Request().Context(), programme.Year(year))
	if err != nil {
		return err
	}
	page.Year, page.PrevYear = year, year-1
	cur, prev := r.Current, r.Previous
	euros := func(d decimal.Decimal) string { return FormatAmount(d) }
	pct := func(s string) string {
		if s == "" {
			return "—"
		}
		return s + " %"
	}
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
		return euros(d)
	}
	page.Tiles = []tile{
		{"Dossiers ouverts", cur.People.FilesOpened.String(), prev.People.FilesOpened.String()},
		{"Personnes suivies", cur.People.FilesActive.String(), prev.People.FilesActive.String()},
		{"Demandes de droits déposées", cur.Rights.Applications.String(), prev.Rights.Applications.String()},
		{"Taux d'acceptation", pct(cur.Rights.AcceptanceRate), pct(prev.Rights.AcceptanceRate)},
		{"Délai médian jusqu'à la décision", days(cur.Rights.DelayMedian), days(prev.Rights.DelayMedian)},
		{"Décidés sous 35 jours", pct(cur.Rights.WithinDays35Pct), pct(prev.Rights.WithinDays35Pct)},
		{"Payé par la CPAM", euros(cur.Money.PaidByCPAM), euros(prev.Money.PaidByCPAM)},
		{"Payé par la ville", euros(cur.Money.PaidByCity), euros(prev.Money.PaidByCity)},
		{"Coût net par personne suivie", perPerson(cur.Money.CityNetCostPerPerson), perPerson(prev.Money.CityNetCostPerPerson)},
		{"Budget utilisé / enveloppe", euros(cur.Money.BudgetUsed) + " / " + euros(cur.Money.Budget), euros(prev.Money.BudgetUsed)},
	}
	months := make([]chartValue, len(cur.People.OpenedByMonth))
	for i, m := range cur.People.OpenedByMonth {
		t, _ := calendar.Parse(m.Month + "-01")
		months[i] = chartValue{Label: monthFR[t.Month()-1], Value: m.Count.String(), Size: decimal.NewFromInt(int64(m.Count)),
			Hidden: m.Count.Suppressed()}
	}
	var kinds []chartValue
	for _, k := range slices.Sorted(maps.Keys(cur.Care.ByKind)) {
		a := cur.Care.ByKind[k]
		kinds = append(kinds, chartValue{Label: providerKindFR[k], Value: euros(a.Amount), Size: a.Amount})
	}
	var delays []chartValue
	for _, k := range []string{"0-35", "36-90", "91+"} {
		n := cur.Rights.DelayDistribution[k]
		delays = append(delays, chartValue{Label: k + " jours", Value: n.String(), Size: decimal.NewFromInt(int64(n)), Hidden: n.Suppressed()})
	}
	page.Charts = []chart{
		makeChart("dossiers-par-mois", "Dossiers ouverts par mois", "dossiers", months),
		makeChart("delai-droits", "Délai entre la demande de droits et la décision", "décisions", delays),
		makeChart("depense-par-type", "Montant des soins par type d'effecteur", "euros", kinds),
	}
	for _, reg := range regimeOrder {
		page.Regimes = append(page.Regimes, tile{RegimeLabel(reg), cur.Rights.Opened[reg].String(), prev.Rights.Opened[reg].String()})
	}
	page.Regimes = append(page.Regimes, tile{"Refus", cur.Rights.Refused.String(), prev.Rights.Refused.String()})
	for _, age := range []string{"0-34", "35-89", "90+"} {
		page.Waiting = append(page.Waiting, tile{age + " jours", cur.Rights.Waiting[age].String(), prev.Rights.Waiting[age].String()})
	}
	for _, st := range []string{"pending", "released", "city_due", "cancelled"} {
		page.Statuses = append(page.Statuses, tile{statusFR[st],
			strconv.FormatInt(cur.Care.ByStatus[st].Count, 10) + " — " + euros(cur.Care.ByStatus[st].Amount),
			strconv.FormatInt(prev.Care.ByStatus[st].Count, 10) + " — " + euros(prev.Care.ByStatus[st].Amount)})
	}
	return s.render(c, http.StatusOK, "programme.html", "Bilan du programme", page)
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
