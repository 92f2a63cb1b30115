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
	// rules. Amounts may be typed with a decimal comma; a number of days
	// left blank is its default. Every field's problem is told at once.
	again := func(status int) error { return s.renderSettings(c, status, f) }
	st, problems := f.settings()
	if len(problems) > 0 {
		return showRefusedFields(problems, f.explainEach, again)
	}
	if _, err := s.billing.PutSettings(c.Request().Context(), p.Actor(), st); err != nil {
		return showRefusedForm(err, f.explain, again)
	}
	return redirectWithFlash(c, "settings-saved", "/admin/parametres")
}

func (f *settingsForm) slots() map[string]*string {
	return map[string]*string{"regie_name": &f.NameErr, "regie_iban": &f.IBANErr,
		"regie_bic": &f.BICErr, "regie_ceiling": &f.CeilingErr, "annual_budget": &f.BudgetErr, "deadline_days": &f.DeadlineErr,
		"ame_lookback_days": &f.AMELookbackErr, "submission_limit_days": &f.SubmissionLimitErr, "recovery_offset_days": &f.RecoveryOffsetErr,
		"invoice_ceiling": &f.InvoiceCeilingErr, "over_ceiling": &f.OverCeilingErr, "default_drug_class": &f.DrugClassErr,
		"referral_retention_months": &f.RetentionErr}
}

// explain puts a French message next to the field an error names; false
// when the error is not the client's.
func (f *settingsForm) explain(err error) bool {
	return explainFields(err, "settings", f.slots(), &f.Summary)
}

// explainEach puts each of errs next to its field.
func (f *settingsForm) explainEach(errs ...error) bool {
	return explainEach(errs, "settings", f.slots(), &f.Summary)
}

// Problems is the error summary: each field's message, in the form's
// order (the ids of admin-settings.html's inputs), linking to the field.
func (f settingsForm) Problems() []problemLink {
	return fieldProblems("regie_name", f.NameErr, "regie_iban", f.IBANErr, "regie_bic", f.BICErr,
		"regie_ceiling", f.CeilingErr, "annual_budget", f.BudgetErr, "deadline_days", f.DeadlineErr,
		"ame_lookback_days", f.AMELookbackErr, "submission_limit_days", f.SubmissionLimitErr,
		"recovery_offset_days", f.RecoveryOffsetErr, "referral_retention_months", f.RetentionErr,
		"invoice_ceiling", f.InvoiceCeilingErr, "over_ceiling", f.OverCeilingErr, "default_drug_class", f.DrugClassErr)
}

// settings reads the typed fields into billing's settings and checks them:
// problems are every field's, the form's reading first (an amount or a
// number that does not read as one, as the API refuses it; a number typed
// as 0, which would be the default), then billing's rules on the rest.
func (f settingsForm) settings() (st billing.Settings, problems []error) {
	st = billing.Settings{RegieName: f.RegieName, RegieIBAN: f.RegieIBAN, RegieBIC: f.RegieBIC}
	keep := fault.Collect(&problems)
	var err error
	st.RegieCeiling, err = formFrenchAmount("regie_ceiling", f.RegieCeiling)
	keep(err)
	st.AnnualBudget, err = formFrenchAmount("annual_budget", f.AnnualBudget)
	keep(err)
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
		if *d.dst, err = formInt(d.field, d.raw); err == nil {
			err = d.check(*d.dst)
		}
		keep(err)
	}
	problems = append(problems, f.tariff(&st)...)
	return st, eachFieldOnce(problems, st.Problems())
}

// tariff reads the tariff's fields into st, a problem for each that does
// not read: a ceiling may be typed as French people write amounts
// ("2 500,00"); a ceiling or a class of 0 is no default, but a mistake.
func (f settingsForm) tariff(st *billing.Settings) []error {
	var out []error
	st.OverCeiling = f.OverCeiling
	var err error
	if f.InvoiceCeiling != "" {
		st.InvoiceCeiling, err = formFrenchAmount("invoice_ceiling", f.InvoiceCeiling)
		if err == nil && st.InvoiceCeiling.IsZero() {
			err = fault.Field("invoice_ceiling", "invoice_ceiling must be positive")
		}
		if err != nil {
			out = append(out, err)
		}
	}
	if f.DefaultDrugClass != "" {
		st.DefaultDrugClass, err = formInt("default_drug_class", f.DefaultDrugClass)
		if err == nil && st.DefaultDrugClass == 0 {
			err = fault.Field("default_drug_class", "default_drug_class must be 100, 65, 30 or 15")
		}
		if err != nil {
			out = append(out, err)
		}
	}
	return out
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
