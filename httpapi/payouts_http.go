package httpapi

import (
	"context"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"passd/api"
	"passd/audit"
	"passd/auth"
	"passd/billing"
	"passd/calendar"
	"passd/fault"
	"passd/ident"
	"passd/money"
	"passd/settlement"
)

// ---- payouts ----

type payoutJSON struct {
	ID         string                  `json:"id"`
	InvoiceID  string                  `json:"invoice_id"`
	ProviderID string                  `json:"provider_id"`
	ClaimID    *string                 `json:"claim_id"`
	Amount     string                  `json:"amount"`
	Reason     *settlement.Reason      `json:"reason,omitempty"` // absent for a provider: it tells the patient's rights
	Note       *string                 `json:"cpam_reason"`
	Status     settlement.PayoutStatus `json:"status"`
	BatchID    *string                 `json:"batch_id"`
	PaidOn     *calendar.Date          `json:"paid_on"`
	CreatedAt  time.Time               `json:"created_at"`
	HeldAt     *time.Time              `json:"held_at"`
	HoldReason *string                 `json:"hold_reason"`
}

func toPayoutJSON(p billing.Payout) payoutJSON {
	return payoutJSON{ID: ident.FormatID(p.ID), InvoiceID: ident.FormatID(p.InvoiceID), ProviderID: ident.FormatID(p.ProviderID),
		ClaimID: optID(p.ClaimID), Amount: money.Format(p.Amount), Reason: nullable(p.Reason), Note: nullable(p.Note), Status: p.Status,
		BatchID: optID(p.BatchID), PaidOn: optDate(p.PaidOn), CreatedAt: p.CreatedAt.UTC(), HeldAt: utc(p.HeldAt), HoldReason: nullable(p.HoldReason)}
}

// queryID reads an optional id from the query string.
func queryID(c echo.Context, name string) (int64, error) {
	raw := c.QueryParam(name)
	if raw == "" {
		return 0, nil
	}
	id, err := ident.ParseID(raw)
	if err != nil {
		return 0, fault.Field(name, "%s must be an id", name)
	}
	return id, nil
}

// wantCSV reads ?format=, which is json (the default) or csv.
func wantCSV(c echo.Context) (bool, error) {
	switch c.QueryParam("format") {
	case "", "json":
		return false, nil
	case "csv":
		return true, nil
	}
	return false, fault.Field("format", "format must be json or csv")
}

func (h billingHandlers) listPayouts(c echo.Context) error {
	p := auth.From(c)
	f := billing.PayoutFilter{ProviderID: visibleTo(p)}
	var err error
	if f.Status, err = QueryEnum(c, "status", settlement.PayoutStatuses); err != nil {
		return err
	}
	if f.BatchID, err = queryID(c, "batch_id"); err != nil {
		return err
	}
	if p.Role != auth.Provider {
		if f.ProviderID, err = queryID(c, "provider_id"); err != nil {
			return err
		}
	} else {
		f.ForProvider = true
	}
	csv, err := wantCSV(c)
	if err != nil {
		return err
	}
	if csv {
		return Stream(c, "text/csv; charset=utf-8", "paiements-pass.csv", func(w io.Writer) error {
			return h.s.PayoutsCSV(c.Request().Context(), f, w)
		})
	}
	page, err := ParsePage(c)
	if err != nil {
		return err
	}
	list, err := h.s.Payouts(c.Request().Context(), f, page)
	conv := toPayoutJSON
	if f.ForProvider {
		// Neither why the city pays (it tells the patient's rights) nor
		// why finance holds a payout is the provider's to read.
		conv = func(p billing.Payout) payoutJSON {
			out := toPayoutJSON(p)
			out.Reason, out.HoldReason = nil, nil
			return out
		}
	}
	return answerPage(c, page, list, err, func(p billing.Payout) int64 { return p.ID }, conv)
}

// ---- payout batches ----

type batchProviderJSON struct {
	ProviderID  string `json:"provider_id"`
	Name        string `json:"name"`
	PayoutCount int    `json:"payout_count"`
	Amount      string `json:"amount"` // its payouts
	Offset      string `json:"offset"` // its recoveries deducted
	Net         string `json:"net"`    // what its transfer pays
}

type payoutBatchJSON struct {
	ID             string              `json:"id"`
	Status         billing.BatchStatus `json:"status"`
	ProviderID     *string             `json:"provider_id"`
	PayoutCount    int                 `json:"payout_count"`
	Total          string              `json:"total"`
	OffsetTotal    string              `json:"offset_total"`
	NetTotal       string              `json:"net_total"`
	Ceiling        string              `json:"ceiling"`
	CreatedAt      time.Time           `json:"created_at"`
	CreatedBy      string              `json:"created_by"`
	SubmittedAt    *time.Time          `json:"submitted_at"`
	PreparedBy     *string             `json:"prepared_by"`
	ApprovedAt     *time.Time          `json:"approved_at"`
	ApprovedBy     *string             `json:"approved_by"`
	BudgetOverride bool                `json:"budget_override"`
	// The admin's leave to go over the budget, given before approval.
	OverrideBy     *string             `json:"budget_override_by"`
	OverrideAt     *time.Time          `json:"budget_override_at"`
	OverrideReason *string             `json:"budget_override_reason"`
	PaidOn         *calendar.Date      `json:"paid_on"`
	CancelledAt    *time.Time          `json:"cancelled_at"`
	SEPASHA256     *string             `json:"sepa_sha256"`
	Providers      []batchProviderJSON `json:"providers,omitempty"`
}

func toPayoutBatchJSON(b billing.PayoutBatch) payoutBatchJSON {
	out := payoutBatchJSON{ID: ident.FormatID(b.ID), Status: b.Status, ProviderID: optID(b.ProviderID), PayoutCount: b.PayoutCount,
		Total: money.Format(b.Total), OffsetTotal: money.Format(b.OffsetTotal), NetTotal: money.Format(b.Net()), Ceiling: money.Format(b.Ceiling), CreatedAt: b.CreatedAt.UTC(), CreatedBy: b.Creator,
		SubmittedAt: utc(b.SubmittedAt), PreparedBy: nullable(b.PreparedBy), ApprovedAt: utc(b.ApprovedAt), ApprovedBy: nullable(b.ApprovedBy),
		BudgetOverride: b.BudgetOverride, PaidOn: optDate(b.PaidOn), CancelledAt: utc(b.CancelledAt),
		OverrideBy: nullable(b.OverrideBy), OverrideAt: utc(b.OverrideAt), OverrideReason: nullable(b.OverrideReason)}
	if b.SEPASHA256 != nil {
		h := hex.EncodeToString(b.SEPASHA256)
		out.SEPASHA256 = &h
	}
	for _, p := range b.Providers {
		out.Providers = append(out.Providers, batchProviderJSON{ProviderID: ident.FormatID(p.ProviderID), Name: p.Name,
			PayoutCount: p.PayoutCount, Amount: money.Format(p.Amount), Offset: money.Format(p.Offset), Net: money.Format(p.Net)})
	}
	return out
}

type draftRequest struct {
	ProviderID api.Value `json:"provider_id"`
}

// providerID returns the provider a draft is restricted to, 0 for none.
func (r draftRequest) providerID() (int64, error) {
	raw, err := r.ProviderID.Text("provider_id")
	if err != nil {
		return 0, err
	}
	if raw = strings.TrimSpace(raw); raw == "" {
		return 0, nil
	}
	id, err := ident.ParseID(raw)
	if err != nil {
		return 0, fault.Field("provider_id", "provider_id must be an id")
	}
	return id, nil
}

func (h billingHandlers) draftPayoutBatch(c echo.Context) error {
	var req draftRequest
	if err := DecodeOptional(c, &req); err != nil {
		return err
	}
	providerID, err := req.providerID()
	if err != nil {
		return err
	}
	b, ok, err := h.s.DraftPayoutBatch(c.Request().Context(), auth.From(c).Actor(), providerID)
	if err != nil {
		return err
	}
	if !ok {
		return fault.New(fault.Conflict, "no due payout can be batched: none is due under the régie's ceiling, or another draft is taking them right now").WithKind(fault.KindNothingToBatch)
	}
	return c.JSON(http.StatusCreated, toPayoutBatchJSON(b))
}

func (h billingHandlers) listPayoutBatches(c echo.Context) error {
	status, err := QueryEnum(c, "status", billing.BatchStatuses)
	if err != nil {
		return err
	}
	csv, err := wantCSV(c)
	if err != nil {
		return err
	}
	if csv {
		return Stream(c, "text/csv; charset=utf-8", "lots-de-paiement-pass.csv", func(w io.Writer) error {
			return h.s.PayoutBatchesCSV(c.Request().Context(), status, false, w)
		})
	}
	page, err := ParsePage(c)
	if err != nil {
		return err
	}
	list, err := h.s.PayoutBatches(c.Request().Context(), status, page)
	return answerPage(c, page, list, err, func(b billing.PayoutBatch) int64 { return b.ID }, toPayoutBatchJSON)
}

func (h billingHandlers) getPayoutBatch(c echo.Context) error {
	return answerByID(c, h.s.PayoutBatch, toPayoutBatchJSON)
}

func (h billingHandlers) submitPayoutBatch(c echo.Context) error {
	return batchStep(c, h.s.SubmitPayoutBatch)
}

func (h billingHandlers) approvePayoutBatch(c echo.Context) error {
	return batchStep(c, h.s.ApprovePayoutBatch)
}

func (h billingHandlers) cancelPayoutBatch(c echo.Context) error {
	return batchStep(c, h.s.CancelPayoutBatch)
}

// batchStep answers a step of the batch of the path that takes no body
// (an empty object at most).
func batchStep(c echo.Context, step func(context.Context, audit.Actor, int64) (billing.PayoutBatch, error)) error {
	return decided(c, step, toPayoutBatchJSON)
}

type paidRequest struct {
	PaidOn api.Value `json:"paid_on"`
}

func (h billingHandlers) markPayoutBatchPaid(c echo.Context) error {
	id, err := PathID(c, "id")
	if err != nil {
		return err
	}
	var req paidRequest
	if err := Decode(c, &req); err != nil {
		return err
	}
	paidOn, err := req.PaidOn.Date("paid_on")
	if err != nil {
		return err
	}
	b, err := h.s.MarkPayoutBatchPaid(c.Request().Context(), auth.From(c).Actor(), id, paidOn)
	return answerJSON(c, http.StatusOK, b, err, toPayoutBatchJSON)
}

func (h billingHandlers) sepaFile(c echo.Context) error {
	id, err := PathID(c, "id")
	if err != nil {
		return err
	}
	if _, err := h.s.OpenSEPA(c.Request().Context(), auth.From(c).Actor(), id); err != nil {
		return err
	}
	return Stream(c, "application/xml", fmt.Sprintf("passd-virements-lot-%d.xml", id), func(w io.Writer) error {
		return h.s.WriteSEPA(c.Request().Context(), id, w)
	})
}
