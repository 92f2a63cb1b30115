package httpapi

import (
	"crypto/sha256"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"passd/api"
	"passd/auth"
	"passd/billing"
	"passd/calendar"
	"passd/fault"
	"passd/ident"
	"passd/money"
	"passd/settlement"
)

// billingHandlers serve the JSON routes of billing.
type billingHandlers struct{ s *billing.Store }

// BillingRoutes registers the provider, invoice, payout, settings and
// report routes on g, which must already authenticate and enforce the API
// contract (openapi.Guard): the contract, not this list, says which roles
// may call each route.
func BillingRoutes(g *echo.Group, s *billing.Store) {
	h := billingHandlers{s}
	g.POST("/providers", h.createProvider)
	g.GET("/providers", h.listProviders)
	g.GET("/providers/:id", h.getProvider)
	g.POST("/invoices", h.createInvoice)
	g.GET("/invoices", h.listInvoices)
	g.GET("/invoices/:id", h.getInvoice)
	g.POST("/invoices/:id/cancel", h.cancelInvoice)
	g.GET("/payouts", h.listPayouts)
	g.GET("/settings", h.getSettings)
	g.PUT("/settings", h.putSettings)
	g.POST("/payout-batches", h.draftPayoutBatch)
	g.GET("/payout-batches", h.listPayoutBatches)
	g.GET("/payout-batches/:id", h.getPayoutBatch)
	g.POST("/payout-batches/:id/submit", h.submitPayoutBatch)
	g.POST("/payout-batches/:id/approve", h.approvePayoutBatch)
	g.POST("/payout-batches/:id/cancel", h.cancelPayoutBatch)
	g.POST("/payout-batches/:id/paid", h.markPayoutBatchPaid)
	g.GET("/payout-batches/:id/sepa.xml", h.sepaFile)
	g.GET("/recoveries", h.listRecoveries)
	g.GET("/cpam-refunds", h.listCPAMRefunds)
	g.GET("/reports/budget", h.budgetReport)
	g.GET("/statement", h.statement)
	fourEyesRoutes(g, h)
}

// ---- providers ----

type providerJSON struct {
	ID        string    `json:"id"`
	Kind      string    `json:"kind"`
	Name      string    `json:"name"`
	RPPS      *string   `json:"rpps"`
	FINESS    *string   `json:"finess"`
	IBAN      string    `json:"iban"`
	BIC       string    `json:"bic"`
	CreatedAt time.Time `json:"created_at"`
	// BankConfirmed: a finance user confirmed its bank details; until then
	// no payout to it is batched.
	BankConfirmed bool `json:"bank_confirmed"`
}

func toProviderJSON(p billing.Provider) providerJSON {
	return providerJSON{ID: ident.FormatID(p.ID), Kind: p.Kind, Name: p.Name, RPPS: nullable(p.RPPS), FINESS: nullable(p.FINESS),
		IBAN: p.IBAN, BIC: p.BIC, CreatedAt: p.CreatedAt.UTC(), BankConfirmed: p.BankConfirmed}
}

// providerRequest is the body of POST /providers.
type providerRequest struct {
	Kind   api.Value `json:"kind"`
	Name   api.Value `json:"name"`
	RPPS   api.Value `json:"rpps"`
	FINESS api.Value `json:"finess"`
	IBAN   api.Value `json:"iban"`
	BIC    api.Value `json:"bic"`
}

// provider turns the body into a provider and checks it.
func (r providerRequest) provider() (billing.Provider, error) {
	var v valueReader
	p := billing.Provider{Kind: v.text(r.Kind, "kind"), Name: v.text(r.Name, "name"), RPPS: v.text(r.RPPS, "rpps"),
		FINESS: v.text(r.FINESS, "finess"), IBAN: v.text(r.IBAN, "iban"), BIC: v.text(r.BIC, "bic")}
	if v.err != nil {
		return p, v.err
	}
	return p, p.Validate()
}

func (h billingHandlers) createProvider(c echo.Context) error {
	p, err := decodeBody(c, providerRequest.provider)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	if p, err = h.s.CreateProvider(ctx, auth.From(c).Actor(), p); err != nil {
		return err
	}
	// Its details wait for a finance user's confirmation: the answer says
	// which change to confirm.
	pending, err := h.s.PendingBankChange(ctx, p.ID)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, providerPatchJSON{toProviderJSON(p), optBankChange(pending)})
}

func (h billingHandlers) listProviders(c echo.Context) error {
	page, err := ParsePage(c)
	if err != nil {
		return err
	}
	list, err := h.s.Providers(c.Request().Context(), page)
	return answerPage(c, page, list, err, func(p billing.Provider) int64 { return p.ID }, toProviderJSON)
}

func (h billingHandlers) getProvider(c echo.Context) error {
	return answerByID(c, h.s.Provider, toProviderJSON)
}

// ---- invoices ----

type lineJSON struct {
	Code      string `json:"code"`
	Label     string `json:"label"`
	Quantity  int    `json:"quantity"`
	UnitPrice string `json:"unit_price"`
	Total     string `json:"total"`
	RateClass string `json:"rate_class"`
}

type outcomeJSON struct {
	CPAMAmount string `json:"cpam_amount"`
	CityAmount string `json:"city_amount"`
}

// invoiceJSON is an invoice as the staff see it: with why it was decided.
type invoiceJSON struct {
	providerInvoiceJSON
	DecisionReason *settlement.Reason `json:"decision_reason"`
	Timeline       []pastOutcomeJSON  `json:"timeline,omitempty"`
}

// providerInvoiceJSON is an invoice as its provider sees it
// (billing.Invoice.ForProvider): its amounts and where it stands, no
// member that tells the patient's rights.
type providerInvoiceJSON struct {
	ID                string                 `json:"id"`
	ProviderID        string                 `json:"provider_id"`
	PatientFileNumber string                 `json:"patient_file_number"`
	ExternalRef       string                 `json:"external_ref"`
	CareDate          calendar.Date          `json:"care_date"`
	Deadline          calendar.Date          `json:"deadline"`
	Status            billing.InvoiceStatus  `json:"status"`
	Total             string                 `json:"total"`
	Lines             []lineJSON             `json:"lines"`
	Outcome           *outcomeJSON           `json:"outcome"`
	CreatedAt         time.Time              `json:"created_at"`
	DecidedAt         *time.Time             `json:"decided_at"`
	OutcomeNo         int                    `json:"outcome_no"`
	ReviewStatus      *string                `json:"review_status"`
	ReviewReasons     []billing.ReviewReason `json:"review_reasons,omitempty"`
	Timeline          []providerOutcomeJSON  `json:"timeline,omitempty"`
}

// pastOutcomeJSON is an outcome of an invoice's timeline, with its reason
// and cause; providerOutcomeJSON the same without them.
type pastOutcomeJSON struct {
	providerOutcomeJSON
	Reason settlement.Reason `json:"decision_reason"`
	Cause  *string           `json:"cause"`
}

type providerOutcomeJSON struct {
	No         int                   `json:"outcome_no"`
	Status     billing.InvoiceStatus `json:"status"`
	CPAMAmount string                `json:"cpam_amount"`
	CityAmount string                `json:"city_amount"`
	DecidedAt  time.Time             `json:"decided_at"`
	ReplacedAt *time.Time            `json:"replaced_at"`
	Current    bool                  `json:"current"`
}

func toInvoiceJSON(inv billing.Invoice) invoiceJSON {
	out := invoiceJSON{providerInvoiceJSON: toProviderInvoiceJSON(inv), DecisionReason: nullable(inv.DecisionReason)}
	for i, o := range inv.Timeline {
		out.Timeline = append(out.Timeline, pastOutcomeJSON{providerOutcomeJSON: out.providerInvoiceJSON.Timeline[i], Reason: o.Reason,
			Cause: nullable(o.Cause)})
	}
	out.providerInvoiceJSON.Timeline = nil
	return out
}

// toProviderInvoiceJSON writes inv's members that its provider sees;
// the caller passes inv.ForProvider() when it answers a provider.
func toProviderInvoiceJSON(inv billing.Invoice) providerInvoiceJSON {
	out := providerInvoiceJSON{ID: ident.FormatID(inv.ID), ProviderID: ident.FormatID(inv.ProviderID), PatientFileNumber: inv.PatientFileNumber,
		ExternalRef: inv.ExternalRef, CareDate: inv.CareDate, Deadline: inv.Deadline, Status: inv.Status,
		Total: money.Format(inv.Total), Lines: make([]lineJSON, len(inv.Lines)),
		CreatedAt: inv.CreatedAt.UTC(), DecidedAt: utc(inv.DecidedAt), OutcomeNo: inv.OutcomeNo,
		ReviewStatus: nullable(inv.ReviewStatus), ReviewReasons: inv.ReviewReasons}
	for _, o := range inv.Timeline {
		out.Timeline = append(out.Timeline, providerOutcomeJSON{No: o.No, Status: o.Status, CPAMAmount: money.Format(o.CPAMAmount),
			CityAmount: money.Format(o.CityAmount), DecidedAt: o.DecidedAt.UTC(), ReplacedAt: utc(o.ReplacedAt), Current: o.Current})
	}
	for i, l := range inv.Lines {
		out.Lines[i] = lineJSON{Code: l.Code, Label: l.Label, Quantity: l.Quantity, UnitPrice: money.Format(l.UnitPrice), Total: money.Format(l.Total()),
			RateClass: string(l.RateClass)}
	}
	if inv.CPAMAmount != nil && inv.CityAmount != nil {
		out.Outcome = &outcomeJSON{CPAMAmount: money.Format(*inv.CPAMAmount), CityAmount: money.Format(*inv.CityAmount)}
	}
	return out
}

// invoiceView is how the caller sees an invoice: a provider without what
// tells the patient's rights (issue 15 §4), the other roles whole.
func invoiceView(p auth.Principal) func(billing.Invoice) any {
	if p.Role == auth.Provider {
		return func(inv billing.Invoice) any { return toProviderInvoiceJSON(inv.ForProvider()) }
	}
	return func(inv billing.Invoice) any { return toInvoiceJSON(inv) }
}

type invoiceRequest struct {
	PatientFileNumber api.Value `json:"patient_file_number"`
	BirthDate         api.Value `json:"birth_date"`
	ExternalRef       api.Value `json:"external_ref"`
	CareDate          api.Value `json:"care_date"`
	Lines             api.Value `json:"lines"`
}

type lineRequest struct {
	Code      api.Value `json:"code"`
	Label     api.Value `json:"label"`
	Quantity  api.Value `json:"quantity"`
	UnitPrice api.Value `json:"unit_price"`
}

// invoice turns the body into a submission, naming any member of the
// wrong JSON type; billing checks the rest (NewInvoice.Validate, which
// CreateInvoice calls).
func (r invoiceRequest) invoice() (billing.NewInvoice, error) {
	var v valueReader
	in := billing.NewInvoice{PatientFileNumber: v.text(r.PatientFileNumber, "patient_file_number"),
		BirthDate: v.date(r.BirthDate, "birth_date"), ExternalRef: v.text(r.ExternalRef, "external_ref"),
		CareDate: v.date(r.CareDate, "care_date")}
	if v.err != nil {
		return in, v.err
	}
	lines, err := r.Lines.Array("lines")
	if err != nil {
		return in, err
	}
	in.Lines = make([]billing.Line, len(lines))
	for i, raw := range lines {
		if in.Lines[i], err = readLine(raw, billing.LineFields(i)); err != nil {
			return in, err
		}
	}
	return in, nil
}

// readLine reads line i of a body, whose fields are named at.
func readLine(raw api.Value, at billing.LineField) (billing.Line, error) {
	var lr lineRequest
	if err := raw.Object(at.Line, &lr); err != nil {
		return billing.Line{}, err
	}
	var v valueReader
	l := billing.Line{Code: v.text(lr.Code, at.Code), Label: v.text(lr.Label, at.Label),
		Quantity: v.integer(lr.Quantity, at.Quantity), UnitPrice: v.amount(lr.UnitPrice, at.UnitPrice)}
	return l, v.err
}

// idempotencyKeyHeader lets a client retry POST /invoices safely.
const idempotencyKeyHeader = "Idempotency-Key"

// createInvoice holds a submission. With an Idempotency-Key, billing keeps
// the created invoice beside the key in the same transaction; a retry with
// the same body gets that invoice back and the same answer, written again
// from it.
func (h billingHandlers) createInvoice(c echo.Context) error {
	req := c.Request()
	var r invoiceRequest
	body, err := DecodeRaw(c, &r)
	if err != nil {
		return err
	}
	in, err := r.invoice()
	if err != nil {
		return err
	}
	p := auth.From(c)
	var inv billing.Invoice
	if key := req.Header.Get(idempotencyKeyHeader); key != "" {
		if !validIdempotencyKey(key) {
			return fault.Field(idempotencyKeyHeader, "Idempotency-Key must be 1 to 200 printable ASCII characters")
		}
		sum := sha256.Sum256(body)
		inv, _, err = h.s.CreateInvoiceOnce(req.Context(), p.Actor(), p.ProviderID, in,
			billing.Idempotency{UserID: p.UserID, Key: key, Hash: sum[:]})
	} else {
		inv, err = h.s.CreateInvoice(req.Context(), p.Actor(), p.ProviderID, in)
	}
	return answerJSON(c, http.StatusCreated, inv, err, invoiceView(p))
}

func validIdempotencyKey(key string) bool {
	if len(key) > 200 {
		return false
	}
	for i := 0; i < len(key); i++ {
		if key[i] < 0x21 || key[i] > 0x7e {
			return false
		}
	}
	return true
}

// visibleTo returns the provider a caller is restricted to (0: none).
func visibleTo(p auth.Principal) int64 {
	if p.Role == auth.Provider {
		return p.ProviderID
	}
	return 0
}

func (h billingHandlers) listInvoices(c echo.Context) error {
	page, err := ParsePage(c)
	if err != nil {
		return err
	}
	p := auth.From(c)
	f := billing.InvoiceFilter{ProviderID: visibleTo(p)}
	if f.Status, err = QueryEnum(c, "status", billing.Statuses); err != nil {
		return err
	}
	review, err := QueryEnum(c, "review", []string{billing.ReviewFlagged})
	if err != nil {
		return err
	}
	f.Flagged = review == billing.ReviewFlagged
	list, err := h.s.Invoices(c.Request().Context(), f, page)
	return answerPage(c, page, list, err, func(inv billing.Invoice) int64 { return inv.ID }, invoiceView(p))
}

func (h billingHandlers) getInvoice(c echo.Context) error {
	id, err := PathID(c, "id")
	if err != nil {
		return err
	}
	p := auth.From(c)
	inv, err := h.s.Invoice(c.Request().Context(), id, visibleTo(p))
	return answerJSON(c, http.StatusOK, inv, err, invoiceView(p))
}

func (h billingHandlers) cancelInvoice(c echo.Context) error {
	id, err := PathID(c, "id")
	if err != nil {
		return err
	}
	// The body is optional; when given it must be an empty JSON object.
	if err := DecodeOptional(c, nil); err != nil {
		return err
	}
	p := auth.From(c)
	reason := settlement.Voided
	if p.Role == auth.Provider {
		reason = settlement.Withdrawn
	}
	inv, err := h.s.Cancel(c.Request().Context(), p.Actor(), id, visibleTo(p), reason)
	return answerJSON(c, http.StatusOK, inv, err, invoiceView(p))
}
