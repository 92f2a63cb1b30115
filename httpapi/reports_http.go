package httpapi

import (
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"passd/auth"
	"passd/billing"
	"passd/calendar"
	"passd/fault"
	"passd/ident"
	"passd/money"
	"passd/settlement"
)

// The budget report and the provider's statement.

type budgetLineJSON struct {
	Key       string `json:"key"`
	Committed string `json:"committed"`
	Paid      string `json:"paid"`
}

type budgetJSON struct {
	Year           int              `json:"year"`
	Budget         string           `json:"budget"`
	Committed      string           `json:"committed"`
	Paid           string           `json:"paid"`
	Remaining      string           `json:"remaining"`
	Recovered      string           `json:"recovered"`
	RecoveredOff   string           `json:"recovered_offset"`
	CPAMRefunds    string           `json:"cpam_refunds"`
	Net            string           `json:"net"`
	NetRemaining   string           `json:"net_remaining"`
	ByProviderKind []budgetLineJSON `json:"by_provider_kind"`
	ByMonth        []budgetLineJSON `json:"by_month"`
}

func toBudgetLines(lines []billing.BudgetLine) []budgetLineJSON {
	out := make([]budgetLineJSON, len(lines))
	for i, l := range lines {
		out[i] = budgetLineJSON{Key: l.Key, Committed: money.Format(l.Committed), Paid: money.Format(l.Paid)}
	}
	return out
}

func (h billingHandlers) budgetReport(c echo.Context) error {
	year := h.s.Today().Year()
	if raw := c.QueryParam("year"); raw != "" {
		y, err := strconv.Atoi(raw)
		if err != nil || y < 2000 || y > 2100 || strconv.Itoa(y) != raw {
			return fault.Field("year", "year must be a year like %d", year)
		}
		year = y
	}
	b, err := h.s.BudgetReport(c.Request().Context(), year)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, budgetJSON{Year: b.Year, Budget: money.Format(b.Budget), Committed: money.Format(b.Committed),
		Paid: money.Format(b.Paid), Remaining: money.Format(b.Remaining), Recovered: money.Format(b.Recovered),
		RecoveredOff: money.Format(b.RecoveredOffset), CPAMRefunds: money.Format(b.CPAMRefunds), Net: money.Format(b.Net),
		NetRemaining: money.Format(b.NetRemaining), ByProviderKind: toBudgetLines(b.ByKind), ByMonth: toBudgetLines(b.ByMonth)})
}

// A statement is its provider's: like a provider's invoice
// (billing.Invoice.ForProvider), it carries no decision or payout reason,
// which would tell the patient's rights (issue 15 §4).

type statementPayoutJSON struct {
	ID         string                  `json:"id"`
	Amount     string                  `json:"amount"`
	CPAMReason *string                 `json:"cpam_reason"`
	Status     settlement.PayoutStatus `json:"status"`
	PaidOn     *calendar.Date          `json:"paid_on"`
}

type statementClaimJSON struct {
	ID              string                 `json:"id"`
	Amount          string                 `json:"amount"`
	Status          settlement.ClaimStatus `json:"status"`
	PaidAmount      *string                `json:"paid_amount"`
	PaidOn          *calendar.Date         `json:"paid_on"`
	RejectionReason *string                `json:"rejection_reason"`
}

type statementLineJSON struct {
	InvoiceID         string                `json:"invoice_id"`
	ExternalRef       string                `json:"external_ref"`
	PatientFileNumber string                `json:"patient_file_number"`
	CareDate          calendar.Date         `json:"care_date"`
	Deadline          calendar.Date         `json:"deadline"`
	Total             string                `json:"total"`
	Status            billing.InvoiceStatus `json:"status"`
	CPAMAmount        *string               `json:"cpam_amount"`
	CityAmount        *string               `json:"city_amount"`
	Claim             *statementClaimJSON   `json:"claim"`
	Payouts           []statementPayoutJSON `json:"payouts"`
}

func toStatementLineJSON(l billing.StatementLine) statementLineJSON {
	inv := l.Invoice
	out := statementLineJSON{InvoiceID: ident.FormatID(inv.ID), ExternalRef: inv.ExternalRef, PatientFileNumber: inv.PatientFileNumber,
		CareDate: inv.CareDate, Deadline: inv.Deadline, Total: money.Format(inv.Total), Status: inv.Status, Payouts: []statementPayoutJSON{}}
	out.CPAMAmount, out.CityAmount = optAmount(inv.CPAMAmount), optAmount(inv.CityAmount)
	if l.ClaimID != 0 {
		out.Claim = &statementClaimJSON{ID: ident.FormatID(l.ClaimID), Amount: money.Format(*l.ClaimAmount), Status: l.ClaimStatus,
			PaidOn: optDate(l.ClaimPaidOn), RejectionReason: nullable(l.ClaimRejection)}
		out.Claim.PaidAmount = optAmount(l.ClaimPaidAmount)
	}
	for _, p := range l.Payouts {
		out.Payouts = append(out.Payouts, statementPayoutJSON{ID: ident.FormatID(p.ID), Amount: money.Format(p.Amount),
			CPAMReason: nullable(p.Note), Status: p.Status, PaidOn: optDate(p.PaidOn)})
	}
	return out
}

func (h billingHandlers) statement(c echo.Context) error {
	p := auth.From(c)
	from, to, err := billing.StatementPeriod(h.s.Today(), c.QueryParam("from"), c.QueryParam("to"))
	if err != nil {
		return err
	}
	csv, err := wantCSV(c)
	if err != nil {
		return err
	}
	lines, err := h.s.Statement(c.Request().Context(), p.ProviderID, from, to)
	if err != nil {
		return err
	}
	if csv {
		return Stream(c, "text/csv; charset=utf-8", billing.StatementFileName(from, to), func(w io.Writer) error { return billing.WriteStatementCSV(w, lines) })
	}
	items := make([]statementLineJSON, len(lines))
	for i, l := range lines {
		items[i] = toStatementLineJSON(l)
	}
	changed, err := h.s.BankDetailsChanged(c.Request().Context(), p.ProviderID, from, to)
	if err != nil {
		return err
	}
	changes := make([]bankDetailsChangedJSON, len(changed))
	for i, ch := range changed {
		changes[i] = bankDetailsChangedJSON{ChangedAt: ch.DecidedAt.UTC(), IBANEnding: ibanEnding(ch.New.IBAN)}
	}
	return c.JSON(http.StatusOK, map[string]any{"from": from, "to": to, "items": items, "bank_details_changes": changes})
}

// bankDetailsChangedJSON tells a provider its bank details changed: when,
// and the end of the IBAN now in force (enough to recognise it).
type bankDetailsChangedJSON struct {
	ChangedAt  time.Time `json:"changed_at"`
	IBANEnding string    `json:"iban_ending"`
}

// ibanEnding is an IBAN's last four characters.
func ibanEnding(iban string) string {
	if len(iban) < 4 {
		return iban
	}
	return iban[len(iban)-4:]
}
