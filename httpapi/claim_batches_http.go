package httpapi

import (
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"passd/auth"
	"passd/claims"
	"passd/claims/cpamfile"
	"passd/fault"
	"passd/ident"
	"passd/money"
)

type claimBatchJSON struct {
	ID                string    `json:"id"`
	ClaimCount        int       `json:"claim_count"`
	CancellationCount int       `json:"cancellation_count"`
	Total             string    `json:"total"`
	CreatedAt         time.Time `json:"created_at"`
	CreatedBy         string    `json:"created_by"`
	Transmitted       int       `json:"transmitted"`
	Paid              int       `json:"paid"`
	Rejected          int       `json:"rejected"`
	Cancelled         int       `json:"cancelled"`
	PaidAmount        string    `json:"paid_amount"`
}

func toClaimBatchJSON(b claims.ClaimBatch) claimBatchJSON {
	return claimBatchJSON{ID: ident.FormatID(b.ID), ClaimCount: b.ClaimCount, CancellationCount: b.CancellationCount,
		Total: money.Format(b.Total), CreatedAt: b.CreatedAt.UTC(), CreatedBy: b.Creator,
		Transmitted: b.Transmitted, Paid: b.Paid, Rejected: b.Rejected, Cancelled: b.Cancelled, PaidAmount: money.Format(b.PaidAmount)}
}

func (h claimsHandlers) createClaimBatch(c echo.Context) error {
	if err := DecodeOptional(c, nil); err != nil {
		return err
	}
	b, ok, err := h.store.CreateClaimBatch(c.Request().Context(), auth.From(c).Actor())
	if err != nil {
		return err
	}
	if !ok {
		return claims.NothingToBatch()
	}
	return c.JSON(http.StatusCreated, toClaimBatchJSON(b))
}

func (h claimsHandlers) listClaimBatches(c echo.Context) error {
	page, err := ParsePage(c)
	if err != nil {
		return err
	}
	list, err := h.store.ClaimBatches(c.Request().Context(), claims.BatchFilter{}, page)
	return answerPage(c, page, list, err, func(b claims.ClaimBatch) int64 { return b.ID }, toClaimBatchJSON)
}

func (h claimsHandlers) getClaimBatch(c echo.Context) error {
	return answerByID(c, h.store.ClaimBatch, toClaimBatchJSON)
}

func (h claimsHandlers) exportClaimBatch(c echo.Context) error {
	id, err := PathID(c, "id")
	if err != nil {
		return err
	}
	format := c.QueryParam("format")
	if format == "" {
		format = "json"
	}
	w, ok := cpamfile.WriterFor(format)
	if !ok {
		return fault.Field("format", "format must be json or csv")
	}
	// Check the batch exists before the first byte goes out.
	if _, err := h.store.ClaimBatch(c.Request().Context(), id); err != nil {
		return err
	}
	name := fmt.Sprintf("passd-claims-%d.%s", id, w.Format())
	return Stream(c, w.ContentType(), name, func(out io.Writer) error {
		return h.store.ExportClaimBatch(c.Request().Context(), auth.From(c).Actor(), id, out, w)
	})
}

type returnResultJSON struct {
	Line       int     `json:"line"`
	ClaimID    string  `json:"claim_id"`
	Result     string  `json:"result"`
	Message    string  `json:"message,omitempty"`
	OwedAmount *string `json:"owed_amount,omitempty"`
}

type returnReportJSON struct {
	BatchID string             `json:"batch_id"`
	Counts  map[string]int     `json:"counts"`
	Lines   []returnResultJSON `json:"lines"`
}

func (h claimsHandlers) importReturn(c echo.Context) error {
	id, err := PathID(c, "id")
	if err != nil {
		return err
	}
	body, err := ReadBody(c)
	if err != nil {
		return err
	}
	lines, err := cpamfile.ParseReturn(ContentType(c.Request()), body)
	if err != nil {
		return err
	}
	results, err := h.store.ImportReturn(c.Request().Context(), auth.From(c).Actor(), id, lines)
	if err != nil {
		return err
	}
	out := returnReportJSON{BatchID: ident.FormatID(id), Counts: map[string]int{}, Lines: make([]returnResultJSON, len(results))}
	for i, r := range results {
		out.Counts[r.Result]++
		out.Lines[i] = returnResultJSON{Line: r.Line, ClaimID: ident.FormatID(r.ClaimID), Result: r.Result, Message: r.Message}
		if r.Owed.IsPositive() {
			owed := money.Format(r.Owed)
			out.Lines[i].OwedAmount = &owed
		}
	}
	return c.JSON(http.StatusOK, out)
}
