package web

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"passd/billing"
	"passd/fault"
	"passd/rights"
)

// /admin/parametres: the régie's account and the limits, through
// billing.Settings.Validate and PutSettings as PUT /settings.

type settingsForm struct {
	RegieName, RegieIBAN, RegieBIC, RegieCeiling, AnnualBudget, DeadlineDays string
	// The other numbers of days, blank for their defaults: without them on
	// the form, saving it would put every one back to its default.
	AMELookbackDays, SubmissionLimitDays, RecoveryOffsetDays string
	// RetentionMonths: how long closed referrals keep their identity.
	RetentionMonths, RetentionErr string
	DefaultRetentionMonths        int
	// The settings of the tariff, blank for their defaults (the over-ceiling
	// action's blank is refuse), for the same reason.
	InvoiceCeiling, OverCeiling, DefaultDrugClass                         string
	NameErr, IBANErr, BICErr, CeilingErr, BudgetErr, DeadlineErr, Summary string
	AMELookbackErr, SubmissionLimitErr, RecoveryOffsetErr                 string
	InvoiceCeilingErr, OverCeilingErr, DrugClassErr                       string
	DefaultDeadlineDays                                                   int
	DefaultAMELookbackDays, DefaultSubmissionLimitDays                    int
	DefaultRecoveryOffsetDays                                             int
	DefaultInvoiceCeiling, DefaultDrugClassLabel                          string
	UpdatedBy                                                             string
	UpdatedAt                                                             string
	// PendingBy: who asked for the régie's account shown, which waits for a
	// finance user's confirmation ("" when none waits).
	PendingBy, PendingAt string
}

func (s *Server) adminSettings(c echo.Context) error {
	st, err := s.billing.Settings(c.Request().Context())
	if err != nil {
		return err
	}
	f := settingsForm{RegieName: st.RegieName, RegieIBAN: st.RegieIBAN, RegieBIC: st.RegieBIC,
		RegieCeiling: inputAmount(st.RegieCeiling), AnnualBudget: inputAmount(st.AnnualBudget), UpdatedBy: st.UpdatedBy}
	f.DeadlineDays, f.AMELookbackDays = days(st.DeadlineDays), days(st.AMELookbackDays)
	f.SubmissionLimitDays, f.RecoveryOffsetDays = days(st.SubmissionLimitDays), days(st.RecoveryOffsetDays)
	f.RetentionMonths = days(st.ReferralRetentionMonths)
	if !st.InvoiceCeiling.IsZero() {
		f.InvoiceCeiling = inputAmount(st.InvoiceCeiling)
	}
	f.OverCeiling, f.DefaultDrugClass = st.OverCeiling, days(st.DefaultDrugClass)
	if st.UpdatedAt != nil {
		f.UpdatedAt = FormatMoment(*st.UpdatedAt)
	}
	// The account asked for is what the form shows, so that saving the
	// form again for another field does not ask for the old one back.
	pending, err := s.billing.PendingBankChange(c.Request().Context(), 0)
	if err != nil {
		return err
	}
	if pending != nil {
		f.RegieName, f.RegieIBAN, f.RegieBIC = pending.New.Name, pending.New.IBAN, pending.New.BIC
		f.PendingBy, f.PendingAt = pending.RequestedBy, FormatMoment(pending.RequestedAt)
	}
	return s.renderSettings(c, http.StatusOK, f)
}

// days shows a number of days of the settings, blank for 0 (the default).
func days(n int) string {
	if n == 0 {
		return ""
	}
	return strconv.Itoa(n)
}

func (s *Server) renderSettings(c echo.Context, status int, f settingsForm) error {
	f.DefaultDeadlineDays = s.billing.DefaultDeadlineDays()
	f.DefaultAMELookbackDays, f.DefaultSubmissionLimitDays = rights.DefaultAMELookbackDays, billing.DefaultSubmissionLimitDays
	f.DefaultRecoveryOffsetDays, f.DefaultRetentionMonths = billing.DefaultRecoveryOffsetDays, billing.DefaultReferralRetentionMonths
	f.DefaultInvoiceCeiling, f.DefaultDrugClassLabel = FormatAmount(billing.DefaultInvoiceCeiling), DrugClassLabel(billing.DefaultDrugClass)
	return s.render(c, status, "admin-settings.html", "Paramètres", f)
}

func (s *Server) saveSettings(c echo.Context) error {
	p, _ := principal(c)
	f := settingsForm{RegieName: strings.TrimSpace(c.FormValue("regie_name")), RegieIBAN: strings.TrimSpace(c.FormValue("regie_iban")),
		RegieBIC: strings.TrimSpace(c.FormValue("regie_bic")), RegieCeiling: strings.TrimSpace(c.FormValue("regie_ceiling")),
		AnnualBudget: strings.TrimSpace(c.FormValue("annual_budget")), DeadlineDays: strings.TrimSpace(c.FormValue("deadline_days")),
		AMELookbackDays: strings.TrimSpace(c.FormValue("ame_lookback_days")), SubmissionLimitDays: strings.TrimSpace(c.FormValue("submission_limit_days")),
		RecoveryOffsetDays: strings.TrimSpace(c.FormValue("recovery_offset_days")), InvoiceCeiling: strings.TrimSpace(c.FormValue("invoice_ceiling")),
		OverCeiling: strings.TrimSpace(c.FormValue("over_ceiling")), DefaultDrugClass: strings.TrimSpace(c.FormValue("default_drug_class")),
		RetentionMonths: strings.TrimSpace(c.FormValue("referral_retention_months"))}
	// The form becomes the settings PUT /settings saves, checked by the same
	// Validate. Amounts may be typed with a decimal comma; a number of days
	// left blank is its default.
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
		"regie_bic": &f.BICErr, "regie_ceiling": &f.CeilingErr, "annual_budget": &f.BudgetErr, "deadline_days": &f.DeadlineErr,
		"ame_lookback_days": &f.AMELookbackErr, "submission_limit_days": &f.SubmissionLimitErr, "recovery_offset_days": &f.RecoveryOffsetErr,
		"invoice_ceiling": &f.InvoiceCeilingErr, "over_ceiling": &f.OverCeilingErr, "default_drug_class": &f.DrugClassErr,
		"referral_retention_months": &f.RetentionErr},
		&f.Summary)
}

// settings reads the typed fields into billing's settings and checks them;
// an amount or a deadline that does not read as a number is refused under
// its field, as the API refuses it.
func (f settingsForm) settings() (billing.Settings, error) {
	st := billing.Settings{RegieName: f.RegieName, RegieIBAN: f.RegieIBAN, RegieBIC: f.RegieBIC}
	var err error
	if st.RegieCeiling, err = formFrenchAmount("regie_ceiling", f.RegieCeiling); err != nil {
		return st, err
	}
	if st.AnnualBudget, err = formFrenchAmount("annual_budget", f.AnnualBudget); err != nil {
		return st, err
	}
	for _, d := range []struct {
		field, raw string
		dst        *int
		check      func(int) error
	}{
		{"deadline_days", f.DeadlineDays, &st.DeadlineDays, billing.CheckDeadlineDays},
		{"ame_lookback_days", f.AMELookbackDays, &st.AMELookbackDays, billing.CheckAMELookbackDays},
		{"submission_limit_days", f.SubmissionLimitDays, &st.SubmissionLimitDays, billing.CheckSubmissionLimitDays},
		{"recovery_offset_days", f.RecoveryOffsetDays, &st.RecoveryOffsetDays, billing.CheckRecoveryOffsetDays},
		{"referral_retention_months", f.RetentionMonths, &st.ReferralRetentionMonths, billing.CheckReferralRetentionMonths},
	} {
		if d.raw == "" {
			continue
		}
		if *d.dst, err = formInt(d.field, d.raw); err != nil {
			return st, err
		}
		if err := d.check(*d.dst); err != nil {
			return st, err
		}
	}
	// The tariff's: a ceiling may be typed as French people write amounts
	// ("2 500,00").
	st.OverCeiling = f.OverCeiling
	if f.InvoiceCeiling != "" {
		if st.InvoiceCeiling, err = formFrenchAmount("invoice_ceiling", f.InvoiceCeiling); err != nil {
			return st, err
		}
		if st.InvoiceCeiling.IsZero() {
			return st, fault.Field("invoice_ceiling", "invoice_ceiling must be positive")
		}
	}
	if f.DefaultDrugClass != "" {
		if st.DefaultDrugClass, err = formInt("default_drug_class", f.DefaultDrugClass); err != nil {
			return st, err
		}
		if st.DefaultDrugClass == 0 {
			return st, fault.Field("default_drug_class", "default_drug_class must be 100, 65, 30 or 15")
		}
	}
	return st, st.Validate()
}

// OverCeilingChoices are the options of the over-ceiling select; blank
// (never set) is refuse.
func (f settingsForm) OverCeilingChoices() []choice {
	action := f.OverCeiling
	if action == "" {
		action = billing.OverCeilingRefuse
	}
	return []choice{
		{Value: billing.OverCeilingRefuse, Label: "Refuser la facture", Selected: action == billing.OverCeilingRefuse},
		{Value: billing.OverCeilingReview, Label: "La mettre en revue : la coordination l'accepte ou l'annule", Selected: action == billing.OverCeilingReview},
	}
}

// DrugClassChoices are the options of the default drug class select,
// after the blank one (the default).
func (f settingsForm) DrugClassChoices() []choice {
	n, _ := strconv.Atoi(f.DefaultDrugClass)
	return drugClassChoices(n)
}
