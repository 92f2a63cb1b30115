package httpapi

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"passd/api"
	"passd/auth"
	"passd/billing"
	"passd/fault"
	"passd/money"
)

type settingsJSON struct {
	RegieName           string     `json:"regie_name"`
	RegieIBAN           string     `json:"regie_iban"`
	RegieBIC            string     `json:"regie_bic"`
	RegieCeiling        string     `json:"regie_ceiling"`
	AnnualBudget        string     `json:"annual_budget"`
	DeadlineDays        int        `json:"deadline_days"`
	DeadlineDaysDefault bool       `json:"deadline_days_is_default"`
	AMELookbackDays     int        `json:"ame_lookback_days"`
	SubmissionLimitDays int        `json:"submission_limit_days"`
	RecoveryOffsetDays  int        `json:"recovery_offset_days"`
	InvoiceCeiling      string     `json:"invoice_ceiling"`
	OverCeiling         string     `json:"over_ceiling"`
	DefaultDrugClass    int        `json:"default_drug_class"`
	RetentionMonths     int        `json:"referral_retention_months"`
	UpdatedAt           *time.Time `json:"updated_at"`
	UpdatedBy           string     `json:"updated_by"`
	// A change of the régie's account waiting for a finance user's
	// confirmation; the account above stays in force until then.
	PendingRegieChange *bankChangeJSON `json:"pending_regie_change"`
}

func (h billingHandlers) toSettingsJSON(st billing.Settings) settingsJSON {
	out := settingsJSON{RegieName: st.RegieName, RegieIBAN: st.RegieIBAN, RegieBIC: st.RegieBIC,
		RegieCeiling: money.Format(st.RegieCeiling), AnnualBudget: money.Format(st.AnnualBudget),
		DeadlineDays: st.DeadlineDays, UpdatedBy: st.UpdatedBy, UpdatedAt: utc(st.UpdatedAt),
		AMELookbackDays: st.AMELookback(), SubmissionLimitDays: st.SubmissionLimit(), RecoveryOffsetDays: st.RecoveryOffset(),
		InvoiceCeiling: money.Format(st.Ceiling()), OverCeiling: st.OverCeilingAction(), DefaultDrugClass: st.DrugClass(),
		RetentionMonths: st.RetentionMonths()}
	if st.DeadlineDays == 0 {
		out.DeadlineDays, out.DeadlineDaysDefault = h.s.DefaultDeadlineDays(), true
	}
	return out
}

// settingsRequest is the body of PUT /settings.
type settingsRequest struct {
	RegieName    api.Value `json:"regie_name"`
	RegieIBAN    api.Value `json:"regie_iban"`
	RegieBIC     api.Value `json:"regie_bic"`
	RegieCeiling api.Value `json:"regie_ceiling"`
	AnnualBudget api.Value `json:"annual_budget"`
	DeadlineDays api.Value `json:"deadline_days"`
	AMELookback  api.Value `json:"ame_lookback_days"`
	SubmitLimit  api.Value `json:"submission_limit_days"`
	RecoverAfter api.Value `json:"recovery_offset_days"`
	Ceiling      api.Value `json:"invoice_ceiling"`
	OverCeiling  api.Value `json:"over_ceiling"`
	DrugClass    api.Value `json:"default_drug_class"`
	Retention    api.Value `json:"referral_retention_months"`
}

// settings turns the body into settings and checks them. A number of
// days given is checked as given, 0 included; left out (or null), the
// default applies.
func (r settingsRequest) settings() (billing.Settings, error) {
	var v valueReader
	st := billing.Settings{RegieName: v.text(r.RegieName, "regie_name"), RegieIBAN: v.text(r.RegieIBAN, "regie_iban"),
		RegieBIC: v.text(r.RegieBIC, "regie_bic"), RegieCeiling: v.amount(r.RegieCeiling, "regie_ceiling"),
		AnnualBudget: v.amount(r.AnnualBudget, "annual_budget")}
	if v.err != nil {
		return st, v.err
	}
	var err error
	if st.DeadlineDays, err = optionalDays(r.DeadlineDays, "deadline_days", billing.CheckDeadlineDays); err != nil {
		return st, err
	}
	if st.AMELookbackDays, err = optionalDays(r.AMELookback, "ame_lookback_days", billing.CheckAMELookbackDays); err != nil {
		return st, err
	}
	if st.SubmissionLimitDays, err = optionalDays(r.SubmitLimit, "submission_limit_days", billing.CheckSubmissionLimitDays); err != nil {
		return st, err
	}
	if st.RecoveryOffsetDays, err = optionalDays(r.RecoverAfter, "recovery_offset_days", billing.CheckRecoveryOffsetDays); err != nil {
		return st, err
	}
	if st.ReferralRetentionMonths, err = optionalDays(r.Retention, "referral_retention_months", billing.CheckReferralRetentionMonths); err != nil {
		return st, err
	}
	if r.Ceiling.Present() {
		if st.InvoiceCeiling, err = r.Ceiling.Amount("invoice_ceiling"); err != nil {
			return st, err
		}
	}
	if st.OverCeiling, err = r.OverCeiling.Text("over_ceiling"); err != nil {
		return st, err
	}
	if r.DrugClass.Present() {
		if st.DefaultDrugClass, err = r.DrugClass.Integer("default_drug_class"); err != nil {
			return st, err
		}
		if st.DefaultDrugClass == 0 {
			return st, fault.Field("default_drug_class", "default_drug_class must be 100, 65, 30 or 15 (percent)")
		}
	}
	return st, st.Validate()
}

// optionalDays reads a number of days the body may leave out (0 then),
// checked by check when given.
func optionalDays(v api.Value, field string, check func(int) error) (int, error) {
	if !v.Present() {
		return 0, nil
	}
	days, err := v.Integer(field)
	if err != nil {
		return 0, err
	}
	return days, check(days)
}

func (h billingHandlers) getSettings(c echo.Context) error {
	st, err := h.s.Settings(c.Request().Context())
	return h.answerSettings(c, st, err)
}

func (h billingHandlers) putSettings(c echo.Context) error {
	st, err := decodeBody(c, settingsRequest.settings)
	if err != nil {
		return err
	}
	st, err = h.s.PutSettings(c.Request().Context(), auth.From(c).Actor(), st)
	return h.answerSettings(c, st, err)
}

// answerSettings answers the settings with the change of the régie's
// account that waits, if any.
func (h billingHandlers) answerSettings(c echo.Context, st billing.Settings, err error) error {
	if err != nil {
		return err
	}
	pending, err := h.s.PendingBankChange(c.Request().Context(), 0)
	if err != nil {
		return err
	}
	out := h.toSettingsJSON(st)
	out.PendingRegieChange = optBankChange(pending)
	return c.JSON(http.StatusOK, out)
}
