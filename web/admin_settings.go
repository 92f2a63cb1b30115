package web

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"passd/billing"
	"passd/money"
)

// /admin/parametres: the régie's account and the limits, through
// billing.Settings.Validate and PutSettings as PUT /settings.

type settingsForm struct {
	RegieName, RegieIBAN, RegieBIC, RegieCeiling, AnnualBudget, DeadlineDays string
	NameErr, IBANErr, BICErr, CeilingErr, BudgetErr, DeadlineErr, Summary    string
	DefaultDeadlineDays                                                      int
	UpdatedBy                                                                string
	UpdatedAt                                                                string
}

func (s *Server) adminSettings(c echo.Context) error {
	st, err := s.billing.Settings(c.Request().Context())
	if err != nil {
		return err
	}
	f := settingsForm{RegieName: st.RegieName, RegieIBAN: st.RegieIBAN, RegieBIC: st.RegieBIC,
		RegieCeiling: money.Format(st.RegieCeiling), AnnualBudget: money.Format(st.AnnualBudget), UpdatedBy: st.UpdatedBy}
	if st.DeadlineDays > 0 {
		f.DeadlineDays = strconv.Itoa(st.DeadlineDays)
	}
	if st.UpdatedAt != nil {
		f.UpdatedAt = FormatMoment(*st.UpdatedAt)
	}
	return s.renderSettings(c, http.StatusOK, f)
}

func (s *Server) renderSettings(c echo.Context, status int, f settingsForm) error {
	f.DefaultDeadlineDays = s.billing.DefaultDeadlineDays()
	return s.render(c, status, "admin-settings.html", "Paramètres", f)
}

func (s *Server) saveSettings(c echo.Context) error {
	p, _ := principal(c)
	f := settingsForm{RegieName: strings.TrimSpace(c.FormValue("regie_name")), RegieIBAN: strings.TrimSpace(c.FormValue("regie_iban")),
		RegieBIC: strings.TrimSpace(c.FormValue("regie_bic")), RegieCeiling: strings.TrimSpace(c.FormValue("regie_ceiling")),
		AnnualBudget: strings.TrimSpace(c.FormValue("annual_budget")), DeadlineDays: strings.TrimSpace(c.FormValue("deadline_days"))}
	// The form becomes the settings PUT /settings saves, checked by the same
	// Validate. Amounts may be typed with a decimal comma; a deadline left
	// blank is the server's default.
	st, err := f.settings()
	if err == nil {
		_, err = s.billing.PutSettings(c.Request().Context(), p.Actor(), st)
	}
	if err != nil {
		return showRefusedForm(err, f.explain, func(status int) error { return s.renderSettings(c, status, f) })
	}
	return redirectWithFlash(c, "settings-saved", "/admin/parametres")
}

// explain puts a French message next to the field an error names; false
// when the error is not the client's.
func (f *settingsForm) explain(err error) bool {
	return explainFields(err, "settings", map[string]*string{"regie_name": &f.NameErr, "regie_iban": &f.IBANErr,
		"regie_bic": &f.BICErr, "regie_ceiling": &f.CeilingErr, "annual_budget": &f.BudgetErr, "deadline_days": &f.DeadlineErr},
		&f.Summary)
}

// settings reads the typed fields into billing's settings and checks them;
// an amount or a deadline that does not read as a number is refused under
// its field, as the API refuses it.
func (f settingsForm) settings() (billing.Settings, error) {
	st := billing.Settings{RegieName: f.RegieName, RegieIBAN: f.RegieIBAN, RegieBIC: f.RegieBIC}
	var err error
	if st.RegieCeiling, err = formAmount("regie_ceiling", f.RegieCeiling); err != nil {
		return st, err
	}
	if st.AnnualBudget, err = formAmount("annual_budget", f.AnnualBudget); err != nil {
		return st, err
	}
	if f.DeadlineDays != "" {
		if st.DeadlineDays, err = formInt("deadline_days", f.DeadlineDays); err != nil {
			return st, err
		}
		if err := billing.CheckDeadlineDays(st.DeadlineDays); err != nil {
			return st, err
		}
	}
	return st, st.Validate()
}
