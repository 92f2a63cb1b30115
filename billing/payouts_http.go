package billing

import (
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/shopspring/decimal"

	"passd/api"
	"passd/auth"
	"passd/calendar"
	"passd/fault"
	"passd/httpapi"
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
	Reason     settlement.Reason       `json:"reason"`
	Note       *string                 `json:"cpam_reason"`
	Status     settlement.PayoutStatus `json:"status"`
	BatchID    *string                 `json:"batch_id"`
	PaidOn     *calendar.Date          `json:"paid_on"`
	CreatedAt  time.Time               `json:"created_at"`
}

func optID(id int64) *string {
	if id == 0 {
		return nil
	}
	s := ident.FormatID(id)
	return &s
}

func optDate(d calendar.Date) *calendar.Date {
	if d.IsZero() {
		return nil
	}
	return &d
}

func toPayoutJSON(p Payout) payoutJSON {
	return payoutJSON{ID: ident.FormatID(p.ID), InvoiceID: ident.FormatID(p.InvoiceID), ProviderID: ident.FormatID(p.ProviderID),
		ClaimID: optID(p.ClaimID), Amount: money.Format(p.Amount), Reason: p.Reason, Note: nullable(p.Note), Status: p.Status,
		BatchID: optID(p.BatchID), PaidOn: optDate(p.PaidOn), CreatedAt: p.CreatedAt.UTC()}
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

func (s *Store) listPayouts(c echo.Context) error {
	p := auth.From(c)
	f := PayoutFilter{ProviderID: visibleTo(p)}
	var err error
	if f.Status, err = httpapi.QueryEnum(c, "status", settlement.PayoutStatuses); err != nil {
		return err
	}
	if f.BatchID, err = queryID(c, "batch_id"); err != nil {
		return err
	}
	if p.Role != auth.Provider {
		if f.ProviderID, err = queryID(c, "provider_id"); err != nil {
			return err
		}
	}
	csv, err := wantCSV(c)
	if err != nil {
		return err
	}
	if csv {
		return httpapi.Stream(c, "text/csv; charset=utf-8", "paiements-pass.csv", func(w io.Writer) error {
			return s.PayoutsCSV(c.Request().Context(), f, w)
		})
	}
	page, err := httpapi.ParsePage(c)
	if err != nil {
		return err
	}
	list, err := s.Payouts(c.Request().Context(), f, page)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, api.NewPage(page, list, func(p Payout) int64 { return p.ID }, toPayoutJSON))
}

// ---- payout batches ----

type batchProviderJSON struct {
	ProviderID  string `json:"provider_id"`
	Name        string `json:"name"`
	PayoutCount int    `json:"payout_count"`
	Amount      string `json:"amount"`
}

type payoutBatchJSON struct {
	ID             string              `json:"id"`
	Status         BatchStatus         `json:"status"`
	ProviderID     *string             `json:"provider_id"`
	PayoutCount    int                 `json:"payout_count"`
	Total          string              `json:"total"`
	Ceiling        string              `json:"ceiling"`
	CreatedAt      time.Time           `json:"created_at"`
	CreatedBy      string              `json:"created_by"`
	SubmittedAt    *time.Time          `json:"submitted_at"`
	PreparedBy     *string             `json:"prepared_by"`
	ApprovedAt     *time.Time          `json:"approved_at"`
	ApprovedBy     *string             `json:"approved_by"`
	BudgetOverride bool                `json:"budget_override"`
	PaidOn         *calendar.Date      `json:"paid_on"`
	CancelledAt    *time.Time          `json:"cancelled_at"`
	Providers      []batchProviderJSON `json:"providers,omitempty"`
}

func utc(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

func toPayoutBatchJSON(b PayoutBatch) payoutBatchJSON {
	out := payoutBatchJSON{ID: ident.FormatID(b.ID), Status: b.Status, ProviderID: optID(b.ProviderID), PayoutCount: b.PayoutCount,
		Total: money.Format(b.Total), Ceiling: money.Format(b.Ceiling), CreatedAt: b.CreatedAt.UTC(), CreatedBy: b.Creator,
		SubmittedAt: utc(b.SubmittedAt), PreparedBy: nullable(b.PreparedBy), ApprovedAt: utc(b.ApprovedAt), ApprovedBy: nullable(b.ApprovedBy),
		BudgetOverride: b.BudgetOverride, PaidOn: optDate(b.PaidOn), CancelledAt: utc(b.CancelledAt)}
	for _, p := range b.Providers {
		out.Providers = append(out.Providers, batchProviderJSON{ProviderID: ident.FormatID(p.ProviderID), Name: p.Name,
			PayoutCount: p.PayoutCount, Amount: money.Format(p.Amount)})
	}
	return out
}

type draftRequest struct {
	ProviderID api.Value `json:"provider_id"`
}

func (s *Store) draftPayoutBatch(c echo.Context) error {
	var req draftRequest
	if err := httpapi.DecodeOptional(c, &req); err != nil {
		return err
	}
	providerID, err := req.validate()
	if err != nil {
		return err
	}
	b, ok, err := s.DraftPayoutBatch(c.Request().Context(), auth.From(c).Actor(), providerID)
	if err != nil {
		return err
	}
	if !ok {
		return fault.New(fault.Conflict, "no due payout can be batched: none is due under the régie's ceiling, or another draft is taking them right now").WithKind(fault.KindNothingToBatch)
	}
	return c.JSON(http.StatusCreated, toPayoutBatchJSON(b))
}

func (s *Store) listPayoutBatches(c echo.Context) error {
	status, err := httpapi.QueryEnum(c, "status", BatchStatuses)
	if err != nil {
		return err
	}
	csv, err := wantCSV(c)
	if err != nil {
		return err
	}
	if csv {
		return httpapi.Stream(c, "text/csv; charset=utf-8", "lots-de-paiement-pass.csv", func(w io.Writer) error {
			return s.PayoutBatchesCSV(c.Request().Context(), status, w)
		})
	}
	page, err := httpapi.ParsePage(c)
	if err != nil {
		return err
	}
	list, err := s.PayoutBatches(c.Request().Context(), status, page)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, api.NewPage(page, list, func(b PayoutBatch) int64 { return b.ID }, toPayoutBatchJSON))
}

func (s *Store) getPayoutBatch(c echo.Context) error {
	id, err := httpapi.PathID(c, "id")
	if err != nil {
		return err
	}
	b, err := s.PayoutBatch(c.Request().Context(), id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toPayoutBatchJSON(b))
}

func (s *Store) submitPayoutBatch(c echo.Context) error {
	id, err := httpapi.PathID(c, "id")
	if err != nil {
		return err
	}
	if err := httpapi.DecodeOptional(c, nil); err != nil {
		return err
	}
	b, err := s.SubmitPayoutBatch(c.Request().Context(), auth.From(c).Actor(), id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toPayoutBatchJSON(b))
}

type approveRequest struct {
	Override api.Value `json:"override"`
}

func (s *Store) approvePayoutBatch(c echo.Context) error {
	id, err := httpapi.PathID(c, "id")
	if err != nil {
		return err
	}
	var req approveRequest
	if err := httpapi.DecodeOptional(c, &req); err != nil {
		return err
	}
	override, err := req.validate()
	if err != nil {
		return err
	}
	p := auth.From(c)
	b, err := s.ApprovePayoutBatch(c.Request().Context(), Approval{Actor: p.Actor(), IsAdmin: p.Role == auth.Admin, Override: override}, id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toPayoutBatchJSON(b))
}

func (s *Store) cancelPayoutBatch(c echo.Context) error {
	id, err := httpapi.PathID(c, "id")
	if err != nil {
		return err
	}
	if err := httpapi.DecodeOptional(c, nil); err != nil {
		return err
	}
	b, err := s.CancelPayoutBatch(c.Request().Context(), auth.From(c).Actor(), id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toPayoutBatchJSON(b))
}

type paidRequest struct {
	PaidOn api.Value `json:"paid_on"`
}

func (s *Store) markPayoutBatchPaid(c echo.Context) error {
	id, err := httpapi.PathID(c, "id")
	if err != nil {
		return err
	}
	var req paidRequest
	if err := httpapi.Decode(c, &req); err != nil {
		return err
	}
	paidOn, err := req.validate()
	if err != nil {
		return err
	}
	b, err := s.MarkPayoutBatchPaid(c.Request().Context(), auth.From(c).Actor(), id, paidOn)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toPayoutBatchJSON(b))
}

func (s *Store) sepaFile(c echo.Context) error {
	id, err := httpapi.PathID(c, "id")
	if err != nil {
		return err
	}
	if _, err := s.CheckSEPA(c.Request().Context(), id); err != nil {
		return err
	}
	return httpapi.Stream(c, "application/xml", fmt.Sprintf("passd-virements-lot-%d.xml", id), func(w io.Writer) error {
		return s.WriteSEPA(c.Request().Context(), id, w)
	})
}

// ---- reports ----

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
	ByProviderKind []budgetLineJSON `json:"by_provider_kind"`
	ByMonth        []budgetLineJSON `json:"by_month"`
}

func toBudgetLines(lines []BudgetLine) []budgetLineJSON {
	out := make([]budgetLineJSON, len(lines))
	for i, l := range lines {
		out[i] = budgetLineJSON{Key: l.Key, Committed: money.Format(l.Committed), Paid: money.Format(l.Paid)}
	}
	return out
}

func (s *Store) budgetReport(c echo.Context) error {
	year := calendar.Today(s.now()).Year()
	if raw := c.QueryParam("year"); raw != "" {
		y, err := strconv.Atoi(raw)
		if err != nil || y < 2000 || y > 2100 || strconv.Itoa(y) != raw {
			return fault.Field("year", "year must be a year like %d", year)
		}
		year = y
	}
	b, err := s.BudgetReport(c.Request().Context(), year)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, budgetJSON{Year: b.Year, Budget: money.Format(b.Budget), Committed: money.Format(b.Committed),
		Paid: money.Format(b.Paid), Remaining: money.Format(b.Remaining), ByProviderKind: toBudgetLines(b.ByKind), ByMonth: toBudgetLines(b.ByMonth)})
}

type statementPayoutJSON struct {
	ID         string                  `json:"id"`
	Amount     string                  `json:"amount"`
	Reason     settlement.Reason       `json:"reason"`
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
	Status            InvoiceStatus         `json:"status"`
	DecisionReason    *settlement.Reason    `json:"decision_reason"`
	CPAMAmount        *string               `json:"cpam_amount"`
	CityAmount        *string               `json:"city_amount"`
	Claim             *statementClaimJSON   `json:"claim"`
	Payouts           []statementPayoutJSON `json:"payouts"`
}

// optAmount formats an amount that may be absent.
func optAmount(d *decimal.Decimal) *string {
	if d == nil {
		return nil
	}
	s := money.Format(*d)
	return &s
}

func toStatementLineJSON(l StatementLine) statementLineJSON {
	inv := l.Invoice
	out := statementLineJSON{InvoiceID: ident.FormatID(inv.ID), ExternalRef: inv.ExternalRef, PatientFileNumber: inv.PatientFileNumber,
		CareDate: inv.CareDate, Deadline: inv.Deadline, Total: money.Format(inv.Total), Status: inv.Status,
		DecisionReason: nullable(inv.DecisionReason), Payouts: []statementPayoutJSON{}}
	out.CPAMAmount, out.CityAmount = optAmount(inv.CPAMAmount), optAmount(inv.CityAmount)
	if l.ClaimID != 0 {
		out.Claim = &statementClaimJSON{ID: ident.FormatID(l.ClaimID), Amount: money.Format(*l.ClaimAmount), Status: l.ClaimStatus,
			PaidOn: optDate(l.ClaimPaidOn), RejectionReason: nullable(l.ClaimRejection)}
		out.Claim.PaidAmount = optAmount(l.ClaimPaidAmount)
	}
	for _, p := range l.Payouts {
		out.Payouts = append(out.Payouts, statementPayoutJSON{ID: ident.FormatID(p.ID), Amount: money.Format(p.Amount), Reason: p.Reason,
			CPAMReason: nullable(p.Note), Status: p.Status, PaidOn: optDate(p.PaidOn)})
	}
	return out
}

func (s *Store) statement(c echo.Context) error {
	p := auth.From(c)
	from, to, err := StatementPeriod(calendar.Today(s.now()), c.QueryParam("from"), c.QueryParam("to"))
	if err != nil {
		return err
	}
	csv, err := wantCSV(c)
	if err != nil {
		return err
	}
	lines, err := s.Statement(c.Request().Context(), p.ProviderID, from, to)
	if err != nil {
		return err
	}
	if csv {
		return httpapi.Stream(c, "text/csv; charset=utf-8", StatementFileName(from, to), func(w io.Writer) error { return WriteStatementCSV(w, lines) })
	}
	items := make([]statementLineJSON, len(lines))
	for i, l := range lines {
		items[i] = toStatementLineJSON(l)
	}
	return c.JSON(http.StatusOK, map[string]any{"from": from, "to": to, "items": items})
}
