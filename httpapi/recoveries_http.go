package httpapi

import (
	"io"
	"time"

	"github.com/labstack/echo/v4"

	"passd/billing"
	"passd/calendar"
	"passd/ident"
	"passd/money"
)

// What the city gets back after a re-decision: recoveries from providers
// (deducted from their payout batches, or listed for a titre de recettes)
// and refunds due to the CPAM. Finance and admin read them.

type recoveryJSON struct {
	ID                string                 `json:"id"`
	InvoiceID         string                 `json:"invoice_id"`
	ExternalRef       string                 `json:"external_ref"`
	ProviderID        string                 `json:"provider_id"`
	ProviderName      string                 `json:"provider_name"`
	RPPS              *string                `json:"rpps"`
	FINESS            *string                `json:"finess"`
	Amount            string                 `json:"amount"`
	Status            billing.RecoveryStatus `json:"status"`
	DaysWaiting       *int                   `json:"days_waiting"` // null once deducted
	OffsetBatchID     *string                `json:"offset_batch_id"`
	OffsetBatchStatus *billing.BatchStatus   `json:"offset_batch_status"`
	CreatedAt         time.Time              `json:"created_at"`
}

func toRecoveryJSON(r billing.Recovery) recoveryJSON {
	out := recoveryJSON{ID: ident.FormatID(r.ID), InvoiceID: ident.FormatID(r.InvoiceID), ExternalRef: r.ExternalRef,
		ProviderID: ident.FormatID(r.ProviderID), ProviderName: r.ProviderName, RPPS: nullable(r.RPPS), FINESS: nullable(r.FINESS),
		Amount: money.Format(r.Amount), Status: r.Status, OffsetBatchID: optID(r.OffsetBatchID),
		OffsetBatchStatus: nullable(r.OffsetBatchStatus), CreatedAt: r.CreatedAt.UTC()}
	if r.OffsetBatchID == 0 {
		out.DaysWaiting = &r.DaysWaiting
	}
	return out
}

func (h billingHandlers) listRecoveries(c echo.Context) error {
	var f billing.RecoveryFilter
	var err error
	if f.Status, err = QueryEnum(c, "status", billing.RecoveryStatuses); err != nil {
		return err
	}
	if f.ProviderID, err = queryID(c, "provider_id"); err != nil {
		return err
	}
	if f.BatchID, err = queryID(c, "batch_id"); err != nil {
		return err
	}
	csv, err := wantCSV(c)
	if err != nil {
		return err
	}
	if csv {
		return Stream(c, "text/csv; charset=utf-8", RecoveriesFileName(f.Status), func(w io.Writer) error {
			return h.s.RecoveriesCSV(c.Request().Context(), f, w)
		})
	}
	page, err := ParsePage(c)
	if err != nil {
		return err
	}
	list, err := h.s.Recoveries(c.Request().Context(), f, page)
	return answerPage(c, page, list, err, func(r billing.Recovery) int64 { return r.ID }, toRecoveryJSON)
}

// RecoveriesFileName names the recoveries' CSV: the titre de recettes
// list has a name of its own, as finance files it.
func RecoveriesFileName(status billing.RecoveryStatus) string {
	if status == billing.RecoveryTitre {
		return "titres-de-recettes-pass.csv"
	}
	return "reprises-pass.csv"
}

type cpamRefundJSON struct {
	ID           string         `json:"id"`
	InvoiceID    string         `json:"invoice_id"`
	ExternalRef  string         `json:"external_ref"`
	ProviderID   string         `json:"provider_id"`
	ProviderName string         `json:"provider_name"`
	ClaimID      string         `json:"claim_id"`
	ClaimBatchID *string        `json:"claim_batch_id"`
	ClaimPaidOn  *calendar.Date `json:"claim_paid_on"`
	Amount       string         `json:"amount"`
	CreatedAt    time.Time      `json:"created_at"`
}

func toCPAMRefundJSON(f billing.CPAMRefund) cpamRefundJSON {
	return cpamRefundJSON{ID: ident.FormatID(f.ID), InvoiceID: ident.FormatID(f.InvoiceID), ExternalRef: f.ExternalRef,
		ProviderID: ident.FormatID(f.ProviderID), ProviderName: f.ProviderName, ClaimID: ident.FormatID(f.ClaimID),
		ClaimBatchID: optID(f.ClaimBatchID), ClaimPaidOn: optDate(f.ClaimPaidOn), Amount: money.Format(f.Amount), CreatedAt: f.CreatedAt.UTC()}
}

func (h billingHandlers) listCPAMRefunds(c echo.Context) error {
	csv, err := wantCSV(c)
	if err != nil {
		return err
	}
	if csv {
		return Stream(c, "text/csv; charset=utf-8", CPAMRefundsFileName, func(w io.Writer) error {
			return h.s.CPAMRefundsCSV(c.Request().Context(), w)
		})
	}
	page, err := ParsePage(c)
	if err != nil {
		return err
	}
	list, err := h.s.CPAMRefunds(c.Request().Context(), page)
	return answerPage(c, page, list, err, func(f billing.CPAMRefund) int64 { return f.ID }, toCPAMRefundJSON)
}

// CPAMRefundsFileName names the CSV of the refunds due to the CPAM.
const CPAMRefundsFileName = "remboursements-cpam-pass.csv"
