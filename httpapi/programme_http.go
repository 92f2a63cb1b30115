package httpapi

import (
	"io"
	"maps"
	"net/http"
	"slices"
	"strings"

	"github.com/labstack/echo/v4"
	"github.com/shopspring/decimal"

	"passd/calendar"
	"passd/money"
	"passd/programme"
	"passd/spreadsheet"
)

// ProgrammeRoutes registers the programme's figures on g.
func ProgrammeRoutes(g *echo.Group, s *programme.Store, today func() calendar.Date) {
	g.GET("/reports/programme", func(c echo.Context) error { return programmeReport(c, s, today()) })
}

type amountsJSON struct {
	Count  int64  `json:"count"`
	Amount string `json:"amount"`
}

type monthJSON struct {
	Month       string           `json:"month"`
	FilesOpened programme.People `json:"files_opened"`
	Invoices    amountsJSON      `json:"invoices"`
}

type providerAmountsJSON struct {
	Name   string `json:"name"`
	Kind   string `json:"kind"`
	Count  int64  `json:"count"`
	Amount string `json:"amount"`
}

type budgetMonthJSON struct {
	Month string `json:"month"`
	Used  string `json:"used"`
	Left  string `json:"left"`
}

type figuresJSON struct {
	From   calendar.Date `json:"from"`
	To     calendar.Date `json:"to"`
	People struct {
		FilesOpened programme.People `json:"files_opened"`
		FilesActive programme.People `json:"files_active"`
	} `json:"people"`
	ByMonth []monthJSON `json:"by_month"`
	Places  struct {
		ByCommune map[string]programme.People `json:"by_commune"`
	} `json:"places"`
	Rights struct {
		Applications    programme.People            `json:"applications"`
		Opened          map[string]programme.People `json:"opened_by_regime"`
		Refused         programme.People            `json:"refused"`
		AcceptanceRate  *string                     `json:"acceptance_rate_pct"`
		DelayMedian     *int                        `json:"delay_median_days"`
		DelayP90        *int                        `json:"delay_p90_days"`
		WithinDays35Pct *string                     `json:"decided_within_35_days_pct"`
		WithinDays90Pct *string                     `json:"decided_within_90_days_pct"`
		Distribution    map[string]programme.People `json:"delay_distribution_days"`
		Waiting         map[string]programme.People `json:"waiting_by_age_days"`
	} `json:"rights"`
	Care struct {
		Invoices    amountsJSON            `json:"invoices"`
		ByKind      map[string]amountsJSON `json:"by_provider_kind"`
		ByStatus    map[string]amountsJSON `json:"by_status"`
		ByReason    map[string]amountsJSON `json:"by_reason"`
		ByProvider  []providerAmountsJSON  `json:"by_provider"`
		ReleasedPct *string                `json:"cpam_share_pct"`
		CityPct     *string                `json:"city_share_pct"`
	} `json:"care"`
	Money struct {
		PaidByCPAM           string            `json:"paid_by_cpam"`
		PaidByCity           string            `json:"paid_by_city"`
		Recovered            string            `json:"recovered"`
		CityNetCost          string            `json:"city_net_cost"`
		CityNetCostPerPerson *string           `json:"city_net_cost_per_person"`
		Budget               string            `json:"budget"`
		BudgetUsed           string            `json:"budget_used"`
		BudgetLeft           string            `json:"budget_left"`
		BudgetByMonth        []budgetMonthJSON `json:"budget_by_month"`
	} `json:"money"`
}

func toAmountsJSON(a programme.Amounts) amountsJSON {
	return amountsJSON{Count: a.Count, Amount: money.Format(a.Amount)}
}

func amountsMap(m map[string]programme.Amounts) map[string]amountsJSON {
	out := make(map[string]amountsJSON, len(m))
	for k, a := range m {
		out[k] = toAmountsJSON(a)
	}
	return out
}

func toFiguresJSON(f programme.Figures) figuresJSON {
	var out figuresJSON
	out.From, out.To = f.Period.From, f.Period.To
	out.People.FilesOpened, out.People.FilesActive = f.People.FilesOpened, f.People.FilesActive
	out.ByMonth = make([]monthJSON, len(f.ByMonth))
	for i, m := range f.ByMonth {
		out.ByMonth[i] = monthJSON{Month: m.Month, FilesOpened: m.FilesOpened, Invoices: toAmountsJSON(m.Invoices)}
	}
	out.Places.ByCommune = f.Places.ByCommune
	out.Care.ByProvider = make([]providerAmountsJSON, len(f.Care.ByProvider))
	for i, a := range f.Care.ByProvider {
		out.Care.ByProvider[i] = providerAmountsJSON{Name: a.Name, Kind: a.Kind, Count: a.Count, Amount: money.Format(a.Amount)}
	}
	r := f.Rights
	out.Rights.Applications, out.Rights.Opened, out.Rights.Refused, out.Rights.Waiting = r.Applications, r.Opened, r.Refused, r.Waiting
	out.Rights.AcceptanceRate, out.Rights.WithinDays35Pct, out.Rights.WithinDays90Pct =
		nullable(r.AcceptanceRate), nullable(r.WithinDays35Pct), nullable(r.WithinDays90Pct)
	out.Rights.DelayMedian, out.Rights.DelayP90, out.Rights.Distribution = r.DelayMedian, r.DelayP90, r.DelayDistribution
	out.Care.Invoices = toAmountsJSON(f.Care.Invoices)
	out.Care.ByKind, out.Care.ByStatus, out.Care.ByReason = amountsMap(f.Care.ByKind), amountsMap(f.Care.ByStatus), amountsMap(f.Care.ByReason)
	out.Care.ReleasedPct, out.Care.CityPct = nullable(f.Care.ReleasedPct), nullable(f.Care.CityPct)
	m := f.Money
	out.Money.PaidByCPAM, out.Money.PaidByCity, out.Money.Recovered = money.Format(m.PaidByCPAM), money.Format(m.PaidByCity), money.Format(m.Recovered)
	out.Money.CityNetCost, out.Money.CityNetCostPerPerson = money.Format(m.CityNetCost), nullable(m.CityNetCostPerPerson)
	out.Money.Budget, out.Money.BudgetUsed, out.Money.BudgetLeft = money.Format(m.Budget), money.Format(m.BudgetUsed), money.Format(m.BudgetLeft)
	out.Money.BudgetByMonth = make([]budgetMonthJSON, len(m.BudgetByMonth))
	for i, b := range m.BudgetByMonth {
		out.Money.BudgetByMonth[i] = budgetMonthJSON{Month: b.Month, Used: money.Format(b.Used), Left: money.Format(b.Left)}
	}
	return out
}

func programmeReport(c echo.Context, s *programme.Store, today calendar.Date) error {
	p, err := programme.ParsePeriod(today, c.QueryParam("year"), c.QueryParam("from"), c.QueryParam("to"))
	if err != nil {
		return err
	}
	csv, err := wantCSV(c)
	if err != nil {
		return err
	}
	r, err := s.Report(c.Request().Context(), p)
	if err != nil {
		return err
	}
	if csv {
		name := "bilan-pass-" + p.From.String() + "-" + p.To.String() + ".csv"
		return Stream(c, "text/csv; charset=utf-8", name, func(w io.Writer) error { return writeProgrammeCSV(w, r) })
	}
	return c.JSON(http.StatusOK, map[string]any{"current": toFiguresJSON(r.Current), "previous": toFiguresJSON(r.Previous)})
}

// csvRow is one figure of the CSV: its section, its name, the period's
// value, the year before's and the change (empty where either is hidden,
// or where a figure has no year before beside it).
type csvRow struct{ section, name, cur, prev, change string }

// writeProgrammeCSV writes one row per figure, as a spreadsheet reads
// them (counts of people suppressed as on every page), then the
// period's breakdowns: by month, by provider, by commune, and the budget's
// burn-down.
func writeProgrammeCSV(w io.Writer, r programme.Report) error {
	out := spreadsheet.NewWriter(w)
	if err := out.Write("Rubrique", "Indicateur", "Période", "Année précédente", "Évolution"); err != nil {
		return err
	}
	rows := append(headlineRows(r.Current, r.Previous), breakdownRows(r.Current)...)
	for _, row := range rows {
		if err := out.Write(row.section, row.name, row.cur, row.prev, row.change); err != nil {
			return err
		}
	}
	return out.Flush()
}

// headlineRows are the figures compared with the year before. A change
// is a plain number ("-5", "120,50"): a leading "+" would make a formula.
func headlineRows(cur, prev programme.Figures) []csvRow {
	number := func(change string) string { return strings.TrimPrefix(change, "+") }
	people := func(section, name string, c, p programme.People) csvRow {
		return csvRow{section, name, c.String(), p.String(), number(programme.PeopleChange(c, p))}
	}
	amount := func(section, name string, c, p decimal.Decimal) csvRow {
		return csvRow{section, name, spreadsheet.Amount(c), spreadsheet.Amount(p), spreadsheet.Amount(c.Sub(p))}
	}
	pct := func(section, name, c, p string) csvRow {
		return csvRow{section, name, c, p, number(programme.PointsChange(c, p))}
	}
	rows := []csvRow{
		people("Personnes", "Dossiers ouverts", cur.People.FilesOpened, prev.People.FilesOpened),
		people("Personnes", "Dossiers actifs", cur.People.FilesActive, prev.People.FilesActive),
		people("Droits", "Demandes déposées", cur.Rights.Applications, prev.Rights.Applications),
		people("Droits", "Refus", cur.Rights.Refused, prev.Rights.Refused),
		pct("Droits", "Taux d'acceptation (%)", cur.Rights.AcceptanceRate, prev.Rights.AcceptanceRate),
		pct("Droits", "Décidés sous 35 jours (%)", cur.Rights.WithinDays35Pct, prev.Rights.WithinDays35Pct),
		pct("Droits", "Décidés sous 90 jours (%)", cur.Rights.WithinDays90Pct, prev.Rights.WithinDays90Pct),
		{"Soins", "Factures", spreadsheetInt(cur.Care.Invoices.Count), spreadsheetInt(prev.Care.Invoices.Count),
			number(programme.CountChange(cur.Care.Invoices.Count, prev.Care.Invoices.Count))},
		amount("Soins", "Montant des factures", cur.Care.Invoices.Amount, prev.Care.Invoices.Amount),
		pct("Soins", "Part CPAM (%)", cur.Care.ReleasedPct, prev.Care.ReleasedPct),
		pct("Soins", "Part ville (%)", cur.Care.CityPct, prev.Care.CityPct),
		amount("Argent", "Payé par la CPAM", cur.Money.PaidByCPAM, prev.Money.PaidByCPAM),
		amount("Argent", "Payé par la ville", cur.Money.PaidByCity, prev.Money.PaidByCity),
		amount("Argent", "Repris aux effecteurs", cur.Money.Recovered, prev.Money.Recovered),
		amount("Argent", "Coût net pour la ville", cur.Money.CityNetCost, prev.Money.CityNetCost),
		{"Argent", "Coût net par personne suivie", cur.Money.CityNetCostPerPerson, prev.Money.CityNetCostPerPerson, ""},
		amount("Argent", "Enveloppe budgétaire", cur.Money.Budget, prev.Money.Budget),
		amount("Argent", "Budget utilisé", cur.Money.BudgetUsed, prev.Money.BudgetUsed),
	}
	for _, regime := range slices.Sorted(maps.Keys(cur.Rights.Opened)) {
		rows = append(rows, people("Droits", "Ouverts ("+regime+")", cur.Rights.Opened[regime], prev.Rights.Opened[regime]))
	}
	for _, kind := range slices.Sorted(maps.Keys(cur.Care.ByKind)) {
		rows = append(rows, amount("Soins", "Montant ("+kind+")", cur.Care.ByKind[kind].Amount, prev.Care.ByKind[kind].Amount))
	}
	return rows
}

// breakdownRows are the period's figures by month, provider and commune,
// and the budget month by month; they have no year before beside them.
func breakdownRows(cur programme.Figures) []csvRow {
	var rows []csvRow
	for _, m := range cur.ByMonth {
		rows = append(rows, csvRow{"Par mois", m.Month + " dossiers ouverts", m.FilesOpened.String(), "", ""},
			csvRow{"Par mois", m.Month + " factures", spreadsheetInt(m.Invoices.Count), "", ""},
			csvRow{"Par mois", m.Month + " montant des factures", spreadsheet.Amount(m.Invoices.Amount), "", ""})
	}
	for _, p := range cur.Care.ByProvider {
		rows = append(rows, csvRow{"Par effecteur", spreadsheet.Text(p.Name + " (" + p.Kind + ")"), spreadsheet.Amount(p.Amount), "", ""})
	}
	for _, code := range slices.Sorted(maps.Keys(cur.Places.ByCommune)) {
		rows = append(rows, csvRow{"Par commune", code, cur.Places.ByCommune[code].String(), "", ""})
	}
	for _, b := range cur.Money.BudgetByMonth {
		rows = append(rows, csvRow{"Budget par mois", b.Month + " restant", spreadsheet.Amount(b.Left), "", ""})
	}
	return rows
}

func spreadsheetInt(n int64) string { return decimal.NewFromInt(n).String() }
