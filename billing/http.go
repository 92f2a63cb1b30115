package billing

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
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
	"passd/sepa"
	"passd/settlement"
)

// Routes registers the provider, invoice and payout routes on g, which
// must already authenticate and enforce the API contract (openapi.Guard):
// the contract, not this list, says which roles may call each route.
func (s *Store) Routes(g *echo.Group) {
	g.POST("/providers", s.createProvider)
	g.GET("/providers", s.listProviders)
	g.GET("/providers/:id", s.getProvider)
	g.POST("/invoices", s.createInvoice)
	g.GET("/invoices", s.listInvoices)
	g.GET("/invoices/:id", s.getInvoice)
	g.POST("/invoices/:id/cancel", s.cancelInvoice)
	g.GET("/payouts", s.listPayouts)
	g.GET("/settings", s.getSettings)
	g.PUT("/settings", s.putSettings)
	g.POST("/payout-batches", s.draftPayoutBatch)
	g.GET("/payout-batches", s.listPayoutBatches)
	g.GET("/payout-batches/:id", s.getPayoutBatch)
	g.POST("/payout-batches/:id/submit", s.submitPayoutBatch)
	g.POST("/payout-batches/:id/approve", s.approvePayoutBatch)
	g.POST("/payout-batches/:id/cancel", s.cancelPayoutBatch)
	g.POST("/payout-batches/:id/paid", s.markPayoutBatchPaid)
	g.GET("/payout-batches/:id/sepa.xml", s.sepaFile)
	g.GET("/reports/budget", s.budgetReport)
	g.GET("/statement", s.statement)
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
}

func toProviderJSON(p Provider) providerJSON {
	return providerJSON{ID: ident.FormatID(p.ID), Kind: p.Kind, Name: p.Name, RPPS: nullable(p.RPPS), FINESS: nullable(p.FINESS),
		IBAN: p.IBAN, BIC: p.BIC, CreatedAt: p.CreatedAt.UTC()}
}

type providerRequest struct {
	Kind   api.Value `json:"kind"`
	Name   api.Value `json:"name"`
	RPPS   api.Value `json:"rpps"`
	FINESS api.Value `json:"finess"`
	IBAN   api.Value `json:"iban"`
	BIC    api.Value `json:"bic"`
}

func (r providerRequest) validate() (Provider, error) {
	var p Provider
	var err error
	if p.Kind, err = r.Kind.Enum("kind", ProviderKinds...); err != nil {
		return p, err
	}
	if p.Name, err = r.Name.String("name", 200); err != nil {
		return p, err
	}
	// The name is the creditor of the city's SEPA transfers.
	if sepa.Text(p.Name, 70) == "" {
		return p, fault.Field("name", "name must contain Latin letters or digits: it is written in SEPA transfers")
	}
	rpps, hasRPPS, err := r.RPPS.OptString("rpps", 32)
	if err != nil {
		return p, err
	}
	finess, hasFINESS, err := r.FINESS.OptString("finess", 32)
	if err != nil {
		return p, err
	}
	if !hasRPPS && !hasFINESS {
		return p, fault.Field("rpps", "at least one of rpps (11 digits) or finess (9 characters) is required")
	}
	if hasRPPS {
		if p.RPPS, err = ident.ParseRPPS(rpps); err != nil {
			return p, fault.Field("rpps", "rpps must be 11 digits")
		}
	}
	if hasFINESS {
		if p.FINESS, err = ident.ParseFINESS(finess); err != nil {
			return p, fault.Field("finess", "finess must be 9 characters")
		}
	}
	iban, err := r.IBAN.String("iban", 64)
	if err != nil {
		return p, err
	}
	if p.IBAN, err = ident.ParseIBAN(iban); err != nil {
		return p, fault.Field("iban", "iban is not a valid IBAN: %s", strings.TrimPrefix(err.Error(), "ident: "))
	}
	bic, err := r.BIC.String("bic", 32)
	if err != nil {
		return p, err
	}
	if p.BIC, err = ident.ParseBIC(bic); err != nil {
		return p, fault.Field("bic", "bic is not a valid BIC: %s", strings.TrimPrefix(err.Error(), "ident: "))
	}
	return p, nil
}

// ParseProvider decodes and validates a provider body as POST /providers
// does: the admin's web form builds this body and goes through here.
func ParseProvider(body []byte) (Provider, error) {
	var r providerRequest
	if err := api.DecodeBytes(body, &r); err != nil {
		return Provider{}, err
	}
	return r.validate()
}

func (s *Store) createProvider(c echo.Context) error {
	var req providerRequest
	if err := httpapi.Decode(c, &req); err != nil {
		return err
	}
	p, err := req.validate()
	if err != nil {
		return err
	}
	p, err = s.CreateProvider(c.Request().Context(), auth.From(c).Actor(), p)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, toProviderJSON(p))
}

func (s *Store) listProviders(c echo.Context) error {
	page, err := httpapi.ParsePage(c)
	if err != nil {
		return err
	}
	list, err := s.Providers(c.Request().Context(), page)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, api.NewPage(page, list, func(p Provider) int64 { return p.ID }, toProviderJSON))
}

func (s *Store) getProvider(c echo.Context) error {
	id, err := httpapi.PathID(c, "id")
	if err != nil {
		return err
	}
	p, err := s.Provider(c.Request().Context(), id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toProviderJSON(p))
}

// ---- invoices ----

type lineJSON struct {
	Code      string `json:"code"`
	Label     string `json:"label"`
	Quantity  int    `json:"quantity"`
	UnitPrice string `json:"unit_price"`
	Total     string `json:"total"`
}

type outcomeJSON struct {
	CPAMAmount string `json:"cpam_amount"`
	CityAmount string `json:"city_amount"`
}

type invoiceJSON struct {
	ID                string             `json:"id"`
	ProviderID        string             `json:"provider_id"`
	PatientFileNumber string             `json:"patient_file_number"`
	ExternalRef       string             `json:"external_ref"`
	CareDate          calendar.Date      `json:"care_date"`
	Deadline          calendar.Date      `json:"deadline"`
	Status            InvoiceStatus      `json:"status"`
	Total             string             `json:"total"`
	Lines             []lineJSON         `json:"lines"`
	DecisionReason    *settlement.Reason `json:"decision_reason"`
	Outcome           *outcomeJSON       `json:"outcome"`
	CreatedAt         time.Time          `json:"created_at"`
	DecidedAt         *time.Time         `json:"decided_at"`
}

func toInvoiceJSON(inv Invoice) invoiceJSON {
	out := invoiceJSON{ID: ident.FormatID(inv.ID), ProviderID: ident.FormatID(inv.ProviderID), PatientFileNumber: inv.PatientFileNumber,
		ExternalRef: inv.ExternalRef, CareDate: inv.CareDate, Deadline: inv.Deadline, Status: inv.Status,
		Total: money.Format(inv.Total), Lines: make([]lineJSON, len(inv.Lines)), CreatedAt: inv.CreatedAt.UTC()}
	for i, l := range inv.Lines {
		out.Lines[i] = lineJSON{Code: l.Code, Label: l.Label, Quantity: l.Quantity, UnitPrice: money.Format(l.UnitPrice), Total: money.Format(l.Total())}
	}
	if inv.DecisionReason != "" {
		reason := inv.DecisionReason
		out.DecisionReason = &reason
	}
	if inv.CPAMAmount != nil && inv.CityAmount != nil {
		out.Outcome = &outcomeJSON{CPAMAmount: money.Format(*inv.CPAMAmount), CityAmount: money.Format(*inv.CityAmount)}
	}
	if inv.DecidedAt != nil {
		t := inv.DecidedAt.UTC()
		out.DecidedAt = &t
	}
	return out
}

type invoiceRequest struct {
	PatientFileNumber api.Value `json:"patient_file_number"`
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

// MaxLines bounds an invoice; with quantities ≤ 999 and unit prices
// ≤ 100 000.00 its total always fits NUMERIC(12,2).
const MaxLines = 100

var maxUnitPrice = decimal.RequireFromString("100000.00")

// lineFields names each line and its fields in errors ("lines[2].code"),
// spelt once for all: validating a line would otherwise format its five
// names whether or not one is at fault.
var lineFields = func() (f [MaxLines]struct{ line, code, label, quantity, unitPrice string }) {
	for i := range f {
		line := fmt.Sprintf("lines[%d]", i)
		f[i].line, f[i].code, f[i].label, f[i].quantity, f[i].unitPrice =
			line, line+".code", line+".label", line+".quantity", line+".unit_price"
	}
	return f
}()

func (r invoiceRequest) validate() (NewInvoice, error) {
	var in NewInvoice
	var err error
	if in.PatientFileNumber, err = r.PatientFileNumber.String("patient_file_number", 32); err != nil {
		return in, err
	}
	if in.ExternalRef, err = r.ExternalRef.String("external_ref", 64); err != nil {
		return in, err
	}
	if in.CareDate, err = r.CareDate.Date("care_date"); err != nil {
		return in, err
	}
	lines, err := r.Lines.Array("lines")
	if err != nil {
		return in, err
	}
	if len(lines) == 0 {
		return in, fault.Field("lines", "lines must hold at least one line")
	}
	if len(lines) > MaxLines {
		return in, fault.Field("lines", "an invoice holds at most %d lines", MaxLines)
	}
	in.Lines = make([]Line, 0, len(lines))
	for i, raw := range lines {
		at := &lineFields[i]
		var lr lineRequest
		if err := raw.Object(at.line, &lr); err != nil {
			return in, err
		}
		var l Line
		code, err := lr.Code.String(at.code, 16)
		if err != nil {
			return in, err
		}
		if _, l.Code, err = ident.ParseActCode(code); err != nil {
			return in, fault.Field(at.code, "%s is not a CCAM, NGAP, NABM, LPP or CIP13 code", at.code)
		}
		if l.Label, err = lr.Label.String(at.label, 200); err != nil {
			return in, err
		}
		if l.Quantity, err = lr.Quantity.Int(at.quantity, 1, 999); err != nil {
			return in, err
		}
		if l.UnitPrice, err = lr.UnitPrice.Amount(at.unitPrice); err != nil {
			return in, err
		}
		if l.UnitPrice.GreaterThan(maxUnitPrice) {
			return in, fault.Field(at.unitPrice, "%s is above %s", at.unitPrice, money.Format(maxUnitPrice))
		}
		in.Lines = append(in.Lines, l)
	}
	return in, nil
}

// ParseInvoice decodes and validates an invoice body as POST /invoices
// does (the same JSON, the same rules, the same field names in errors):
// the web form builds this body from its fields and goes through here, so
// the rules live in one place.
func ParseInvoice(body []byte) (NewInvoice, error) {
	var r invoiceRequest
	if err := api.DecodeBytes(body, &r); err != nil {
		return NewInvoice{}, err
	}
	return r.validate()
}

// idempotencyKeyHeader lets a client retry POST /invoices safely.
const idempotencyKeyHeader = "Idempotency-Key"

func (s *Store) createInvoice(c echo.Context) error {
	req := c.Request()
	var r invoiceRequest
	body, err := httpapi.DecodeRaw(c, &r)
	if err != nil {
		return err
	}
	in, err := r.validate()
	if err != nil {
		return err
	}
	p := auth.From(c)
	var idem *Idempotency
	if key := req.Header.Get(idempotencyKeyHeader); key != "" {
		if !validIdempotencyKey(key) {
			return fault.Field(idempotencyKeyHeader, "Idempotency-Key must be 1 to 200 printable ASCII characters")
		}
		sum := sha256.Sum256(body)
		idem = &Idempotency{UserID: p.UserID, Key: key, Hash: sum[:]}
	}
	resp, err := s.CreateInvoice(req.Context(), p.Actor(), p.ProviderID, in, idem, func(inv Invoice) (Response, error) {
		b, err := json.Marshal(toInvoiceJSON(inv))
		return Response{Status: http.StatusCreated, Body: b}, err
	})
	if err != nil {
		return err
	}
	return c.JSONBlob(resp.Status, resp.Body)
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

func (s *Store) listInvoices(c echo.Context) error {
	page, err := httpapi.ParsePage(c)
	if err != nil {
		return err
	}
	f := InvoiceFilter{ProviderID: visibleTo(auth.From(c))}
	if f.Status, err = httpapi.QueryEnum(c, "status", Statuses); err != nil {
		return err
	}
	list, err := s.Invoices(c.Request().Context(), f, page)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, api.NewPage(page, list, func(inv Invoice) int64 { return inv.ID }, toInvoiceJSON))
}

func (s *Store) getInvoice(c echo.Context) error {
	id, err := httpapi.PathID(c, "id")
	if err != nil {
		return err
	}
	inv, err := s.Invoice(c.Request().Context(), id, visibleTo(auth.From(c)))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toInvoiceJSON(inv))
}

func (s *Store) cancelInvoice(c echo.Context) error {
	id, err := httpapi.PathID(c, "id")
	if err != nil {
		return err
	}
	// The body is optional; when given it must be an empty JSON object.
	if err := httpapi.DecodeOptional(c, nil); err != nil {
		return err
	}
	p := auth.From(c)
	reason := settlement.Voided
	if p.Role == auth.Provider {
		reason = settlement.Withdrawn
	}
	inv, err := s.Cancel(c.Request().Context(), p.Actor(), id, visibleTo(p), reason)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toInvoiceJSON(inv))
}

// ---- payouts ----
