package httpapi

import (
	"io"
	"maps"
	"net/http"
	"slices"

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
	Month string           `json:"month"`
	Count programme.People `json:"count"`
}

type figuresJSON struct {
	From   calendar.Date `json:"from"`
	To     calendar.Date `json:"to"`
	People struct {
		FilesOpened   programme.People `json:"files_opened"`
		FilesActive   programme.People `json:"files_active"`
		OpenedByMonth []monthJSON      `json:"files_opened_by_month"`
	} `json:"people"`
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
		ReleasedPct *string                `json:"cpam_share_pct"`
		CityPct     *string                `json:"city_share_pct"`
	} `json:"care"`
	Money struct {
		PaidByCPAM           string  `json:"paid_by_cpam"`
		PaidByCity           string  `json:"paid_by_city"`
		Recovered            string  `json:"recovered"`
		CityNetCost          string  `json:"city_net_cost"`
		CityNetCostPerPerson *string `json:"city_net_cost_per_person"`
		Budget               string  `json:"budget"`
		BudgetUsed           string  `json:"budget_used"`
		BudgetLeft           string  `json:"budget_left"`
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
	out.People.OpenedByMonth = make([]monthJSON, len(f.People.OpenedByMonth))
	for i, m := range f.People.OpenedByMonth {
		out.People.OpenedByMonth[i] = monthJSON(m)
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

// writeProgrammeCSV writes one row per figure: its section, its name, the
// period's value and the year before's, as a spreadsheet reads them (counts
// of people suppressed as on every page).
func writeProgrammeCSV(w io.Writer, r programme.Report) error {
	out := spreadsheet.NewWriter(w)
	if err := out.Write("Rubrique", "Indicateur", "Période", "Année précédente"); err != nil {
		return err
	}
	type row struct{ section, name, cur, prev string }
	people := func(p programme.People) string { return p.String() }
	amount := func(d decimal.Decimal) string { return spreadsheet.Amount(d) }
	cur, prev := r.Current, r.Previous
	rows := []row{
		{"Personnes", "Dossiers ouverts", people(cur.People.FilesOpened), people(prev.People.FilesOpened)},
		{"Personnes", "Dossiers actifs", people(cur.People.FilesActive), people(prev.People.FilesActive)},
		{"Droits", "Demandes déposées", people(cur.Rights.Applications), people(prev.Rights.Applications)},
		{"Droits", "Refus", people(cur.Rights.Refused), people(prev.Rights.Refused)},
		{"Droits", "Taux d'acceptation (%)", cur.Rights.AcceptanceRate, prev.Rights.AcceptanceRate},
		{"Droits", "Décidés sous 35 jours (%)", cur.Rights.WithinDays35Pct, prev.Rights.WithinDays35Pct},
		{"Droits", "Décidés sous 90 jours (%)", cur.Rights.WithinDays90Pct, prev.Rights.WithinDays90Pct},
		{"Soins", "Factures", spreadsheetInt(cur.Care.Invoices.Count), spreadsheetInt(prev.Care.Invoices.Count)},
		{"Soins", "Montant des factures", amount(cur.Care.Invoices.Amount), amount(prev.Care.Invoices.Amount)},
		{"Soins", "Part CPAM (%)", cur.Care.ReleasedPct, prev.Care.ReleasedPct},
		{"Soins", "Part ville (%)", cur.Care.CityPct, prev.Care.CityPct},
		{"Argent", "Payé par la CPAM", amount(cur.Money.PaidByCPAM), amount(prev.Money.PaidByCPAM)},
		{"Argent", "Payé par la ville", amount(cur.Money.PaidByCity), amount(prev.Money.PaidByCity)},
		{"Argent", "Repris aux effecteurs", amount(cur.Money.Recovered), amount(prev.Money.Recovered)},
		{"Argent", "Coût net pour la ville", amount(cur.Money.CityNetCost), amount(prev.Money.CityNetCost)},
		{"Argent", "Coût net par personne suivie", cur.Money.CityNetCostPerPerson, prev.Money.CityNetCostPerPerson},
		{"Argent", "Enveloppe budgétaire", amount(cur.Money.Budget), amount(prev.Money.Budget)},
		{"Argent", "Budget utilisé", amount(cur.Money.BudgetUsed), amount(prev.Money.BudgetUsed)},
	}
	for _, regime := range slices.Sorted(maps.Keys(cur.Rights.Opened)) {
		rows = append(rows, row{"Droits", "Ouverts (" + regime + ")", people(cur.Rights.Opened[regime]), people(prev.Rights.Opened[regime])})
	}
	for _, kind := range slices.Sorted(maps.Keys(cur.Care.ByKind)) {
		rows = append(rows, row{"Soins", "Montant (" + kind + ")", amount(cur.Care.ByKind[kind].Amount), amount(prev.Care.ByKind[kind].Amount)})
	}
	for _, r := range rows {
		if err := out.Write(r.section, r.name, r.cur, r.prev); err != nil {
			return err
		}
	}
	return out.Flush()
}

func spreadsheetInt(n int64) string { return decimal.NewFromInt(n).String() }
