package web

import (
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"passd/billing"
	"passd/calendar"
	"passd/rights"
)

// /admin/taux: the share of a line the CPAM pays, by regime and rate
// class: the rates in force today, their whole history, and the form that
// records a change (billing's Rate.Validate and AddRate). History is never
// edited, and a change never decides again an invoice already decided.

// rateCell is one regime's rate of a class in force today.
type rateCell struct {
	Rate  string // "70 %", "" when none is in force
	Since calendar.Date
}

// rateLine is a rate class with its rate under each regime, in the order
// of rights.Regimes.
type rateLine struct {
	Class string
	Cells []rateCell
}

type rateHistoryRow struct {
	billing.Rate
	RegimeLabel, ClassLabel, Percent string
}

type rateForm struct {
	Regime, Class, EffectiveFrom, Rate, Reason                string
	RegimeErr, ClassErr, FromErr, RateErr, ReasonErr, Summary string
}

// RegimeChoices and ClassChoices are the selects' options, the typed one
// selected.
func (f rateForm) RegimeChoices() []choice {
	out := make([]choice, 0, len(rights.Regimes))
	for _, r := range rights.Regimes {
		out = append(out, choice{Value: string(r), Label: r.Label(), Selected: string(r) == f.Regime})
	}
	return out
}

func (f rateForm) ClassChoices() []choice { return rateClassChoices(billing.RateClass(f.Class)) }

type ratesPage struct {
	Today   calendar.Date
	Regimes []string
	InForce []rateLine
	History []rateHistoryRow
	Form    rateForm
	MaxNote int
}

func (s *Server) adminRates(c echo.Context) error {
	return s.renderRates(c, http.StatusOK, rateForm{})
}

func (s *Server) renderRates(c echo.Context, status int, f rateForm) error {
	history, err := s.billing.Rates(c.Request().Context())
	if err != nil {
		return err
	}
	today := calendar.Today(s.now())
	page := ratesPage{Today: today, Form: f, MaxNote: billing.MaxRateNote}
	for _, r := range rights.Regimes {
		page.Regimes = append(page.Regimes, r.Label())
	}
	inForce := map[billing.RateClass]map[rights.Regime]billing.Rate{}
	for _, r := range billing.RatesOn(history, today) {
		if inForce[r.Class] == nil {
			inForce[r.Class] = map[rights.Regime]billing.Rate{}
		}
		inForce[r.Class][r.Regime] = r
	}
	for _, class := range billing.RateClasses {
		line := rateLine{Class: RateClassLabel(class)}
		for _, regime := range rights.Regimes {
			var cell rateCell
			if r, ok := inForce[class][regime]; ok {
				cell = rateCell{Rate: FormatPercent(r.Rate), Since: r.EffectiveFrom}
			}
			line.Cells = append(line.Cells, cell)
		}
		page.InForce = append(page.InForce, line)
	}
	for _, r := range history {
		page.History = append(page.History, rateHistoryRow{Rate: r, RegimeLabel: r.Regime.Label(), ClassLabel: RateClassLabel(r.Class),
			Percent: FormatPercent(r.Rate)})
	}
	return s.render(c, status, "admin-rates.html", "Taux de remboursement", page)
}

func (s *Server) addRate(c echo.Context) error {
	p, _ := principal(c)
	f := rateForm{Regime: strings.TrimSpace(c.FormValue("regime")), Class: strings.TrimSpace(c.FormValue("rate_class")),
		EffectiveFrom: strings.TrimSpace(c.FormValue("effective_from")), Rate: strings.TrimSpace(c.FormValue("rate")),
		Reason: strings.TrimSpace(c.FormValue("reason"))}
	// The form becomes the rate AddRate records, checked by the same
	// Validate; the rate is typed in percent, as people say it.
	r := billing.Rate{Regime: rights.Regime(f.Regime), Class: billing.RateClass(f.Class), Reason: f.Reason}
	again := func(status int) error { return s.renderRates(c, status, f) }
	var read []error
	var err error
	if r.EffectiveFrom, err = formDate("effective_from", f.EffectiveFrom); err != nil {
		read = append(read, err)
	}
	if r.Rate, err = formPercent("rate", f.Rate); err != nil {
		read = append(read, err)
	}
	// Every field's problem at once; AddRate checks the same again.
	if problems := eachFieldOnce(read, r.Problems()); len(problems) > 0 {
		return showRefusedFields(problems, f.explain, again)
	}
	if _, err := s.billing.AddRate(c.Request().Context(), p.Actor(), r); err != nil {
		return showRefusedFields([]error{err}, f.explain, again)
	}
	return redirectWithFlash(c, "rate-added", "/admin/taux")
}

// explain puts a French message next to the field an error names; false
// when the error is not the client's.
func (f *rateForm) explain(errs ...error) bool {
	return explainEach(errs, "rate", map[string]*string{"regime": &f.RegimeErr, "rate_class": &f.ClassErr,
		"effective_from": &f.FromErr, "rate": &f.RateErr, "reason": &f.ReasonErr}, &f.Summary)
}

// Problems is the error summary: each field's message, in the form's
// order, linking to the field.
func (f rateForm) Problems() []problemLink {
	return fieldProblems("regime", f.RegimeErr, "rate_class", f.ClassErr, "effective_from", f.FromErr, "rate", f.RateErr, "reason", f.ReasonErr)
}
